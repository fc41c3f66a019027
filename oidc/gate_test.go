package oidc_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

func withGate(g waitroom.BotGate) envOption { return func(c *envConfig) { c.gate = &g } }

var (
	tokenAttr      = regexp.MustCompile(`data-token="([A-Za-z0-9_-]+)"`)
	difficultyAttr = regexp.MustCompile(`data-difficulty="(\d+)"`)
)

// solveGatePage reads the challenge off the gate page and solves it, as
// the page's worker does.
func solveGatePage(t *testing.T, p page) url.Values {
	t.Helper()
	tok, bits := tokenAttr.FindStringSubmatch(p.body), difficultyAttr.FindStringSubmatch(p.body)
	if tok == nil || bits == nil {
		t.Fatalf("not the gate page: %d %s", p.status, p.body)
	}
	d, _ := strconv.Atoi(bits[1])
	return url.Values{"challenge": {tok[1]}, "solution": {strconv.FormatUint(admission.Solve(tok[1], d), 10)}}
}

func (e *env) queued() int64 {
	e.t.Helper()
	c, err := e.svc.Counters(e.ctx, room1)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Queue
}

// TestGatedLogin: in a gated room a new browser gets the "checking your
// browser" page (no place yet), takes a place once it posts a solution,
// and a replayed solution takes none.
func TestGatedLogin(t *testing.T) {
	for _, b := range []backend{embeddedBackend(), redispgBackend()} {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(b), withGate(waitroom.BotGate{Difficulty: 6}))
			visitor := e.browser()
			gatePage := visitor.get(e.authorizeURL(authParams("rp1", rpRedirect)))
			if gatePage.status != http.StatusOK || !strings.Contains(gatePage.body, "pow-worker.js") {
				t.Fatalf("gate page: %d %s", gatePage.status, gatePage.body)
			}
			if csp := gatePage.header.Get("Content-Security-Policy"); !strings.Contains(csp, "worker-src 'self'") || strings.Contains(csp, "unsafe-inline' 'self'; script") {
				t.Fatalf("gate page CSP %q", csp)
			}
			if n := e.queued(); n != 0 {
				t.Fatalf("the gate page took %d places", n)
			}
			answer := solveGatePage(t, gatePage)
			room := visitor.post(gatePage.url.String(), answer)
			if room.status != http.StatusOK || room.url.Path != gatePage.url.Path || !strings.Contains(room.body, `id="position"`) {
				t.Fatalf("after the solution: %d %s %s", room.status, room.url, room.body)
			}
			if n := e.queued(); n != 1 {
				t.Fatalf("the line holds %d places, want 1", n)
			}
			// The same browser reloading keeps its place without a new check.
			if again := visitor.get(gatePage.url.String()); strings.Contains(again.body, "pow-worker.js") || e.queued() != 1 {
				t.Fatalf("a reload asked to solve again or took another place (line %d)", e.queued())
			}

			thief := e.browser()
			other := thief.get(e.authorizeURL(authParams("rp1", rpRedirect)))
			replayed := thief.post(other.url.String(), answer)
			if !strings.Contains(replayed.body, `id="gate-failed"`) {
				t.Fatalf("a replayed solution was not refused: %d %s", replayed.status, replayed.body)
			}
			if n := e.queued(); n != 1 {
				t.Fatalf("a replayed solution grew the line to %d", n)
			}
		})
	}
}

// TestGatedLoginJSON: an app asking for JSON gets the documented 403
// with the challenge to solve.
func TestGatedLoginJSON(t *testing.T) {
	e := newEnv(t, withGate(waitroom.BotGate{Difficulty: 4}))
	b := e.browser()
	start := b.get(e.authorizeURL(authParams("rp1", rpRedirect)))
	req, _ := http.NewRequest(http.MethodGet, start.url.String(), nil)
	req.Header.Set("Accept", "application/json")
	p := b.do(req)
	var body struct {
		Code      string          `json:"code"`
		Challenge admission.Offer `json:"challenge"`
	}
	if err := json.Unmarshal([]byte(p.body), &body); err != nil || p.status != http.StatusForbidden || body.Code != "challenge_required" || body.Challenge.Token == "" {
		t.Fatalf("JSON client without a solution: %d %s", p.status, p.body)
	}
}

// TestGatedLoginPlacesPerVisitor: one browser takes at most the room's
// cap of places, even when its sessions end and it queues again.
func TestGatedLoginPlacesPerVisitor(t *testing.T) {
	e := newEnv(t, withGate(waitroom.BotGate{Difficulty: 1, MaxPlacesPerVisitor: 1}))
	b := e.browser()
	first := b.get(e.authorizeURL(authParams("rp1", rpRedirect)))
	b.post(first.url.String(), solveGatePage(t, first))
	// The browser drops its ticket (a new session): it would queue again.
	for _, c := range b.c.Jar.Cookies(first.url) {
		if strings.HasPrefix(c.Name, "wr_t") {
			b.c.Jar.SetCookies(first.url, []*http.Cookie{{Name: c.Name, Value: "", MaxAge: -1, Path: "/"}})
		}
	}
	second := b.get(e.authorizeURL(authParams("rp1", rpRedirect)))
	refused := b.post(second.url.String(), solveGatePage(t, second))
	if refused.status != http.StatusTooManyRequests || !strings.Contains(refused.body, "You already have places in this line") {
		t.Fatalf("a second place for one visitor: %d %s", refused.status, refused.body)
	}
	if n := e.queued(); n != 1 {
		t.Fatalf("the line holds %d places, want 1", n)
	}
}

// TestReplayedTicketCookie: the signed ticket cookie of one browser,
// replayed by other browsers on logins of their own, holds one place: the
// line does not grow.
func TestReplayedTicketCookie(t *testing.T) {
	for _, b := range []backend{embeddedBackend(), redispgBackend()} {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, withBackend(b))
			first := e.browser()
			room := first.get(e.authorizeURL(authParams("rp1", rpRedirect)))
			var ticket *http.Cookie
			for _, c := range first.c.Jar.Cookies(room.url) {
				if c.Name == "wr_t_"+room1 {
					ticket = c
				}
			}
			if ticket == nil || e.queued() != 1 {
				t.Fatalf("no ticket cookie after the first visit (queue %d)", e.queued())
			}
			for range 5 {
				replayer := e.browser()
				replayer.c.Jar.SetCookies(room.url, []*http.Cookie{{Name: ticket.Name, Value: ticket.Value, Path: "/"}})
				if p := replayer.get(e.authorizeURL(authParams("rp2", rpRedirect))); !strings.Contains(p.body, `id="position"`) {
					t.Fatalf("the replayed cookie's login did not reach the room: %d %s", p.status, p.body)
				}
			}
			if n := e.queued(); n != 1 {
				t.Fatalf("one ticket cookie replayed by 5 browsers: the line holds %d places, want 1", n)
			}
		})
	}
}
