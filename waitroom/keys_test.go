package waitroom_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
)

func newStore(t *testing.T) waitroom.Store {
	t.Helper()
	b, err := embedded.Open(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b.Store
}

// TestSignaturesAreDeterministic: the same payload signed twice gives the
// same bytes, for both algorithms, and the signature verifies. Repeat
// generate_token answers depend on it.
func TestSignaturesAreDeterministic(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			keys, err := waitroom.LoadKeys(context.Background(), newStore(t), waitroom.KeyOptions{Algorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			kid, _, _ := keys.Current()
			sign := func() string {
				signer, ok := keys.Signer(kid)
				if !ok {
					t.Fatal("no signer for the current key")
				}
				js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: signer}, nil)
				if err != nil {
					t.Fatal(err)
				}
				obj, err := js.Sign([]byte(`{"sub":"x"}`))
				if err != nil {
					t.Fatal(err)
				}
				s, _ := obj.CompactSerialize()
				return s
			}
			a, b := sign(), sign()
			if a != b {
				t.Fatalf("two signings differ:\n%s\n%s", a, b)
			}
			obj, err := jose.ParseSignedCompact(a, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			jwk, _ := keys.PublicJWK(kid)
			if _, err := obj.Verify(jwk); err != nil {
				t.Fatalf("deterministic signature does not verify: %v", err)
			}
		})
	}
}

// TestChangingAlgorithmRotates: a restart with another algorithm publishes
// a key of that algorithm, which signs after the publish delay.
func TestChangingAlgorithmRotates(t *testing.T) {
	ctx, st := context.Background(), newStore(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	if _, err := waitroom.LoadKeys(ctx, st, waitroom.KeyOptions{Algorithm: "ES256", Clock: clock}); err != nil {
		t.Fatal(err)
	}
	keys, err := waitroom.LoadKeys(ctx, st, waitroom.KeyOptions{Algorithm: "RS256", Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, alg, _ := keys.Current(); alg != jose.ES256 {
		t.Fatalf("signs with %s at once, want ES256 until the new key is published", alg)
	}
	now = now.Add(waitroom.DefaultPublishAhead)
	if _, alg, _ := keys.Current(); alg != jose.RS256 {
		t.Fatalf("signs with %s after the delay, want RS256", alg)
	}
	if n := len(keys.JWKS().Keys); n != 2 {
		t.Fatalf("JWKS has %d keys, want both", n)
	}
}

func TestUnknownAlgorithm(t *testing.T) {
	_, err := waitroom.LoadKeys(context.Background(), newStore(t), waitroom.KeyOptions{Algorithm: "HS256"})
	if waitroom.ErrorCode(err) != waitroom.CodeInvalid {
		t.Fatalf("LoadKeys(HS256) = %v, want invalid", err)
	}
}

// BenchmarkSign measures one deterministic JWS signature (an admission
// signs three).
func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			be, err := embedded.Open(embedded.Options{})
			if err != nil {
				b.Fatal(err)
			}
			keys, err := waitroom.LoadKeys(context.Background(), be.Store, waitroom.KeyOptions{Algorithm: alg})
			if err != nil {
				b.Fatal(err)
			}
			kid, _, _ := keys.Current()
			signer, _ := keys.Signer(kid)
			js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: signer}, nil)
			if err != nil {
				b.Fatal(err)
			}
			payload := []byte(`{"aud":"room","sub":"6f1c1a8e-3f3c-4a5e-9d55-2d1f0f4b7a10","queue_position":1}`)
			b.ReportAllocs()
			for b.Loop() {
				obj, err := js.Sign(payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := obj.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestTokensAsGoJose holds the admission tokens to the bytes go-jose
// produces for the same key, header and payload: tokens issued before the
// signing path stopped going through go-jose must re-sign identically.
func TestTokensAsGoJose(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			keys, err := waitroom.LoadKeys(ctx, s, waitroom.KeyOptions{Algorithm: alg})
			if err != nil {
				t.Fatal(err)
			}
			svc := waitroom.NewService(s, keys, waitroom.Options{})
			r, err := svc.CreateRoom(ctx, waitroom.NewRoom("r1", ""))
			if err != nil {
				t.Fatal(err)
			}
			tk, err := svc.Enqueue(ctx, r.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetServing(ctx, r.ID, 1); err != nil {
				t.Fatal(err)
			}
			// An issuer with characters JSON escapes.
			tokens, err := svc.IssueToken(ctx, r.ID, tk.ID, "https://issuer.test/a?b=1&c=<d>", 0)
			if err != nil {
				t.Fatal(err)
			}
			signer, ok := keys.Signer(tokens.Record.KeyID)
			if !ok {
				t.Fatal("no signer for the token's key")
			}
			js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: signer},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []string{tokens.Access, tokens.Refresh, tokens.ID} {
				parts := strings.Split(got, ".")
				if len(parts) != 3 {
					t.Fatalf("token %q is not a compact JWS", got)
				}
				payload, err := base64.RawURLEncoding.DecodeString(parts[1])
				if err != nil {
					t.Fatal(err)
				}
				obj, err := js.Sign(payload)
				if err != nil {
					t.Fatal(err)
				}
				want, err := obj.CompactSerialize()
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("token differs from go-jose's:\n got %s\nwant %s", got, want)
				}
				if _, err := jose.ParseSignedCompact(got, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}); err != nil {
					t.Fatalf("go-jose cannot parse the token: %v", err)
				}
			}
		})
	}
}
