package oidc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// keyring holds the keys derived from the server's secret key, one per
// purpose, so that a value made for one purpose (a cookie) can never be
// replayed as another (a client secret hash).
type keyring struct {
	cookies []byte   // cookie signatures
	subject []byte   // sub derivation
	tokens  []byte   // code and refresh-token hashes (store keys)
	crypto  [32]byte // opaque access-token encryption (tokenCrypto)
}

func newKeyring(master []byte) keyring {
	k := keyring{
		cookies: derive(master, "cookie"),
		subject: derive(master, "subject"),
		tokens:  derive(master, "token-id"),
	}
	copy(k.crypto[:], derive(master, "op-crypto"))
	return k
}

func derive(master []byte, purpose string) []byte { return waitroom.DeriveKey(master, purpose) }

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// tokenID names a code or refresh token in a store without storing it.
func (k keyring) tokenID(kind, token string) string {
	return b64(mac(k.tokens, kind, token))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oidc: no randomness: " + err.Error())
	}
	return b64(b)
}
