package roompage

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func newPage(t *testing.T, now *time.Time) *Page {
	t.Helper()
	p, err := New(Options{Clock: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeriveState(t *testing.T) {
	tests := []struct {
		name string
		v    Visit
		want State
	}{
		{"waiting", Visit{Position: 10, Serving: 3}, StateWaiting},
		{"admitted", Visit{Position: 10, Serving: 10}, StateYourTurn},
		{"paused", Visit{Position: 10, Serving: 3, Paused: true}, StatePaused},
		{"a pause holds back the admitted", Visit{Position: 10, Serving: 12, Paused: true}, StatePaused},
		{"closed wins", Visit{Position: 10, Serving: 12, Closed: true}, StateClosed},
		{"not open", Visit{OpensAt: t0.Add(time.Hour)}, StateNotOpen},
		{"opened", Visit{OpensAt: t0.Add(-time.Hour), Position: 2}, StateWaiting},
		{"expired", Visit{Position: 2, Serving: 5, Expired: true}, StateExpired},
	}
	for _, tt := range tests {
		if got := tt.v.DeriveState(t0); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestStatusJSONEstimatesFromMeasuredRate(t *testing.T) {
	now := t0
	p := newPage(t, &now)
	v := Visit{RoomID: "sale", RoomName: "Sale", Position: 1000, Serving: 100}
	get := func() Status {
		r := httptest.NewRequest("GET", "/room/sale", nil)
		r.Header.Set("Accept", "application/json")
		w := httptest.NewRecorder()
		if err := p.Render(w, r, v); err != nil {
			t.Fatal(err)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q", ct)
		}
		var s Status
		if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := get()
	if s.EstimatedWait != nil || s.Text.Wait != "calculating…" {
		t.Fatalf("first poll: wait %v %q, want calculating", s.EstimatedWait, s.Text.Wait)
	}
	if s.Ahead != 899 || s.State != StateWaiting || s.Text.Ahead != "899 people ahead of you" {
		t.Fatalf("first poll: %+v", s)
	}
	// 100 admissions a minute for two minutes: 799 ahead is about 8 minutes.
	now = now.Add(2 * time.Minute)
	v.Serving = 300
	s = get()
	if s.EstimatedWait == nil || s.AdmissionsPerMinute == nil || *s.AdmissionsPerMinute != 100 {
		t.Fatalf("rate: %+v", s)
	}
	if s.EstimatedWait.MinSeconds > 7*60 || s.EstimatedWait.MaxSeconds < 8*60 {
		t.Fatalf("range %+v does not hold 8 minutes", s.EstimatedWait)
	}
	if s.Text.Wait != "5 to 10 minutes" {
		t.Fatalf("wait text %q", s.Text.Wait)
	}
}

func TestRenderFrenchHTML(t *testing.T) {
	now := t0
	p := newPage(t, &now)
	r := httptest.NewRequest("GET", "/room/sale?authRequest=abc", nil)
	r.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	w := httptest.NewRecorder()
	v := Visit{RoomID: "sale", RoomName: "Vente <flash>", Position: 3, Serving: 1, StatusURL: "/room/sale/status?authRequest=abc",
		Brand: Branding{Accent: "#aa0000", Background: "red;}</style>", LogoURL: "javascript:alert(1)"}}
	if err := p.Render(w, r, v); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{
		`<html lang="fr">`, "Vous êtes dans la file", "1 personne devant vous",
		"Vente &lt;flash&gt;", `style="--accent:#aa0000"`,
		`data-status-url="/room/sale/status?authRequest=abc&amp;lang=fr"`,
		`href="/room/sale?authRequest=abc&amp;lang=en"`, `http-equiv="refresh" content="4"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "javascript:") || strings.Contains(body, "</style>") {
		t.Error("unsafe branding reached the page")
	}
}

func TestNoScriptContinuesWhenAdmitted(t *testing.T) {
	now := t0
	p := newPage(t, &now)
	w := httptest.NewRecorder()
	v := Visit{RoomID: "sale", Position: 3, Serving: 3, ContinueURL: "/room/sale/admit?id=1"}
	if err := p.Render(w, httptest.NewRequest("GET", "/room/sale", nil), v); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Body.String(), `content="0;url=/room/sale/admit?id=1"`) {
		t.Error("no meta refresh to the continue URL")
	}
}

func TestRateMeterForgetsOnReset(t *testing.T) {
	m := NewRateMeter(10*time.Minute, 5*time.Second)
	m.Observe("r", 100, t0)
	if _, ok := m.Observe("r", 200, t0.Add(time.Minute)); !ok {
		t.Fatal("no rate after a minute")
	}
	if _, ok := m.Observe("r", 3, t0.Add(2*time.Minute)); ok {
		t.Fatal("a rate survived the counter going back (reset)")
	}
}

func TestOperatorTemplateOverridesBuiltin(t *testing.T) {
	dir := t.TempDir()
	custom := `<!doctype html><html lang="{{.L.Lang}}"><title>{{.Title}}</title><p id="custom">{{.Status.Text.Ahead}}</p></html>`
	if err := os.WriteFile(filepath.Join(dir, "room.html"), []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{TemplateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := p.Render(w, httptest.NewRequest("GET", "/room/sale", nil), Visit{RoomID: "sale", Position: 5, Serving: 2}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.Body.String(), `<p id="custom">2 people ahead of you</p>`) {
		t.Fatalf("operator template not used: %s", w.Body.String())
	}
}
