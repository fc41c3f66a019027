package verify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
)

const issuer = "https://queue.test"

// keyServer publishes a JWKS the test can rotate, and counts fetches.
type keyServer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int64
	srv     *httptest.Server
}

func newKeyServer(t testing.TB) *keyServer {
	ks := &keyServer{}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: ks.keys})
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

// publish replaces the published keys (a rotation retires the old one).
func (ks *keyServer) publish(signers ...*signer) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.keys = nil
	for _, s := range signers {
		ks.keys = append(ks.keys, jose.JSONWebKey{Key: s.key.Public(), KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"})
	}
}

type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func newSigner(t testing.TB, kid string, alg jose.SignatureAlgorithm) *signer {
	var key crypto.Signer
	var err error
	if alg == jose.RS256 {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: alg, key: key}
}

func (s *signer) sign(t testing.TB, c verify.Claims) string {
	opts := (&jose.SignerOptions{}).WithHeader("kid", s.kid).WithType("JWT")
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func claims() verify.Claims {
	return verify.Claims{Issuer: issuer, Room: "launch", Subject: "c1d2", Position: 7, TokenUse: "access",
		IssuedAt: now.Unix(), NotBefore: now.Unix(), Expires: now.Add(time.Hour).Unix()}
}

// started is a key server publishing one ES256 key, its signer, and a
// verifier reading it on a clock the test moves.
func started(t testing.TB) (*keyServer, *signer, *verify.Verifier, *time.Time) {
	ks := newKeyServer(t)
	s := newSigner(t, "k1", jose.ES256)
	ks.publish(s)
	clock := now
	return ks, s, newVerifier(ks, &clock), &clock
}

func newVerifier(ks *keyServer, clock *time.Time) *verify.Verifier {
	jwks := verify.NewJWKS(ks.srv.URL, nil)
	jwks.Clock = func() time.Time { return *clock }
	return &verify.Verifier{Issuer: issuer, Room: "launch", Keys: jwks, Clock: func() time.Time { return *clock }}
}

func TestVerifyAcceptsBothAlgorithms(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			ks := newKeyServer(t)
			s := newSigner(t, "k1", alg)
			ks.publish(s)
			clock := now
			v := newVerifier(ks, &clock)
			got, err := v.Verify(context.Background(), s.sign(t, claims()))
			if err != nil || got != claims() {
				t.Fatalf("Verify = %+v, %v", got, err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	ks := newKeyServer(t)
	s := newSigner(t, "k1", jose.ES256)
	other := newSigner(t, "k1", jose.ES256) // same kid, another key: a forgery
	ks.publish(s)
	change := func(f func(*verify.Claims)) verify.Claims { c := claims(); f(&c); return c }
	cases := map[string]string{
		"another room":        s.sign(t, change(func(c *verify.Claims) { c.Room = "other" })),
		"another issuer":      s.sign(t, change(func(c *verify.Claims) { c.Issuer = "https://evil.test" })),
		"refresh token":       s.sign(t, change(func(c *verify.Claims) { c.TokenUse = "refresh" })),
		"expired":             s.sign(t, change(func(c *verify.Claims) { c.Expires = now.Unix() })),
		"not yet valid":       s.sign(t, change(func(c *verify.Claims) { c.NotBefore = now.Add(time.Minute).Unix() })),
		"forged signature":    other.sign(t, claims()),
		"not a JWT":           "a.b",
		"garbage":             "!!.??.**",
		"payload swapped":     swapPayload(s.sign(t, claims()), s.sign(t, change(func(c *verify.Claims) { c.Room = "other" }))),
		"unknown key":         newSigner(t, "k9", jose.ES256).sign(t, claims()),
		"algorithm confusion": newSigner(t, "k1", jose.RS256).sign(t, claims()),
	}
	clock := now
	v := newVerifier(ks, &clock)
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Verify(context.Background(), token); !errors.Is(err, verify.ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
}

// swapPayload puts b's claims under a's header and signature.
func swapPayload(a, b string) string {
	pa, pb := splitJWT(a), splitJWT(b)
	return pa[0] + "." + pb[1] + "." + pa[2]
}

func splitJWT(s string) [3]string {
	var out [3]string
	i := 0
	start := 0
	for j := range len(s) {
		if s[j] == '.' {
			out[i] = s[start:j]
			i++
			start = j + 1
		}
	}
	out[i] = s[start:]
	return out
}

func TestVerifiedTokensAreCachedUntilExpiry(t *testing.T) {
	ks, s, v, clock := started(t)
	token := s.sign(t, claims())
	for range 3 {
		if _, err := v.Verify(context.Background(), token); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Fatalf("%d key fetches for one token, want 1", n)
	}
	*clock = now.Add(time.Hour)
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("a cached token past its expiry: %v, want ErrExpired", err)
	}
}

// TestKeyRotation: tokens signed with a key published after the verifier
// started are accepted once it fetches again; unknown key ids cause at
// most one fetch per MinRefresh; a key dropped from the set is not trusted
// after the next fetch.
func TestKeyRotation(t *testing.T) {
	ks := newKeyServer(t)
	old, next := newSigner(t, "old", jose.ES256), newSigner(t, "new", jose.ES256)
	ks.publish(old)
	clock := now
	v := newVerifier(ks, &clock)
	ctx := context.Background()
	if _, err := v.Verify(ctx, old.sign(t, claims())); err != nil {
		t.Fatal(err)
	}
	ks.publish(old, next) // rotation: the new key is published before use
	clock = now.Add(11 * time.Second)
	if _, err := v.Verify(ctx, next.sign(t, claims())); err != nil {
		t.Fatalf("token of the rotated-in key: %v", err)
	}
	fetches := ks.fetches.Load()
	for i := range 5 {
		forged := newSigner(t, "bogus", jose.ES256).sign(t, verify.Claims{Issuer: issuer, Room: "launch", Subject: "x", TokenUse: "access", Expires: now.Add(time.Hour).Unix() + int64(i)})
		if _, err := v.Verify(ctx, forged); !errors.Is(err, verify.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if got := ks.fetches.Load() - fetches; got > 1 {
		t.Fatalf("%d fetches for unknown key ids within MinRefresh, want at most 1", got)
	}
	ks.publish(next) // the old key is retired
	clock = clock.Add(2 * time.Hour)
	fresh := claims()
	fresh.Expires = clock.Add(time.Hour).Unix()
	if _, err := v.Verify(ctx, old.sign(t, fresh)); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("token of a retired key after the keys were re-read: %v", err)
	}
	if _, err := v.Verify(ctx, next.sign(t, fresh)); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}
}

func TestStaleKeysKeepWorkingWhenTheFetchFails(t *testing.T) {
	ks, s, v, clock := started(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, s.sign(t, claims())); err != nil {
		t.Fatal(err)
	}
	ks.srv.Close()
	*clock = now.Add(2 * time.Hour)
	fresh := claims()
	fresh.Expires = clock.Add(time.Hour).Unix()
	if _, err := v.Verify(ctx, s.sign(t, fresh)); err != nil {
		t.Fatalf("known key with the JWKS unreachable: %v", err)
	}
}

func TestMiddleware(t *testing.T) {
	_, s, v, _ := started(t)
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		w.Header().Set("X-Position", json.Number(rune('0'+c.Position)).String())
	}), nil)
	token := s.sign(t, claims())
	for name, set := range map[string]func(*http.Request){
		"cookie": func(r *http.Request) { r.AddCookie(&http.Cookie{Name: verify.CookieName("launch"), Value: token}) },
		"bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
	} {
		r := httptest.NewRequest(http.MethodGet, "/checkout", nil)
		set(r)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("X-Position") != "7" {
			t.Errorf("%s: status %d, position %q", name, w.Code, w.Header().Get("X-Position"))
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/checkout", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("no admission: status %d, want 403", w.Code)
	}
}
