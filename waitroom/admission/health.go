package admission

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Health-gate defaults.
const (
	DefaultProbeInterval = 5 * time.Second
	DefaultProbeTimeout  = 2 * time.Second
)

// HealthGates probes the protected site of every room that has a health
// gate and holds admission back while the probes fail: a probe fails on a
// transport error, a non-2xx answer, or a latency above the gate's
// MaxLatency. FailuresToPause failures in a row pause the room,
// SuccessesToResume successes in a row resume it.
//
// Every replica may probe (it is cheap); only the leader acts on it.
type HealthGates struct {
	client *http.Client
	clock  func() time.Time
	log    *slog.Logger

	mu     sync.Mutex
	states map[string]*gateState
}

type gateState struct {
	url       string // the state is reset when the gate's URL changes
	paused    bool
	fails     int
	successes int
	lastProbe time.Time
	probing   bool
}

// NewHealthGates returns gates probing with client (a default client when
// nil); clock measures probe latency and spacing.
func NewHealthGates(client *http.Client, clock func() time.Time, log *slog.Logger) *HealthGates {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &HealthGates{client: client, clock: clock, log: log, states: map[string]*gateState{}}
}

// Paused reports whether r's gate currently holds admission back.
func (h *HealthGates) Paused(r waitroom.Room) bool {
	if r.HealthGate == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.states[r.ID]
	return st != nil && st.url == r.HealthGate.URL && st.paused
}

// Probe probes r's protected site once and records the outcome; it
// returns whether the probe passed.
func (h *HealthGates) Probe(ctx context.Context, r waitroom.Room) bool {
	g := *r.HealthGate
	ok := h.probe(ctx, g)
	h.record(r, ok)
	return ok
}

func (h *HealthGates) probe(ctx context.Context, g waitroom.HealthGate) bool {
	ctx, cancel := context.WithTimeout(ctx, durationOr(g.Timeout.D(), DefaultProbeTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "waitroom-health-gate/1")
	start := h.clock()
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	latency := h.clock().Sub(start)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	return g.MaxLatency <= 0 || latency <= g.MaxLatency.D()
}

func (h *HealthGates) record(r waitroom.Room, ok bool) {
	g := r.HealthGate
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(r)
	st.lastProbe, st.probing = h.clock(), false
	if st.observe(ok, max(g.FailuresToPause, 1), max(g.SuccessesToResume, 1)) {
		h.log.Info("health gate changed", "room", r.ID, "paused", st.paused)
	}
}

// state returns r's gate state (callers hold mu).
func (h *HealthGates) state(r waitroom.Room) *gateState {
	st := h.states[r.ID]
	if st == nil || st.url != r.HealthGate.URL {
		st = &gateState{url: r.HealthGate.URL}
		h.states[r.ID] = st
	}
	return st
}

// observe counts a probe outcome and flips the gate after enough in a
// row; it reports whether the gate changed.
func (st *gateState) observe(ok bool, failuresToPause, successesToResume int) bool {
	if ok {
		st.successes, st.fails = st.successes+1, 0
		if st.paused && st.successes >= successesToResume {
			st.paused = false
			return true
		}
		return false
	}
	st.fails, st.successes = st.fails+1, 0
	if !st.paused && st.fails >= failuresToPause {
		st.paused = true
		return true
	}
	return false
}

// ProbeDue starts, in the background, a probe of every gated room whose
// interval has passed and that has no probe in flight.
func (h *HealthGates) ProbeDue(ctx context.Context, rooms []waitroom.Room) {
	for _, r := range rooms {
		if r.HealthGate == nil || !h.startProbe(r) {
			continue
		}
		go h.Probe(ctx, r)
	}
}

func (h *HealthGates) startProbe(r waitroom.Room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(r)
	interval := durationOr(r.HealthGate.Interval.D(), DefaultProbeInterval)
	if st.probing || (!st.lastProbe.IsZero() && h.clock().Sub(st.lastProbe) < interval) {
		return false
	}
	st.probing = true
	return true
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
