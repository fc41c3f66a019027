package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// AdminKeys holds the SHA-256 of every accepted admin key; the keys
// themselves are never stored, so a leaked configuration does not leak a
// credential. The admin API and the control panel's sign-in share one.
type AdminKeys [][sha256.Size]byte

// ParseAdminKeys reads hex SHA-256 hashes, reporting every bad one.
func ParseAdminKeys(hashes []string) (AdminKeys, error) {
	var keys AdminKeys
	var bad []string
	for i, h := range hashes {
		raw, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil || len(raw) != sha256.Size {
			bad = append(bad, fmt.Sprintf("#%d", i+1))
			continue
		}
		keys = append(keys, [sha256.Size]byte(raw))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("admin key hashes %s: want 64 hex characters (the SHA-256 of the key)", strings.Join(bad, ", "))
	}
	return keys, nil
}

// HashAdminKey returns the hex SHA-256 of an admin key: the form in which
// keys are configured.
func HashAdminKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Accepts compares the presented key's hash with every configured hash in
// constant time, without stopping at the first match, so timing reveals
// neither which key matched nor how much of a hash did.
func (k AdminKeys) Accepts(presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	match := 0
	for i := range k {
		match |= subtle.ConstantTimeCompare(sum[:], k[i][:])
	}
	return match == 1
}

// bearerToken extracts the credential of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireAdmin lets through only requests with a valid admin key.
func (a *API) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := bearerToken(r)
		if !ok || !a.opts.AdminKeys.Accepts(key) {
			web.Error(w, r, &web.Problem{Status: http.StatusUnauthorized, Code: "unauthorized",
				Message: "a valid admin key is required: Authorization: Bearer <key>",
				Header:  http.Header{"Www-Authenticate": {`Bearer realm="waitroom-admin"`}}})
			return
		}
		next.ServeHTTP(w, r)
	})
}
