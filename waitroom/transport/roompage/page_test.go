package roompage

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
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
	v := Visit{RoomID: "sale", RoomName: "Sale", Position: 1000, Serving: 100, Queue: 5000, Pace: admission.Pace{Kind: admission.PaceManual}}
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
	// 100 admissions a minute for two minutes, 25 every 15 s: the 700
	// admissions still needed take 7 minutes.
	for range 8 {
		now = now.Add(15 * time.Second)
		v.Serving += 25
		s = get()
	}
	if s.EstimatedWait == nil || s.AdmissionsPerMinute == nil || *s.AdmissionsPerMinute != 100 {
		t.Fatalf("rate: %+v", s)
	}
	if mid := s.EstimatedWait.Expected(); s.EstimatedWait.MinSeconds > 7*60 || s.EstimatedWait.MaxSeconds < 7*60 || mid < 6*time.Minute || mid > 8*time.Minute {
		t.Fatalf("range %+v does not hold 7 minutes near its middle", s.EstimatedWait)
	}
	if s.Text.Wait != "4 to 10 minutes" || s.ExpectedAt == nil || s.Text.Expected == "" || s.Text.Updated == "" {
		t.Fatalf("wait text %q, expected %v %q, updated %q", s.Text.Wait, s.ExpectedAt, s.Text.Expected, s.Text.Updated)
	}
}

// TestConfiguredRateNeedsNoHistory: a room whose settings fix its pace is
// estimated from the first poll, from that pace.
func TestConfiguredRateNeedsNoHistory(t *testing.T) {
	now := t0
	p := newPage(t, &now)
	v := Visit{RoomID: "sale", Position: 16, Serving: 1, Queue: 16, Pace: admission.Pace{Kind: admission.PaceRate, PerMinute: 12, Known: true}}
	r := httptest.NewRequest("GET", "/room/sale", nil)
	s := p.Status(r, v)
	// 15 admissions at 12 a minute: 75 s.
	if s.EstimatedWait == nil || s.EstimatedWait.MinSeconds > 75 || s.EstimatedWait.MaxSeconds < 75 || *s.AdmissionsPerMinute != 12 {
		t.Fatalf("estimate %+v at %v/min", s.EstimatedWait, s.AdmissionsPerMinute)
	}
	if s.Text.Wait != "1 to 2 minutes" {
		t.Fatalf("wait text %q", s.Text.Wait)
	}
	v.Pace = admission.Pace{Kind: admission.PacePaused, Known: true}
	if s := p.Status(r, v); s.EstimatedWait != nil {
		t.Fatalf("a paused room was given an estimate %+v", s.EstimatedWait)
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
	m.Observe("r", "", 100, 1000, t0)
	m.Observe("r", "", 150, 1000, t0.Add(30*time.Second))
	if !m.Observe("r", "", 200, 1000, t0.Add(time.Minute)).Known {
		t.Fatal("no rate after a minute")
	}
	if m.Observe("r", "", 3, 1000, t0.Add(2*time.Minute)).Known {
		t.Fatal("a rate survived the counter going back (reset)")
	}
}

// TestRateMeterCountsOnlyWaitingTime: minutes with nobody waiting (the
// serving counter at the queue) do not dilute the measured pace.
func TestRateMeterCountsOnlyWaitingTime(t *testing.T) {
	m := NewRateMeter(10*time.Minute, 5*time.Second)
	at := t0
	serving, queue := int64(0), int64(12)
	for range 4 { // 12 a minute while people wait: one every 5 s
		m.Observe("r", "", serving, queue, at)
		at, serving = at.Add(15*time.Second), serving+3
	}
	for range 8 { // then two idle minutes with the line empty
		m.Observe("r", "", queue, queue, at)
		at = at.Add(15 * time.Second)
	}
	got := m.Observe("r", "", queue, queue, at)
	if !got.Known || got.PerMinute < 11 || got.PerMinute > 13 {
		t.Fatalf("measured %+v, want 12 a minute", got)
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

// TestRateMeterStartsAfreshOnNewSettings: a room whose inlet changed is
// not estimated from the pace it had before.
func TestRateMeterStartsAfreshOnNewSettings(t *testing.T) {
	m := NewRateMeter(10*time.Minute, 5*time.Second)
	at, serving := t0, int64(0)
	for range 12 {
		m.Observe("r", "max_active 10", serving, 1000, at)
		at, serving = at.Add(10*time.Second), serving+2
	}
	if !m.Observe("r", "max_active 10", serving, 1000, at).Known {
		t.Fatal("no pace after two minutes of moves")
	}
	if got := m.Observe("r", "max_active 50", serving, 1000, at.Add(5*time.Second)); got.Known {
		t.Fatalf("the old cap's pace survived the new one: %+v", got)
	}
}
