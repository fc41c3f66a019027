package waitroom

import (
	"crypto/hmac"
	"crypto/sha256"
)

// DeriveKey derives a 32-byte key for one purpose from the deployment's
// secret (the secret_key setting, or Store.DeploymentSecret), so that a
// value made for one purpose (a cookie signature) can never be replayed as
// another (a client secret hash), every replica derives the same key, and
// the secret itself is never handed to a component.
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("waitroom/oidc/" + purpose))
	return m.Sum(nil)
}
