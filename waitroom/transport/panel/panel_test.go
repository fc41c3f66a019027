package panel

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
)

const adminKey = "correct horse battery staple"

type harness struct {
	t   *testing.T
	svc *waitroom.Service
	srv *httptest.Server
	c   *http.Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	store := backendtest.Embedded(t, nil).Store
	keys, err := waitroom.LoadKeys(ctx, store, waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := waitroom.NewService(store, keys, waitroom.Options{Logger: log, RoomCacheTTL: time.Nanosecond})
	if _, err := svc.CreateRoom(ctx, waitroom.NewRoom("sale", "Winter sale")); err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Service: svc, VerifyKey: func(k string) bool { return k == adminKey }, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &harness{t: t, svc: svc, srv: srv, c: c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get returns the body and the first CSRF token on the page.
func (h *harness) get(path string) (int, string, string) {
	h.t.Helper()
	res, err := h.c.Get(h.srv.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	token := ""
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		token = m[1]
	}
	return res.StatusCode, string(b), token
}

func (h *harness) post(path string, form url.Values) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	res, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func (h *harness) signIn(key string) *http.Response {
	_, _, token := h.get("/panel/login")
	return h.post("/panel/login", url.Values{"csrf": {token}, "key": {key}})
}

func TestSignInRequiredAndWrongKeyRefused(t *testing.T) {
	h := newHarness(t)
	res, err := h.c.Get(h.srv.URL + "/panel/rooms/sale")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/panel/login" {
		t.Fatalf("unsigned request: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := h.signIn("wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}
	res = h.signIn(adminKey)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, "horse") {
		t.Fatalf("session cookie %+v", session)
	}
	if code, body, _ := h.get("/panel/"); code != 200 || !strings.Contains(body, "Winter sale") {
		t.Fatalf("rooms list: %d", code)
	}
}

func TestLoginNeedsItsCSRFToken(t *testing.T) {
	h := newHarness(t)
	h.get("/panel/login")
	res := h.post("/panel/login", url.Values{"csrf": {"forged"}, "key": {adminKey}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged login CSRF: %d", res.StatusCode)
	}
}

func TestActionsNeedCSRFAndChangeTheRoom(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.signIn(adminKey)
	for range 5 {
		if _, err := h.svc.Enqueue(ctx, "sale", ""); err != nil {
			t.Fatal(err)
		}
	}
	_, _, token := h.get("/panel/rooms/sale")
	if token == "" {
		t.Fatal("no CSRF token on the room page")
	}
	if res := h.post("/panel/rooms/sale/advance", url.Values{"by": {"3"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("advance without CSRF: %d", res.StatusCode)
	}
	if res := h.post("/panel/rooms/sale/advance", url.Values{"by": {"3"}, "csrf": {token}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("advance: %d", res.StatusCode)
	}
	if s, _ := h.svc.Serving(ctx, "sale"); s != 3 {
		t.Fatalf("serving %d, want 3", s)
	}
	h.post("/panel/rooms/sale/serving", url.Values{"serving": {"4"}, "csrf": {token}})
	if s, _ := h.svc.Serving(ctx, "sale"); s != 4 {
		t.Fatalf("serving %d, want 4", s)
	}
	h.post("/panel/rooms/sale/mode", url.Values{"mode": {"paused"}, "csrf": {token}})
	if r, _ := h.svc.Room(ctx, "sale"); r.Mode != waitroom.ModePaused {
		t.Fatalf("mode %q, want paused", r.Mode)
	}
	if res := h.post("/panel/rooms/sale/reset", url.Values{"confirm": {"sal"}, "csrf": {token}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("reset with a wrong confirmation: %d", res.StatusCode)
	}
	if c, _ := h.svc.Counters(ctx, "sale"); c.Queue != 5 {
		t.Fatal("a mistyped confirmation reset the room")
	}
	h.post("/panel/rooms/sale/reset", url.Values{"confirm": {"sale"}, "csrf": {token}})
	if c, _ := h.svc.Counters(ctx, "sale"); c.Queue != 0 || c.Serving != 0 {
		t.Fatalf("after reset: %+v", c)
	}
}

func TestCrossSiteOriginRefused(t *testing.T) {
	h := newHarness(t)
	h.signIn(adminKey)
	_, _, token := h.get("/panel/rooms/sale")
	req, _ := http.NewRequest("POST", h.srv.URL+"/panel/rooms/sale/advance", strings.NewReader(url.Values{"by": {"1"}, "csrf": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, err := h.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", res.StatusCode)
	}
}

func TestSettingsValidatedAsAWhole(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.signIn(adminKey)
	_, _, token := h.get("/panel/rooms/sale")
	form := url.Values{"csrf": {token}, "name": {"Spring sale"}, "token_validity": {"2h"}, "expiry_period": {"10m"},
		"expiry_enabled": {"on"}, "accent_color": {"#aa0000"}, "logo_url": {"/logo.png"}}
	if res := h.post("/panel/rooms/sale/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("settings: %d", res.StatusCode)
	}
	r, _ := h.svc.Room(ctx, "sale")
	if r.Name != "Spring sale" || r.TokenValidity.D() != 2*time.Hour || r.Branding.AccentColor != "#aa0000" {
		t.Fatalf("room after settings: %+v", r)
	}
	form.Set("accent_color", "red;}")
	form.Set("name", "Broken")
	if res := h.post("/panel/rooms/sale/settings", form); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad colour: %d", res.StatusCode)
	}
	if r, _ := h.svc.Room(ctx, "sale"); r.Name != "Spring sale" {
		t.Fatal("a refused form changed the room")
	}
}
