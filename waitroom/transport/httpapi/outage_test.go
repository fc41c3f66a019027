package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// tcpProxy forwards connections to a real server until cut, which then
// looks to the client like the server going away.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(p.cutAll)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			c.Close()
			s.Close()
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
	}
}

// cutAll closes the listener and every forwarded connection.
func (p *tcpProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

// viaProxy rewrites a URL to go through the proxy.
func viaProxy(t *testing.T, raw string, p **tcpProxy, target func(*url.URL) string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	*p = newTCPProxy(t, target(u))
	u.Host = (*p).addr()
	return u.String()
}

// TestRealOutagesAnswer503 runs the API on the production backend reached
// through TCP proxies, cuts PostgreSQL or Redis, and checks that every
// public and admin call then answers either normally or 503 with
// Retry-After: never a 500, never internals. Without Redis, the counter
// reads and token issue answer normally, counters marked stale.
func TestRealOutagesAnswer503(t *testing.T) {
	for _, victim := range []string{"postgres", "redis"} {
		t.Run(victim, func(t *testing.T) {
			t.Parallel()
			var pgProxy, redisProxy *tcpProxy
			dsn := viaProxy(t, testenv.Postgres(t), &pgProxy, func(u *url.URL) string { return u.Host })
			redisURL, prefix := testenv.Redis(t)
			redisURL = viaProxy(t, redisURL, &redisProxy, func(u *url.URL) string { return u.Host })
			b := backend{name: "redispg-proxied", open: func(t testing.TB, _ *testenv.Clock) (waitroom.Store, waitroom.Ephemeral) {
				s, err := redispg.Open(context.Background(), redispg.Config{DatabaseURL: dsn + "&connect_timeout=2", RedisURL: redisURL, KeyPrefix: prefix, MaxOpenConns: 4, Logger: quietLogger()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Store.Close() })
				return s.Store, s.Ephemeral
			}}
			e := newEnv(t, b)
			e.room("demo")
			tk := e.enqueue("demo")
			e.serve("demo", 1)
			map[string]*tcpProxy{"postgres": pgProxy, "redis": redisProxy}[victim].cutAll()
			e.clock.Advance(time.Millisecond)

			calls := []func() answer{
				func() answer { return e.post("/assign_queue_num", `{"event_id":"demo"}`) },
				func() answer { return e.get("/queue_num?event_id=demo&request_id=" + tk.ID) },
				func() answer { return e.get("/serving_num?event_id=demo") },
				func() answer { return e.get("/waiting_num?event_id=demo") },
				func() answer { return e.get("/queue_pos_expiry?event_id=demo&request_id=" + tk.ID) },
				func() answer { return e.post("/generate_token", `{"event_id":"demo","request_id":"`+tk.ID+`"}`) },
				func() answer { return e.get("/readyz") },
				func() answer { return e.adminDo(http.MethodGet, "/v1/rooms/demo/counters", "") },
				func() answer {
					return e.adminDo(http.MethodPost, "/increment_serving_counter", `{"event_id":"demo","increment_by":1}`)
				},
			}
			// With Redis gone, reads of the counters and token issue are
			// answered from PostgreSQL: the visitor sees no error.
			servedWithoutRedis := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 7: true}
			unavailable := 0
			for i, call := range calls {
				a := call()
				if victim == "redis" && servedWithoutRedis[i] {
					expectServedStale(t, i, a)
				}
				switch {
				case a.Code == http.StatusServiceUnavailable:
					expectUnavailable(t, a)
					unavailable++
				case a.Code >= 500:
					t.Errorf("call %d: %d %s", i, a.Code, a.Body)
				}
				if strings.Contains(a.Body.String(), "127.0.0.1") || strings.Contains(a.Body.String(), "dial") {
					t.Errorf("call %d leaks internals: %s", i, a.Body)
				}
			}
			if unavailable == 0 {
				t.Fatal("no call noticed the outage")
			}
		})
	}
}

// expectServedStale fails unless a answered 200 and, if it carries counters,
// marks them stale.
func expectServedStale(t *testing.T, call int, a answer) {
	t.Helper()
	if a.Code != http.StatusOK {
		t.Errorf("call %d without Redis: %d %s, want 200", call, a.Code, a.Body)
		return
	}
	m := a.json()
	_, serving := m["serving_counter"]
	_, waiting := m["waiting_num"]
	_, queue := m["queue"]
	if (serving || waiting || queue) && m["stale"] != true {
		t.Errorf("call %d without Redis: counters not marked stale: %s", call, a.Body)
	}
}
