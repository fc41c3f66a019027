package oidc_test

import (
	"net/http"
	"testing"
)

// BenchmarkFlow measures one whole login with instant admission on the
// embedded store: authorize → room (admitted) → code → token (secret_basic)
// → userinfo, over HTTP on loopback. Run with -bench Flow; the algorithm
// is the only variable between the two sub-benchmarks.
func BenchmarkFlow(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			e := newEnv(b, func(c *envConfig) { c.alg = alg })
			if _, err := e.svc.SetServing(e.ctx, room1, 1<<40); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				br := e.browser()
				loc := e.login(br, authParams("rp1", rpRedirect))
				a := e.exchange("rp1", loc.Query().Get("code"), rpRedirect, "")
				if ui := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); ui.status != 200 {
					b.Fatalf("userinfo %d", ui.status)
				}
			}
		})
	}
}
