package server

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// minSecretKey is the shortest secret_key accepted, in bytes.
const minSecretKey = 32

var errSecretKey = errors.New("want at least 32 random bytes, hex or base64 encoded (openssl rand -hex 32)")

// decodeSecretKey reads secret_key: hex when the text is hex digits only
// (a random base64 key never is), otherwise standard or URL-safe base64
// with or without padding. Errors never repeat the value.
func decodeSecretKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if strings.Trim(text, "0123456789abcdefABCDEF") == "" {
		b, err := hex.DecodeString(text)
		if err != nil || len(b) < minSecretKey {
			return nil, errSecretKey
		}
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) >= minSecretKey {
			return b, nil
		}
	}
	return nil, errSecretKey
}

// secretKeyWarning is logged once at start on the production backend when
// no secret_key is configured.
const secretKeyWarning = "secret_key is not set: the OpenID provider signs room cookies and encrypts codes with a key generated once and stored in PostgreSQL (oidc_settings), so whoever reads the database can forge them; setting WAITROOM_SECRET_KEY (32+ random bytes, hex or base64: openssl rand -hex 32) is safer"
