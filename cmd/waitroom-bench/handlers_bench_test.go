package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/lib/pq"
)

// HTTP-level benchmarks of the hot paths, on both backends: each calls the
// public handler (middleware included) in process, without a network hop,
// so what they time is the server's own work per request. Run with
//
//	go test -run '^$' -bench . ./cmd/waitroom-bench
//
// The redispg cases need PostgreSQL and Redis on loopback (as the tests
// do: WAITROOM_TEST_DATABASE_URL, WAITROOM_TEST_REDIS_URL) and are skipped
// without them.

// benchBackends are the backends the handlers are timed on.
var benchBackends = []string{"embedded", "redispg"}

// forBackends runs fn once per backend and signing algorithm.
func forBackends(b *testing.B, algs []string, fn func(b *testing.B, s *testServer)) {
	for _, be := range benchBackends {
		for _, alg := range algs {
			name := be
			if len(algs) > 1 {
				name += "/" + alg
			}
			b.Run(name, func(b *testing.B) {
				s := startServerOn(b, be, alg)
				createRoom(b, s, "bench")
				fn(b, s)
			})
		}
	}
}

// createRoom creates a room with the default settings through the admin
// API.
func createRoom(b *testing.B, s *testServer, id string) {
	admin(b, s, http.MethodPost, "/v1/rooms", fmt.Sprintf(`{"id":%q,"name":%q}`, id, id), http.StatusCreated)
}

// admin calls the admin API and checks the status.
func admin(b *testing.B, s *testServer, method, path, body string, want int) {
	b.Helper()
	req, err := http.NewRequest(method, s.admin+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+smokeAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
	}
}

// serveEach times one in-process request per iteration; next builds the
// i-th request.
func serveEach(b *testing.B, h http.Handler, want int, next func(i int) *http.Request) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, next(i))
		if w.Code != want {
			b.Fatalf("request %d: status %d, want %d: %s", i, w.Code, want, w.Body.String())
		}
	}
}

func BenchmarkServingNumHandler(b *testing.B) {
	forBackends(b, []string{"ES256"}, func(b *testing.B, s *testServer) {
		h := s.handler
		serveEach(b, h, http.StatusOK, func(int) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/serving_num?event_id=bench", nil)
		})
	})
}

func BenchmarkEnqueueHandler(b *testing.B) {
	forBackends(b, []string{"ES256"}, func(b *testing.B, s *testServer) {
		h := s.handler
		serveEach(b, h, http.StatusOK, func(int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/assign_queue_num", strings.NewReader(`{"event_id":"bench"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		})
	})
}

func BenchmarkQueueNumHandler(b *testing.B) {
	forBackends(b, []string{"ES256"}, func(b *testing.B, s *testServer) {
		ids := enqueueN(b, s, 1000)
		h := s.handler
		serveEach(b, h, http.StatusOK, func(i int) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/queue_num?event_id=bench&request_id="+ids[i%len(ids)], nil)
		})
	})
}

// BenchmarkFirstTokenHandler times POST /generate_token for tickets that
// have no token yet: every iteration signs and stores a new admission.
func BenchmarkFirstTokenHandler(b *testing.B) {
	forBackends(b, []string{"RS256", "ES256"}, func(b *testing.B, s *testServer) {
		ids := enqueueN(b, s, b.N)
		admin(b, s, http.MethodPut, "/v1/rooms/bench/serving", fmt.Sprintf(`{"serving":%d}`, b.N), http.StatusOK)
		h := s.handler
		serveEach(b, h, http.StatusOK, func(i int) *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/generate_token",
				strings.NewReader(fmt.Sprintf(`{"event_id":"bench","request_id":%q}`, ids[i])))
			r.Header.Set("Content-Type", "application/json")
			return r
		})
	})
}

// BenchmarkRoomStatusHandler times the room page's JSON poll for a browser
// that holds a ticket.
func BenchmarkRoomStatusHandler(b *testing.B) {
	forBackends(b, []string{"ES256"}, func(b *testing.B, s *testServer) {
		createRoom(b, s, "smoke-oidc")
		f, rec := benchFlow(b, s, 0)
		l, err := newLogin(f)
		if err != nil {
			b.Fatal(err)
		}
		// Nobody is admitted (no headroom): the login stops at the room
		// page, which gives the browser its ticket cookie.
		a, err := send(context.Background(), l.browser, rec.Step(stepAuthorize), mustRequest(b, f.authorizeURL(l)))
		if err != nil || a.Location == "" {
			b.Fatalf("authorize: %v %d", err, a.Status)
		}
		room, _ := url.Parse(s.public)
		room, _ = room.Parse(a.Location)
		if a, err = send(context.Background(), l.browser, rec.Step(stepRoom), mustRequest(b, room.String())); err != nil || a.Status != http.StatusOK {
			b.Fatalf("room page: %v %d", err, a.Status)
		}
		status, _ := room.Parse(f.statusPath())
		cookies := l.browser.Jar.Cookies(status)
		h := s.handler
		serveEach(b, h, http.StatusOK, func(int) *http.Request {
			r := httptest.NewRequest(http.MethodGet, status.RequestURI(), nil)
			for _, c := range cookies {
				r.AddCookie(c)
			}
			return r
		})
	})
}

// BenchmarkCodeExchange times POST /oauth/token (authorization code with
// PKCE, client_secret_basic): each iteration redeems one code obtained by a
// full browser login before the timer starts.
func BenchmarkCodeExchange(b *testing.B) {
	forBackends(b, []string{"RS256", "ES256"}, func(b *testing.B, s *testServer) {
		createRoom(b, s, "smoke-oidc")
		f, rec := benchFlow(b, s, int64(b.N)+10)
		type grant struct{ code, verifier string }
		grants := make([]grant, b.N)
		for i := range grants {
			l, err := newLogin(f)
			if err != nil {
				b.Fatal(err)
			}
			code, err := f.browse(context.Background(), rec, l)
			if err != nil {
				b.Fatal(err)
			}
			grants[i] = grant{code, l.verifier}
		}
		tokenURL, _ := url.Parse(f.disc.Token)
		h := s.handler
		serveEach(b, h, http.StatusOK, func(i int) *http.Request {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {grants[i].code},
				"redirect_uri": {smokeRedirect}, "code_verifier": {grants[i].verifier}}
			r := httptest.NewRequest(http.MethodPost, tokenURL.RequestURI(), strings.NewReader(form.Encode()))
			r.Host = tokenURL.Host
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth("bench", smokeClientSecret)
			return r
		})
	})
}

// benchFlow prepares the generator's OIDC flow against s, with the room's
// serving counter headroom positions ahead.
func benchFlow(b *testing.B, s *testServer, headroom int64) (*oidcFlow, *Recorder) {
	cfg := Config{Target: s.public, Admin: s.admin, AdminKey: smokeAdminKey, Room: "bench", OIDCRoom: "smoke-oidc",
		Issuer: s.public, ClientID: "bench", ClientSecret: smokeClientSecret, RedirectURI: smokeRedirect,
		Scope: "openid", Timeout: 30e9, Headroom: headroom, Users: 1, PrefillConc: 1}
	bench := NewBench(cfg, os.Stderr)
	b.Cleanup(bench.Close)
	if err := bench.oidc.prepare(context.Background(), bench.scratch); err != nil {
		b.Fatal(err)
	}
	return bench.oidc, bench.scratch
}

func mustRequest(b *testing.B, u string) *http.Request {
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// enqueueN puts n tickets in the room "bench" through the public API.
func enqueueN(b *testing.B, s *testServer, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		resp, err := http.Post(s.public+"/assign_queue_num", "application/json", strings.NewReader(`{"event_id":"bench"}`))
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			ID string `json:"api_request_id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || out.ID == "" {
			b.Fatalf("enqueue %d: %v", i, err)
		}
		ids[i] = out.ID
	}
	return ids
}
