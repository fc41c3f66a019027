package oidc

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// keyring holds the keys derived from the server's secret key, one per
// purpose, so that a value made for one purpose (a cookie) can never be
// replayed as another (a client secret hash).
type keyring struct {
	secrets []byte   // client secret hashes
	cookies []byte   // cookie signatures
	subject []byte   // sub derivation
	tokens  []byte   // code and refresh-token hashes (store keys)
	crypto  [32]byte // opaque access-token encryption (tokenCrypto)
}

func newKeyring(master []byte) keyring {
	k := keyring{
		secrets: derive(master, "client-secret"),
		cookies: derive(master, "cookie"),
		subject: derive(master, "subject"),
		tokens:  derive(master, "token-id"),
	}
	copy(k.crypto[:], derive(master, "op-crypto"))
	return k
}

func derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("waitroom/oidc/" + purpose))
	return m.Sum(nil)
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

const secretHashPrefix = "hmac-sha256:"

// hashSecret is a keyed hash: fast enough for every token request (unlike
// bcrypt) and useless to whoever reads the store without the server key.
func (k keyring) hashSecret(secret string) string {
	return secretHashPrefix + b64(mac(k.secrets, secret))
}

// checkSecret compares in constant time.
func (k keyring) checkSecret(hash, secret string) bool {
	want := []byte(k.hashSecret(secret))
	return subtle.ConstantTimeCompare(want, []byte(hash)) == 1
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
