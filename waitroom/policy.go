package waitroom

import (
	"fmt"
	"net/url"
	"time"
)

// Mode says how a room treats arrivals.
type Mode string

// Room modes. The empty mode reads as ModeQueue.
const (
	// ModeQueue: arrivals wait until the inlet strategy admits them.
	ModeQueue Mode = "queue"
	// ModePassthrough: arrivals are admitted at once, but still counted and
	// given tokens (so the max-active numbers and webhooks stay meaningful).
	// With SafetyNetThreshold set, the room queues as soon as that many
	// sessions are active and passes through again when it drops below.
	ModePassthrough Mode = "passthrough"
	// ModePaused: arrivals are enqueued but nobody is admitted.
	ModePaused Mode = "paused"
	// ModeClosed: no new entries; those already in line keep draining.
	ModeClosed Mode = "closed"
)

// Inlet strategy names.
const (
	StrategyManual    = "manual"
	StrategyPeriodic  = "periodic"
	StrategyRate      = "rate"
	StrategyMaxActive = "max_active"
)

// Policy is the admission settings of a room: its mode, the inlet strategy
// that moves its serving counter, its schedule, an optional health gate and
// its webhooks. It is embedded in Room, so its fields sit at the top level
// of the room document.
type Policy struct {
	Mode Mode `json:"mode,omitempty"`
	// SafetyNetThreshold (passthrough only): queue once this many sessions
	// are active. 0 turns the safety net off.
	SafetyNetThreshold int64       `json:"safety_net_threshold,omitempty"`
	Inlet              Inlet       `json:"inlet,omitzero"`
	Schedule           Schedule    `json:"schedule,omitzero"`
	HealthGate         *HealthGate `json:"health_gate,omitempty"`
	Webhooks           []Webhook   `json:"webhooks,omitempty"`
	// BotGate is what a newcomer must present to take a place (botgate.go).
	BotGate *BotGate `json:"bot_gate,omitempty"`
}

// EffectiveMode returns the mode, ModeQueue when unset.
func (p Policy) EffectiveMode() Mode {
	if p.Mode == "" {
		return ModeQueue
	}
	return p.Mode
}

// Inlet is the strategy that moves the serving counter. Only the fields of
// the chosen strategy are used.
type Inlet struct {
	// Strategy is manual (the default: only the admin API moves the
	// counter), periodic, rate or max_active.
	Strategy string `json:"strategy,omitempty"`
	// Periodic: advance by Increment every Interval from Start, until End
	// when End is set.
	Increment int64     `json:"increment,omitempty"`
	Interval  Duration  `json:"interval,omitempty"`
	Start     time.Time `json:"start,omitzero"`
	End       time.Time `json:"end,omitzero"`
	// Rate: admit PerMinute new visitors a minute, released every second.
	PerMinute int64 `json:"per_minute,omitempty"`
	// MaxActive: keep active sessions plus admitted-but-unused positions at
	// or below MaxActive.
	MaxActive int64 `json:"max_active,omitempty"`
}

// EffectiveStrategy returns the strategy name, manual when unset.
func (in Inlet) EffectiveStrategy() string {
	if in.Strategy == "" {
		return StrategyManual
	}
	return in.Strategy
}

// Schedule is a room's opening hours. With OpensAt set, arrivals during the
// Prequeue window before it are shuffled into a random order at opening;
// arrivals before the window are refused. Entry ends at ClosesAt.
type Schedule struct {
	OpensAt  time.Time `json:"opens_at,omitzero"`
	Prequeue Duration  `json:"prequeue,omitempty"`
	ClosesAt time.Time `json:"closes_at,omitzero"`
}

// PrequeueOpensAt is when the pre-queue window starts (OpensAt when there
// is no window).
func (s Schedule) PrequeueOpensAt() time.Time { return s.OpensAt.Add(-s.Prequeue.D()) }

// HealthGate probes the protected site and pauses admission while it fails.
type HealthGate struct {
	URL string `json:"url"`
	// Interval between probes (default 5s).
	Interval Duration `json:"interval,omitempty"`
	// Timeout of one probe (default 2s).
	Timeout Duration `json:"timeout,omitempty"`
	// MaxLatency: a probe slower than this counts as a failure (0: only
	// errors and non-2xx answers fail).
	MaxLatency Duration `json:"max_latency,omitempty"`
	// FailuresToPause consecutive failures pause admission (default 1);
	// SuccessesToResume consecutive successes resume it (default 1).
	FailuresToPause   int `json:"failures_to_pause,omitempty"`
	SuccessesToResume int `json:"successes_to_resume,omitempty"`
}

// Webhook is one receiver of a room's events.
type Webhook struct {
	URL string `json:"url"`
	// Secret keys the HMAC-SHA256 signature of every delivery.
	Secret string `json:"secret"`
	// Events limits the deliveries to these event types (empty: all).
	Events []string `json:"events,omitempty"`
}

// EventTypes are the webhook event types a room emits.
var EventTypes = []string{
	"ticket_created", "admitted", "token_generated", "session_updated",
	"automatic_serving_counter_incr", "room_state_changed", "waiting_room_metrics", AuditEventType,
}

// Redacted returns p with webhook secrets hidden, for answers that show a
// room's settings.
func (p Policy) Redacted() Policy {
	if len(p.Webhooks) == 0 {
		return p
	}
	hooks := make([]Webhook, len(p.Webhooks))
	for i, h := range p.Webhooks {
		if h.Secret != "" {
			h.Secret = "redacted"
		}
		hooks[i] = h
	}
	p.Webhooks = hooks
	return p
}

const maxCount = 1 << 40 // far above any real crowd, far below overflow

// problems returns every invalid setting of p, each naming its field.
func (p Policy) problems() []string {
	var out []string
	switch p.EffectiveMode() {
	case ModeQueue, ModePassthrough, ModePaused, ModeClosed:
	default:
		out = append(out, fmt.Sprintf("mode: unknown mode %q (want queue, passthrough, paused or closed)", p.Mode))
	}
	if p.SafetyNetThreshold < 0 || p.SafetyNetThreshold > maxCount {
		out = append(out, "safety_net_threshold: must be 0 (off) or a positive count")
	} else if p.SafetyNetThreshold > 0 && p.EffectiveMode() != ModePassthrough {
		out = append(out, "safety_net_threshold: only applies with mode passthrough")
	}
	out = append(out, p.Inlet.problems()...)
	out = append(out, p.Schedule.problems()...)
	if p.HealthGate != nil {
		out = append(out, p.HealthGate.problems()...)
	}
	if p.BotGate != nil {
		out = append(out, p.BotGate.problems()...)
	}
	if len(p.Webhooks) > 10 {
		out = append(out, "webhooks: at most 10 per room")
	}
	for i, h := range p.Webhooks {
		out = append(out, h.problems(fmt.Sprintf("webhooks[%d]", i))...)
	}
	return out
}

func (in Inlet) problems() []string {
	var out []string
	s := in.EffectiveStrategy()
	switch s {
	case StrategyManual:
	case StrategyPeriodic:
		if in.Increment <= 0 || in.Increment > maxCount {
			out = append(out, "inlet.increment: must be a positive count")
		}
		if in.Interval.D() < time.Second || in.Interval.D() > 24*time.Hour {
			out = append(out, "inlet.interval: between 1s and 24h")
		}
		if in.Start.IsZero() {
			out = append(out, "inlet.start: required for the periodic strategy")
		}
		if !in.End.IsZero() && !in.End.After(in.Start) {
			out = append(out, "inlet.end: must be after inlet.start")
		}
	case StrategyRate:
		if in.PerMinute <= 0 || in.PerMinute > maxCount {
			out = append(out, "inlet.per_minute: must be a positive count")
		}
	case StrategyMaxActive:
		if in.MaxActive <= 0 || in.MaxActive > maxCount {
			out = append(out, "inlet.max_active: must be a positive count")
		}
	default:
		out = append(out, fmt.Sprintf("inlet.strategy: unknown strategy %q (want manual, periodic, rate or max_active)", in.Strategy))
	}
	if s != StrategyPeriodic && (in.Increment != 0 || in.Interval != 0 || !in.Start.IsZero() || !in.End.IsZero()) {
		out = append(out, "inlet: increment, interval, start and end only apply to the periodic strategy")
	}
	if s != StrategyRate && in.PerMinute != 0 {
		out = append(out, "inlet.per_minute: only applies to the rate strategy")
	}
	if s != StrategyMaxActive && in.MaxActive != 0 {
		out = append(out, "inlet.max_active: only applies to the max_active strategy")
	}
	return out
}

func (s Schedule) problems() []string {
	var out []string
	if s.Prequeue < 0 || s.Prequeue.D() > 7*24*time.Hour {
		out = append(out, "schedule.prequeue: between 0 and 168h")
	}
	if s.Prequeue > 0 && s.OpensAt.IsZero() {
		out = append(out, "schedule.prequeue: needs schedule.opens_at")
	}
	if !s.ClosesAt.IsZero() && !s.OpensAt.IsZero() && !s.ClosesAt.After(s.OpensAt) {
		out = append(out, "schedule.closes_at: must be after schedule.opens_at")
	}
	return out
}

func (g HealthGate) problems() []string {
	var out []string
	if u, err := url.Parse(g.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		out = append(out, "health_gate.url: an absolute http or https URL")
	}
	if g.Interval != 0 && (g.Interval.D() < 100*time.Millisecond || g.Interval.D() > time.Hour) {
		out = append(out, "health_gate.interval: between 100ms and 1h")
	}
	if g.Timeout != 0 && (g.Timeout.D() < 10*time.Millisecond || g.Timeout.D() > time.Minute) {
		out = append(out, "health_gate.timeout: between 10ms and 1m")
	}
	if g.MaxLatency < 0 || g.MaxLatency.D() > time.Minute {
		out = append(out, "health_gate.max_latency: between 0 (off) and 1m")
	}
	if g.FailuresToPause < 0 || g.FailuresToPause > 100 {
		out = append(out, "health_gate.failures_to_pause: between 0 (default 1) and 100")
	}
	if g.SuccessesToResume < 0 || g.SuccessesToResume > 100 {
		out = append(out, "health_gate.successes_to_resume: between 0 (default 1) and 100")
	}
	return out
}

func (h Webhook) problems(field string) []string {
	var out []string
	if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		out = append(out, field+".url: an absolute http or https URL")
	}
	if len(h.Secret) < 16 || len(h.Secret) > 256 {
		out = append(out, field+".secret: between 16 and 256 characters")
	}
	for j, e := range h.Events {
		if !knownEvent(e) {
			out = append(out, fmt.Sprintf("%s.events[%d]: unknown event type %q", field, j, e))
		}
	}
	return out
}

func knownEvent(e string) bool {
	for _, t := range EventTypes {
		if t == e {
			return true
		}
	}
	return false
}

// Redacted returns r with webhook secrets hidden, for answers that show a
// room's settings.
func (r Room) Redacted() Room {
	r.Policy = r.Policy.Redacted()
	return r
}
