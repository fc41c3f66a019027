package verify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
)

// FuzzVerify: any string a client sends as its cookie is refused without
// a panic, unless it is the one token the key signed.
func FuzzVerify(f *testing.F) {
	_, s, v, _ := started(f)
	valid := s.sign(f, claims())
	f.Add(valid)
	f.Add(valid[:len(valid)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJhdWQiOiJsYXVuY2gifQ.")
	f.Add("..")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err == nil && token != valid {
			t.Fatalf("accepted %q as %+v", token, c)
		}
		if err != nil && !errors.Is(err, verify.ErrInvalid) {
			t.Fatalf("refusal %v does not wrap ErrInvalid", err)
		}
	})
}

// FuzzParseJWKS: a key set from the network never panics the parser.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","n":"","e":"AAAAAAAA"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = verify.ParseJWKS(body)
	})
}
