package gate_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
)

const (
	issuer = "https://queue.test"
	roomID = "launch"
	site   = "https://shop.test"
)

// switchableStore is the store with a switch: once off, any call reaches
// a nil Store and panics, which storeCalled turns into a test failure.
type switchableStore struct{ waitroom.Store }

type env struct {
	t     testing.TB
	ctx   context.Context
	now   time.Time
	svc   *waitroom.Service
	store *switchableStore
	keys  *waitroom.Keys
	h     http.Handler
}

func newEnv(t testing.TB, f backendtest.Factory) *env { return newEnvWith(t, f, envOptions{}) }

// envOptions vary the test server: the signing algorithm, and a schedule
// for the room (the gate then queues through admission.Guarded, whose
// entrance knows the pre-queue).
type envOptions struct {
	alg      string
	schedule *waitroom.Schedule
	pre      **admission.Prequeue
}

func newEnvWith(t testing.TB, f backendtest.Factory, o envOptions) *env {
	alg := o.alg
	e := &env{t: t, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return e.now }
	b := f.Open(t, clock).Backend
	keys, err := waitroom.LoadKeys(e.ctx, b.Store, waitroom.KeyOptions{Clock: clock, Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	e.store, e.keys = &switchableStore{b.Store}, keys
	e.svc = waitroom.NewService(e.store, keys, waitroom.Options{Clock: clock})
	room := waitroom.NewRoom(roomID, "Launch")
	room.Gate = &waitroom.Gate{Hosts: []string{"shop.test"}, Pass: []string{"/static/", "/healthz"},
		Busy: []string{"/api/**"}, ReturnHosts: []string{"www.shop.test"}, RetryAfter: waitroom.Duration(7 * time.Second)}
	var queue gate.Queue = e.svc
	if o.schedule != nil {
		room.Schedule = *o.schedule
		*o.pre = admission.NewPrequeue(b.Prequeue, b.Store, clock)
		queue = admission.NewGuarded(e.svc, admission.NewEntrance(e.svc, *o.pre, clock), nil, clock)
	}
	if _, err := e.svc.CreateRoom(e.ctx, room); err != nil {
		t.Fatal(err)
	}
	page, err := roompage.New(roompage.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(gate.Options{Issuer: issuer, SecretKey: []byte("0123456789abcdef0123456789abcdef"), Keys: keys,
		Queue: queue, Handoffs: b.Ephemeral, Page: page, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	e.h = g.Handler()
	return e
}

// request is one request to the gate, as a proxy or a browser sends it.
type request struct {
	method, path string
	header       map[string]string
	cookies      []*http.Cookie
}

func (e *env) do(rq request) *http.Response {
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	r := httptest.NewRequest(rq.method, issuer+rq.path, nil)
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	for _, c := range rq.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

// forwarded is what Traefik and Caddy send about a browser's navigation.
func forwarded(uri string) map[string]string {
	return map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.test", "X-Forwarded-Uri": uri,
		"X-Forwarded-Method": "GET", "Accept": "text/html,application/xhtml+xml"}
}

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func expectStatus(t testing.TB, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d (Location %q)", resp.StatusCode, want, resp.Header.Get("Location"))
	}
}

// admit takes a browser through the room: the gate's redirect, the room
// page, the serving counter reaching it, the callback on the site. It
// returns the admission cookie, the callback's answer and its query.
func (e *env) admit(uri string) (*http.Cookie, *http.Response, string) {
	t := e.t
	resp := e.do(request{path: "/gate/" + roomID + "/check", header: forwarded(uri)})
	expectStatus(t, resp, http.StatusFound)
	wait, _ := url.Parse(resp.Header.Get("Location"))
	if got := wait.Query().Get("return"); got != site+uri {
		t.Fatalf("room page returns to %q, want %q", got, site+uri)
	}
	resp = e.do(request{path: wait.RequestURI(), header: map[string]string{"Accept": "text/html"}})
	expectStatus(t, resp, http.StatusOK)
	ticket := cookieNamed(resp, "wr_g_"+roomID)
	if ticket == nil {
		t.Fatal("the room page set no ticket cookie")
	}
	if _, err := e.svc.AdvanceServing(e.ctx, roomID, 1000); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(5 * time.Second) // past the counters' poll cache
	resp = e.do(request{path: wait.RequestURI(), cookies: []*http.Cookie{ticket}})
	expectStatus(t, resp, http.StatusSeeOther)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if cb.Scheme+"://"+cb.Host != site || cb.Path != gate.CallbackPath {
		t.Fatalf("admitted visitor sent to %s, want the callback on the site", cb)
	}
	resp = e.do(request{path: "/gate/" + roomID + "/callback?" + cb.RawQuery, header: forwarded(cb.RequestURI())})
	expectStatus(t, resp, http.StatusSeeOther)
	adm := cookieNamed(resp, verify.CookieName(roomID))
	if adm == nil {
		t.Fatal("the callback set no admission cookie")
	}
	return adm, resp, cb.RawQuery
}

func TestGateFlow(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			e := newEnv(t, f)
			adm, resp, code := e.admit("/product?id=42&color=red")
			if loc := resp.Header.Get("Location"); loc != site+"/product?id=42&color=red" {
				t.Fatalf("callback returns to %q, want the exact URL asked for", loc)
			}
			raw := resp.Header.Get("Set-Cookie")
			for _, want := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=3600"} {
				if !strings.Contains(raw, want) {
					t.Errorf("admission cookie %q lacks %s", raw, want)
				}
			}
			if strings.Contains(strings.ToLower(raw), "domain=") {
				t.Errorf("admission cookie %q is not host-only", raw)
			}
			pass := e.do(request{path: "/gate/" + roomID + "/check", header: forwarded("/product?id=43"), cookies: []*http.Cookie{adm}})
			expectStatus(t, pass, http.StatusOK)
			if pass.Header.Get(gate.HeaderRoom) != roomID || pass.Header.Get(gate.HeaderPosition) != "1" ||
				len(pass.Header.Get(gate.HeaderVisitor)) != 32 || pass.Header.Get(gate.HeaderAdmittedAt) != e.now.Format(time.RFC3339) {
				t.Errorf("pass headers: %v", pass.Header)
			}
			replay := e.do(request{path: "/gate/" + roomID + "/callback?" + code, header: forwarded(gate.CallbackPath)})
			expectStatus(t, replay, http.StatusGone)

			// The cookie lasts the room's token validity.
			e.now = e.now.Add(time.Hour)
			expectStatus(t, e.do(request{path: "/gate/" + roomID + "/check", header: forwarded("/"), cookies: []*http.Cookie{adm}}), http.StatusFound)
		})
	}
}

func TestGateRules(t *testing.T) {
	e := newEnv(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded})
	check := "/gate/" + roomID + "/check"
	nginx := "/gate/" + roomID + "/auth_request"
	envoy := "/gate/" + roomID + "/ext_authz"
	cases := []struct {
		name   string
		path   string
		header map[string]string
		status int
		// headers the answer must carry
		want map[string]string
	}{
		{"asset passes", check, forwarded("/static/app.css"), 200, map[string]string{gate.HeaderRoom: roomID}},
		{"health check passes", check, forwarded("/healthz"), 200, nil},
		{"the gate's own paths pass", check, forwarded(gate.CallbackPath + "?code=x"), 200, nil},
		{"page redirects", check, forwarded("/"), 302, nil},
		{"api is busy", check, forwarded("/api/cart"), 503, map[string]string{"Retry-After": "7"}},
		{"xhr is busy", check, with(forwarded("/"), "X-Requested-With", "XMLHttpRequest"), 503, map[string]string{"Retry-After": "7"}},
		{"json is busy", check, with(forwarded("/"), "Accept", "application/json"), 503, nil},
		{"post is busy", check, with(forwarded("/order"), "X-Forwarded-Method", "POST"), 503, nil},
		{"other host refused", check, with(forwarded("/"), "X-Forwarded-Host", "evil.test"), 403, nil},
		{"no original request", check, map[string]string{"Accept": "text/html"}, 400, nil},
		{"nginx: page is 401 with the room", nginx, map[string]string{"X-Original-URI": "/p?q=1", "X-Forwarded-Proto": "https",
			"X-Forwarded-Host": "shop.test", "Accept": "text/html"}, 401, nil},
		{"nginx: api is 403 with retry", nginx, with(forwarded("/api/x")), 403, map[string]string{gate.HeaderRetryAfter: "7"}},
		{"envoy: original path appended", envoy + "/static/x.js", map[string]string{"Accept": "text/html"}, 200, nil},
		{"envoy: page redirects", envoy + "/p?q=1", map[string]string{"Accept": "text/html"}, 302, nil},
		{"envoy: api is 429 with retry", envoy + "/api/cart", map[string]string{"Accept": "application/json"}, 429, map[string]string{"Retry-After": "7"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, issuer+c.path, nil)
			r.Host = "shop.test"
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			for k, v := range c.want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if _, sent := w.Header()[gate.HeaderPosition]; c.status == http.StatusOK && !sent {
				t.Errorf("a pass without admission does not blank %s (a client could send its own)", gate.HeaderPosition)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, issuer+nginx, nil)
	for k, v := range map[string]string{"X-Original-URI": "/p?q=1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.test", "Accept": "text/html"} {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if loc := w.Header().Get(gate.HeaderLocation); loc != issuer+"/gate/launch/wait?return="+url.QueryEscape(site+"/p?q=1") {
		t.Errorf("nginx room location %q", loc)
	}
	r = httptest.NewRequest(http.MethodGet, issuer+envoy+"/p?q=1", nil)
	r.Host, r.Header["Accept"] = "shop.test", []string{"text/html"}
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); loc != issuer+"/gate/launch/wait?return="+url.QueryEscape("http://shop.test/p?q=1") {
		t.Errorf("envoy room location %q", loc)
	}
}

// TestGateNoOpenRedirect: the room page only returns to the room's hosts,
// and the callback only on the host the code was made for.
func TestGateNoOpenRedirect(t *testing.T) {
	e := newEnv(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded})
	for _, ret := range []string{"https://evil.test/", "https://shop.test.evil.test/", "javascript:alert(1)", "//evil.test/",
		"https://user@evil.test/", "/relative", ""} {
		resp := e.do(request{path: "/gate/" + roomID + "/wait?return=" + url.QueryEscape(ret), header: map[string]string{"Accept": "text/html"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("return=%q: status %d, want 400", ret, resp.StatusCode)
		}
		if cookieNamed(resp, "wr_g_"+roomID) != nil {
			t.Errorf("return=%q: queued anyway", ret)
		}
	}
	resp := e.do(request{path: "/gate/" + roomID + "/wait?return=" + url.QueryEscape("https://www.shop.test/x"), header: map[string]string{"Accept": "text/html"}})
	expectStatus(t, resp, http.StatusOK)

	// A code made for shop.test is refused on another host.
	ticket := cookieNamed(resp, "wr_g_"+roomID)
	if _, err := e.svc.AdvanceServing(e.ctx, roomID, 10); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(5 * time.Second)
	resp = e.do(request{path: "/gate/" + roomID + "/wait?return=" + url.QueryEscape(site+"/x"), cookies: []*http.Cookie{ticket}})
	expectStatus(t, resp, http.StatusSeeOther)
	cb, _ := url.Parse(resp.Header.Get("Location"))
	resp = e.do(request{path: "/gate/" + roomID + "/callback?" + cb.RawQuery, header: with(forwarded(gate.CallbackPath), "X-Forwarded-Host", "www.shop.test")})
	expectStatus(t, resp, http.StatusBadRequest)

	for ret, want := range map[string]string{"//evil.test/": "/", "/\\evil.test": "/", "https://evil.test/": "/", "/bye?x=1": "/bye?x=1"} {
		resp := e.do(request{path: "/gate/" + roomID + "/logout?return=" + url.QueryEscape(ret), header: forwarded(gate.LogoutPath)})
		if loc := resp.Header.Get("Location"); loc != want {
			t.Errorf("logout return=%q goes to %q, want %q", ret, loc, want)
		}
	}
}

// TestGateLogoutFreesTheSlot: logging out through the gate completes the
// session in the room (a max-active slot frees) and clears the cookie.
func TestGateLogoutFreesTheSlot(t *testing.T) {
	for _, f := range backendtest.All() {
		t.Run(f.Name, func(t *testing.T) {
			e := newEnv(t, f)
			adm, _, _ := e.admit("/")
			if n, _ := e.svc.ActiveTokens(e.ctx, roomID); n != 1 {
				t.Fatalf("active sessions after admission: %d, want 1", n)
			}
			resp := e.do(request{path: "/gate/" + roomID + "/logout", header: forwarded(gate.LogoutPath), cookies: []*http.Cookie{adm}})
			expectStatus(t, resp, http.StatusSeeOther)
			if c := cookieNamed(resp, verify.CookieName(roomID)); c == nil || c.MaxAge >= 0 {
				t.Errorf("logout did not clear the admission cookie: %v", c)
			}
			if n, _ := e.svc.ActiveTokens(e.ctx, roomID); n != 0 {
				t.Fatalf("active sessions after logout: %d, want 0", n)
			}
		})
	}
}

// TestCookieVerifiesWithThePublishedJWKS: what a site's own check sees
// (package verify over HTTP, the JWKS as <issuer>/keys publishes it)
// accepts the gate's cookie, with either signing algorithm.
func TestCookieVerifiesWithThePublishedJWKS(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnvWith(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded}, envOptions{alg: alg})
			adm, _, _ := e.admit("/")
			jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_ = json.NewEncoder(w).Encode(e.keys.JWKS())
			}))
			defer jwks.Close()
			v := &verify.Verifier{Issuer: issuer, Room: roomID, Keys: verify.NewJWKS(jwks.URL, nil), Clock: func() time.Time { return e.now }}
			c, err := v.Verify(e.ctx, adm.Value)
			if err != nil || c.Position != 1 || c.Room != roomID {
				t.Fatalf("Verify = %+v, %v", c, err)
			}
		})
	}
}

// TestGatePrequeue: in a scheduled room's pre-queue the room page says
// when it opens (no place yet, nothing to admit, whatever the counter);
// after the opening draw the same browser has its place and is admitted.
func TestGatePrequeue(t *testing.T) {
	var pre *admission.Prequeue
	now := time.Now().UTC().Truncate(time.Second)
	opens := now.Add(time.Hour)
	e := newEnvWith(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded},
		envOptions{schedule: &waitroom.Schedule{OpensAt: opens, Prequeue: waitroom.Duration(2 * time.Hour)}, pre: &pre})
	e.now = now
	wait := "/gate/" + roomID + "/wait?return=" + url.QueryEscape(site+"/tickets?row=3")
	resp := e.do(request{path: wait, header: map[string]string{"Accept": "text/html"}})
	expectStatus(t, resp, http.StatusOK)
	ticket := cookieNamed(resp, "wr_g_"+roomID)
	status := e.do(request{path: "/gate/" + roomID + "/status?return=" + url.QueryEscape(site+"/tickets?row=3"), cookies: []*http.Cookie{ticket}})
	var st struct{ State string }
	if err := json.NewDecoder(status.Body).Decode(&st); err != nil || st.State != "not_open" {
		t.Fatalf("pre-queue status %+v (%v), want not_open", st, err)
	}
	expectStatus(t, e.do(request{path: wait, cookies: []*http.Cookie{ticket}}), http.StatusOK) // still no place: no admission

	e.now = opens
	room, err := e.svc.Room(e.ctx, roomID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pre.Open(e.ctx, room, opens); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AdvanceServing(e.ctx, roomID, 1); err != nil {
		t.Fatal(err)
	}
	e.now = opens.Add(5 * time.Second)
	resp = e.do(request{path: wait, cookies: []*http.Cookie{ticket}})
	expectStatus(t, resp, http.StatusSeeOther)
	if cb, _ := url.Parse(resp.Header.Get("Location")); cb.Path != gate.CallbackPath {
		t.Fatalf("after opening: sent to %s, want the site's callback", cb)
	}
}

// TestAdmittedCheckReadsNoStore: once warm, the decision for an admitted
// visitor reaches neither the store nor the ephemeral store.
func TestAdmittedCheckReadsNoStore(t *testing.T) {
	e := newEnv(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded})
	adm, _, _ := e.admit("/")
	req := request{path: "/gate/" + roomID + "/check", header: forwarded("/product"), cookies: []*http.Cookie{adm}}
	expectStatus(t, e.do(req), http.StatusOK) // warms the verified-token cache
	real := e.store.Store
	e.store.Store = nil
	defer func() {
		e.store.Store = real
		if p := recover(); p != nil {
			t.Fatalf("the admitted check called the store: %v", p)
		}
	}()
	for range 100 {
		expectStatus(t, e.do(req), http.StatusOK)
	}
}

func BenchmarkAdmittedCheck(b *testing.B) {
	e := newEnv(b, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded})
	adm, _, _ := e.admit("/")
	r := httptest.NewRequest(http.MethodGet, issuer+"/gate/"+roomID+"/check", nil)
	for k, v := range forwarded("/product?id=1") {
		r.Header.Set(k, v)
	}
	r.AddCookie(adm)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
