package panel_test

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
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/panel"
)

const (
	adminKey  = "correct horse battery staple"
	viewerKey = "a viewer's key of some length"
)

type harness struct {
	t     *testing.T
	svc   *waitroom.Service
	audit waitroom.AuditStore
	srv   *httptest.Server
	c     *http.Client
}

// auditLog records into the backend's audit store, as the server's does.
type auditLog struct{ store waitroom.AuditStore }

func (l auditLog) Record(ctx context.Context, e waitroom.AuditEntry) {
	_, _ = l.store.AppendAudit(ctx, e)
}

// newHarness serves the panel over the admin API and the embedded backend,
// wired as the server wires them.
func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	b := backendtest.Embedded(t, nil)
	keys, err := waitroom.LoadKeys(ctx, b.Store, waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := waitroom.NewService(b.Store, keys, waitroom.Options{Logger: log, RoomCacheTTL: time.Nanosecond})
	if _, err := svc.CreateRoom(ctx, waitroom.NewRoom("sale", "Winter sale")); err != nil {
		t.Fatal(err)
	}
	adminKeys, err := httpapi.ParseAdminKeys([]string{"ops:" + httpapi.HashAdminKey(adminKey), "watcher:" + httpapi.HashAdminKey(viewerKey) + ":viewer"})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Options{Service: svc, Keys: keys, Logger: log, AdminKeys: adminKeys,
		Audit: auditLog{b.Audit}, AuditTrail: b.Audit, Deliveries: b.Outbox})
	if err != nil {
		t.Fatal(err)
	}
	p, err := panel.New(panel.Options{Service: svc, Admin: api.InProcess(), Identify: adminKeys.Identify, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &harness{t: t, svc: svc, audit: b.Audit, srv: srv, c: c}
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

// post sends a form; the answer's body is read into body.
func (h *harness) post(path string, form url.Values) (res *http.Response, body string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	res, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (h *harness) signIn(key string) *http.Response {
	_, _, token := h.get("/panel/login")
	res, _ := h.post("/panel/login", url.Values{"csrf": {token}, "key": {key}})
	return res
}

// token signs in and returns a CSRF token of the room page.
func (h *harness) token(key string) string {
	h.signIn(key)
	_, _, token := h.get("/panel/rooms/sale")
	if token == "" {
		h.t.Fatal("no CSRF token on the room page")
	}
	return token
}

func (h *harness) room() waitroom.Room {
	r, err := h.svc.Room(context.Background(), "sale")
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func TestSignInRequiredAndReturnsToThePageAsked(t *testing.T) {
	h := newHarness(t)
	res, err := h.c.Get(h.srv.URL + "/panel/rooms/sale?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/panel/login?next="+url.QueryEscape("/panel/rooms/sale?x=1") {
		t.Fatalf("unsigned request: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := h.signIn("wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}
	_, body, token := h.get("/panel/login?next=" + url.QueryEscape("/panel/rooms/sale?x=1"))
	if !strings.Contains(body, `name="next" value="/panel/rooms/sale?x=1"`) {
		t.Fatal("the sign-in form does not carry the page asked for")
	}
	res, _ = h.post("/panel/login", url.Values{"csrf": {token}, "key": {adminKey}, "next": {"/panel/rooms/sale?x=1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/panel/rooms/sale?x=1" {
		t.Fatalf("sign-in went to %q", res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "wr_panel" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, "horse") {
		t.Fatalf("session cookie %+v", session)
	}
	if code, body, _ := h.get("/panel/"); code != 200 || !strings.Contains(body, "Winter sale") || !strings.Contains(body, "ops") {
		t.Fatalf("rooms list: %d", code)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/elsewhere"} {
		_, _, token := h.get("/panel/login")
		res, _ := h.post("/panel/login", url.Values{"csrf": {token}, "key": {adminKey}, "next": {next}})
		if res.Header.Get("Location") != "/panel/" {
			t.Fatalf("next=%q sent the sign-in to %q", next, res.Header.Get("Location"))
		}
	}
}

func TestLoginNeedsItsCSRFToken(t *testing.T) {
	h := newHarness(t)
	h.get("/panel/login")
	if res, _ := h.post("/panel/login", url.Values{"csrf": {"forged"}, "key": {adminKey}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged login CSRF: %d", res.StatusCode)
	}
}

func TestActionsNeedCSRFAndAreAudited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	token := h.token(adminKey)
	for range 5 {
		if _, err := h.svc.Enqueue(ctx, "sale", ""); err != nil {
			t.Fatal(err)
		}
	}
	if res, _ := h.post("/panel/rooms/sale/advance", url.Values{"by": {"3"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("advance without CSRF: %d", res.StatusCode)
	}
	if res, _ := h.post("/panel/rooms/sale/advance", url.Values{"by": {"3"}, "csrf": {token}}); res.StatusCode != http.StatusSeeOther {
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
	if h.room().Mode != waitroom.ModePaused {
		t.Fatal("mode not paused")
	}
	if res, _ := h.post("/panel/rooms/sale/reset", url.Values{"confirm": {"sal"}, "csrf": {token}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("reset with a wrong confirmation: %d", res.StatusCode)
	}
	if c, _ := h.svc.Counters(ctx, "sale"); c.Queue != 5 {
		t.Fatal("a mistyped confirmation reset the room")
	}
	h.post("/panel/rooms/sale/reset", url.Values{"confirm": {"sale"}, "csrf": {token}})
	if c, _ := h.svc.Counters(ctx, "sale"); c.Queue != 0 || c.Serving != 0 {
		t.Fatalf("after reset: %+v", c)
	}
	trail, err := h.audit.AuditTrail(ctx, "sale", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range trail {
		if e.Actor != "ops" {
			t.Fatalf("entry by %q, want the signed-in key's name", e.Actor)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "room.reset,room.update,room.serving,room.serving" {
		t.Fatalf("audited %v", actions)
	}
	_, body, _ := h.get("/panel/rooms/sale")
	if !strings.Contains(body, "room.reset") || !strings.Contains(body, `<code>mode</code>: – → paused`) {
		t.Fatal("the room page does not show the audit trail with its changes")
	}
}

// TestAdvancePastTheLineNeedsConfirmation: a move past the end of the line
// is refused with the number of arrivals that would skip it, and done
// only when confirmed.
func TestAdvancePastTheLineNeedsConfirmation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	token := h.token(adminKey)
	for range 46 {
		h.svc.Enqueue(ctx, "sale", "")
	}
	h.post("/panel/rooms/sale/advance", url.Values{"by": {"41"}, "csrf": {token}})
	res, body := h.post("/panel/rooms/sale/advance", url.Values{"by": {"200"}, "csrf": {token}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "the next 195 to arrive would go straight in") ||
		!strings.Contains(body, `name="confirm_beyond" value="1"`) {
		t.Fatalf("advance past the line: %d", res.StatusCode)
	}
	if s, _ := h.svc.Serving(ctx, "sale"); s != 41 {
		t.Fatalf("serving %d after a refused move, want 41", s)
	}
	h.post("/panel/rooms/sale/advance", url.Values{"by": {"200"}, "confirm_beyond": {"1"}, "csrf": {token}})
	if s, _ := h.svc.Serving(ctx, "sale"); s != 241 {
		t.Fatalf("serving %d after a confirmed move, want 241", s)
	}
}

// TestEverySettingFromThePanel: each section of the room page changes the
// room through the API, with the API's validation, and clears what is
// emptied.
func TestEverySettingFromThePanel(t *testing.T) {
	h := newHarness(t)
	token := h.token(adminKey)
	save := func(section string, form url.Values, want int) string {
		t.Helper()
		form.Set("csrf", token)
		res, body := h.post("/panel/rooms/sale/"+section, form)
		if res.StatusCode != want {
			t.Fatalf("%s: %d, want %d", section, res.StatusCode, want)
		}
		return body
	}
	save("inlet", url.Values{"strategy": {"rate"}, "per_minute": {"120"}, "max_active": {"9"}}, http.StatusSeeOther)
	if in := h.room().Inlet; in.Strategy != "rate" || in.PerMinute != 120 || in.MaxActive != 0 {
		t.Fatalf("inlet %+v", in)
	}
	save("inlet", url.Values{"strategy": {"max_active"}, "max_active": {"50"}}, http.StatusSeeOther)
	if in := h.room().Inlet; in.Strategy != "max_active" || in.MaxActive != 50 || in.PerMinute != 0 {
		t.Fatalf("inlet %+v", in)
	}
	if body := save("inlet", url.Values{"strategy": {"rate"}, "per_minute": {"0"}}, http.StatusBadRequest); !strings.Contains(body, "inlet.per_minute: must be a positive count") {
		t.Fatal("a refused inlet does not show the API's message")
	}
	save("mode", url.Values{"mode": {"passthrough"}, "safety_net_threshold": {"80"}}, http.StatusSeeOther)
	if r := h.room(); r.Mode != waitroom.ModePassthrough || r.SafetyNetThreshold != 80 {
		t.Fatalf("mode %q net %d", r.Mode, r.SafetyNetThreshold)
	}
	save("gate", url.Values{"url": {"https://shop.test/health"}, "interval": {"10s"}, "failures_to_pause": {"3"}}, http.StatusSeeOther)
	if g := h.room().HealthGate; g == nil || g.URL != "https://shop.test/health" || g.Interval.D() != 10*time.Second || g.FailuresToPause != 3 {
		t.Fatalf("gate %+v", g)
	}
	save("gate", url.Values{"url": {"https://shop.test/health"}, "remove": {"1"}}, http.StatusSeeOther)
	if h.room().HealthGate != nil {
		t.Fatal("the health gate was not removed")
	}
	save("botgate", url.Values{"difficulty": {"16"}, "ramp_above": {"50"}, "ramp_every": {"25"}, "max_difficulty": {"20"}, "captcha": {"turnstile"}, "max_places_per_visitor": {"2"}}, http.StatusSeeOther)
	if g := h.room().BotGate; g == nil || *g != (waitroom.BotGate{Difficulty: 16, RampAbove: 50, RampEvery: 25, MaxDifficulty: 20, Captcha: "turnstile", MaxPlacesPerVisitor: 2}) {
		t.Fatalf("bot gate %+v", g)
	}
	if body := save("botgate", url.Values{"difficulty": {"30"}}, http.StatusBadRequest); !strings.Contains(body, "bot_gate.difficulty") {
		t.Fatal("a refused bot gate does not show the API's message")
	}
	save("botgate", url.Values{"difficulty": {"16"}, "remove": {"1"}}, http.StatusSeeOther)
	if h.room().BotGate != nil {
		t.Fatal("the bot gate was not removed")
	}
	save("schedule", url.Values{"opens_at": {"2030-01-02T09:00"}, "prequeue": {"30m"}, "closes_at": {"2030-01-02T18:00"}}, http.StatusSeeOther)
	if s := h.room().Schedule; !s.OpensAt.Equal(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)) || s.Prequeue.D() != 30*time.Minute {
		t.Fatalf("schedule %+v", s)
	}
	save("schedule", url.Values{"opens_at": {""}, "prequeue": {""}, "closes_at": {""}}, http.StatusSeeOther)
	if s := h.room().Schedule; !s.OpensAt.IsZero() || s.Prequeue != 0 {
		t.Fatalf("cleared schedule %+v", s)
	}
	save("settings", url.Values{"name": {"Spring sale"}, "token_validity": {"2h"}, "expiry_period": {"10m"}, "expiry_enabled": {"on"}}, http.StatusSeeOther)
	if r := h.room(); r.Name != "Spring sale" || r.TokenValidity.D() != 2*time.Hour || r.AutoAdvance {
		t.Fatalf("settings %+v", r)
	}
	save("branding", url.Values{"title": {"Sale"}, "accent_color": {"#aa0000"}, "message_fr": {"Ouverture à 9 h"}}, http.StatusSeeOther)
	if b := h.room().Branding; b.AccentColor != "#aa0000" || b.Messages["fr"] != "Ouverture à 9 h" {
		t.Fatalf("branding %+v", b)
	}
	save("branding", url.Values{"accent_color": {"red;}"}}, http.StatusBadRequest)
	if h.room().Branding.AccentColor != "#aa0000" {
		t.Fatal("a refused form changed the room")
	}
	body := save("webhooks", url.Values{"url": {"https://hooks.test/w"}, "events": {"admitted", "admin_change"}}, http.StatusOK)
	hooks := h.room().Webhooks
	if len(hooks) != 1 || len(hooks[0].Secret) < 16 || !strings.Contains(body, hooks[0].Secret) || len(hooks[0].Events) != 2 {
		t.Fatalf("webhooks %+v", hooks)
	}
	save("webhooks/0/delete", url.Values{}, http.StatusSeeOther)
	if len(h.room().Webhooks) != 0 {
		t.Fatal("the webhook was not removed")
	}
}

func TestCreateAndDeleteRoom(t *testing.T) {
	h := newHarness(t)
	token := h.token(adminKey)
	res, _ := h.post("/panel/rooms", url.Values{"id": {"gig"}, "name": {"Gig"}, "per_minute": {"30"}, "csrf": {token}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/panel/rooms/gig?done=room_created" {
		t.Fatalf("create: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if r, err := h.svc.Room(context.Background(), "gig"); err != nil || r.Inlet.PerMinute != 30 {
		t.Fatalf("created room %+v %v", r, err)
	}
	if res, body := h.post("/panel/rooms", url.Values{"id": {"gig"}, "csrf": {token}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate: %d", res.StatusCode)
	}
	if res, _ := h.post("/panel/rooms/gig/delete", url.Values{"confirm": {"gi"}, "csrf": {token}}); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("delete with a wrong confirmation: %d", res.StatusCode)
	}
	h.post("/panel/rooms/gig/delete", url.Values{"confirm": {"gig"}, "csrf": {token}})
	if _, err := h.svc.Room(context.Background(), "gig"); waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		t.Fatalf("room after delete: %v", err)
	}
}

// TestViewerOnlyLooks: a viewer's key signs in, sees the room and its
// trail, and can change nothing.
func TestViewerOnlyLooks(t *testing.T) {
	h := newHarness(t)
	h.signIn(viewerKey)
	code, body, token := h.get("/panel/rooms/sale")
	if code != 200 || strings.Contains(body, `action="/panel/rooms/sale/advance"`) || !strings.Contains(body, "watcher") {
		t.Fatalf("viewer's room page: %d", code)
	}
	if res, _ := h.post("/panel/rooms/sale/inlet", url.Values{"strategy": {"rate"}, "per_minute": {"5"}, "csrf": {token}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer's change: %d", res.StatusCode)
	}
	if h.room().Inlet.PerMinute != 0 {
		t.Fatal("a viewer changed the room")
	}
}

func TestCrossSiteOriginRefused(t *testing.T) {
	h := newHarness(t)
	token := h.token(adminKey)
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
