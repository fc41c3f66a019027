package waitroom

import (
	"context"
	"testing"
	"time"
)

// memKeys is a KeyStore in a slice (the backends import this package, so
// its own tests cannot use them).
type memKeys struct{ keys []SigningKey }

func (m *memKeys) SigningKeys(context.Context) ([]SigningKey, error) { return m.keys, nil }
func (m *memKeys) AddSigningKey(_ context.Context, k SigningKey) error {
	m.keys = append(m.keys, k)
	return nil
}
func (m *memKeys) RetireSigningKey(context.Context, string, time.Time) error { return nil }
func (m *memKeys) DeleteSigningKey(context.Context, string) error            { return nil }

// signOneAdmission returns a function that signs one admission's three
// JWTs with a fresh key of alg.
func signOneAdmission(b *testing.B, alg string) func() error {
	keys, err := LoadKeys(context.Background(), &memKeys{}, KeyOptions{Algorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	kid, _, _ := keys.Current()
	now := time.Now()
	iat := now.UTC().Truncate(time.Second)
	rec := TokenRecord{Room: "room", RequestID: "6f1c1a8e-3f3c-4a5e-9d55-2d1f0f4b7a10", Position: 12345,
		Issuer: "https://issuer.test", IssuedAt: iat, NotBefore: iat, ExpiresAt: iat.Add(time.Hour), KeyID: kid}
	return func() error {
		_, err := keys.signTokens(rec, now)
		return err
	}
}

// BenchmarkSignTokens measures the signing of one admission: three JWTs.
func BenchmarkSignTokens(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			sign := signOneAdmission(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if err := sign(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignTokensParallel is the signing bound of B3: admissions signed
// per second on every core the benchmark may use (-cpu), nothing else done.
// B3's first-token rate is compared with 1 / its ns/op.
func BenchmarkSignTokensParallel(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			sign := signOneAdmission(b, alg)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := sign(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
