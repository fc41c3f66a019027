// Package verify checks waitroom admissions in a website's own Go code: the
// gate's admission cookie and the AWS-style access token of
// /generate_token are the same signed JWT (ES256 or RS256), verified with
// the public keys waitroom publishes (its JWKS, at <issuer>/keys).
//
// It uses the standard library only, so that a site adds no dependency:
//
//	keys := verify.NewJWKS("https://queue.example.com/keys", nil)
//	v := &verify.Verifier{Issuer: "https://queue.example.com", Room: "launch", Keys: keys}
//	http.Handle("/checkout/", v.Middleware(checkout, sendToRoom))
//
// A verified token is remembered until it expires, so a visitor's later
// requests cost a map lookup, not a signature check. Keys are fetched once
// and again when a token names a key not seen before (waitroom rotated its
// keys), at most once per MinRefresh.
package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"time"
)

// Claims are an admission's claims: an AWS-style access token's.
type Claims struct {
	Issuer string `json:"iss"`
	// Room is the room id (the token's audience, the AWS event_id).
	Room string `json:"aud"`
	// Subject is the admitted ticket's request id.
	Subject   string `json:"sub"`
	Position  int64  `json:"queue_position"`
	TokenUse  string `json:"token_use"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	Expires   int64  `json:"exp"`
}

// KeySet finds the public key a token names.
type KeySet interface {
	Key(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// Errors of Verify. Every refusal wraps ErrInvalid; a KeySet failure (the
// JWKS could not be fetched) is returned as it is.
var (
	ErrInvalid    = errors.New("verify: invalid admission token")
	ErrExpired    = wrap("expired")
	ErrUnknownKey = wrap("unknown signing key")
)

func wrap(what string) error { return &refusal{what} }

type refusal struct{ what string }

func (r *refusal) Error() string        { return "verify: admission token " + r.what }
func (r *refusal) Is(target error) bool { return target == ErrInvalid }

// maxToken bounds what is parsed: an admission token is about 400 bytes.
const maxToken = 4096

// Verifier verifies admissions to one room.
type Verifier struct {
	// Issuer is waitroom's issuer URL, as in its tokens' iss claim.
	Issuer string
	// Room is the room whose admissions are accepted.
	Room string
	Keys KeySet
	// Leeway tolerates clock skew on exp and nbf (none when zero).
	Leeway time.Duration
	// Clock is time.Now when nil.
	Clock func() time.Time

	once  sync.Once
	cache *verifiedCache
}

// Verify checks the token's signature, issuer, audience (the room), use
// ("access") and validity period, and returns its claims.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	v.once.Do(func() { v.cache = newVerifiedCache(verifiedPerGeneration) })
	now := v.now()
	if c, ok := v.cache.get(token, now.Add(-v.Leeway).Unix()); ok {
		return c, nil
	}
	c, err := v.verify(ctx, token, now)
	if err != nil {
		return Claims{}, err
	}
	v.cache.add(token, c)
	return c, nil
}

func (v *Verifier) now() time.Time {
	if v.Clock != nil {
		return v.Clock()
	}
	return time.Now()
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

func (v *Verifier) verify(ctx context.Context, token string, now time.Time) (Claims, error) {
	if len(token) > maxToken {
		return Claims{}, wrap("too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, wrap("malformed")
	}
	var h header
	if err := decodeJSON(parts[0], &h); err != nil || h.Kid == "" {
		return Claims{}, wrap("header unreadable")
	}
	key, err := v.Keys.Key(ctx, h.Kid)
	if err != nil {
		return Claims{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return Claims{}, wrap("signature unreadable")
	}
	if err := checkSignature(key, h.Alg, parts[0]+"."+parts[1], sig); err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := decodeJSON(parts[1], &c); err != nil {
		return Claims{}, wrap("claims unreadable")
	}
	return c, v.checkClaims(c, now)
}

func (v *Verifier) checkClaims(c Claims, now time.Time) error {
	switch {
	case c.Issuer != v.Issuer:
		return wrap("from another issuer")
	case c.Room != v.Room:
		return wrap("for another room")
	case c.TokenUse != "access":
		return wrap("not an access token")
	case c.Subject == "":
		return wrap("without subject")
	case now.Add(-v.Leeway).Unix() >= c.Expires:
		return ErrExpired
	case now.Add(v.Leeway).Unix() < c.NotBefore:
		return wrap("not valid yet")
	}
	return nil
}

func checkSignature(key crypto.PublicKey, alg, input string, sig []byte) error {
	digest := sha256.Sum256([]byte(input))
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" || len(sig) != 64 {
			return wrap("signed with another algorithm")
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, digest[:], r, s) {
			return wrap("signature does not match")
		}
	case *rsa.PublicKey:
		if alg != "RS256" {
			return wrap("signed with another algorithm")
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig) != nil {
			return wrap("signature does not match")
		}
	default:
		return wrap("signed with an unsupported key")
	}
	return nil
}

func decodeJSON(part string, dst any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	return dec.Decode(dst)
}

// verifiedPerGeneration bounds the cache: two generations of this many
// tokens (about 500 bytes each).
const verifiedPerGeneration = 20000

// verifiedCache remembers verified tokens until they expire. Two
// generations: when the current one is full it becomes the old one, so
// memory stays bounded and tokens in use survive.
type verifiedCache struct {
	mu       sync.RWMutex
	cur, old map[string]Claims
	max      int
}

func newVerifiedCache(max int) *verifiedCache {
	return &verifiedCache{cur: map[string]Claims{}, old: map[string]Claims{}, max: max}
}

// get returns the claims of a token verified before and still unexpired at
// unix time now.
func (c *verifiedCache) get(token string, now int64) (Claims, bool) {
	c.mu.RLock()
	claims, ok := c.cur[token]
	if !ok {
		claims, ok = c.old[token]
	}
	c.mu.RUnlock()
	return claims, ok && now < claims.Expires
}

func (c *verifiedCache) add(token string, claims Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[string]Claims, c.max)
	}
	c.cur[token] = claims
}
