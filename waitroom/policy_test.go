package waitroom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPolicyValidateNamesEveryField(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		policy Policy
		want   []string // substrings of the error, all must appear
	}{
		{"unknown mode", Policy{Mode: "open"}, []string{`mode: unknown mode "open"`}},
		{"negative rate", Policy{Inlet: Inlet{Strategy: StrategyRate, PerMinute: -5}}, []string{"inlet.per_minute"}},
		{"end before start", Policy{Inlet: Inlet{Strategy: StrategyPeriodic, Increment: 10, Interval: Duration(time.Minute), Start: start, End: start.Add(-time.Minute)}}, []string{"inlet.end"}},
		{"periodic without settings", Policy{Inlet: Inlet{Strategy: StrategyPeriodic}}, []string{"inlet.increment", "inlet.interval", "inlet.start"}},
		{"unknown strategy", Policy{Inlet: Inlet{Strategy: "lottery"}}, []string{`inlet.strategy: unknown strategy "lottery"`}},
		{"zero max active", Policy{Inlet: Inlet{Strategy: StrategyMaxActive}}, []string{"inlet.max_active"}},
		{"field of another strategy", Policy{Inlet: Inlet{Strategy: StrategyRate, PerMinute: 5, MaxActive: 3}}, []string{"inlet.max_active: only applies"}},
		{"safety net outside passthrough", Policy{SafetyNetThreshold: 10}, []string{"safety_net_threshold"}},
		{"closing before opening", Policy{Schedule: Schedule{OpensAt: start, ClosesAt: start.Add(-time.Hour)}}, []string{"schedule.closes_at"}},
		{"prequeue without opening", Policy{Schedule: Schedule{Prequeue: Duration(time.Hour)}}, []string{"schedule.prequeue"}},
		{"bad health gate", Policy{HealthGate: &HealthGate{URL: "ftp://x", MaxLatency: Duration(-time.Second)}}, []string{"health_gate.url", "health_gate.max_latency"}},
		{"bad webhook", Policy{Webhooks: []Webhook{{URL: "nope", Secret: "short", Events: []string{"ticket_created", "bogus"}}}}, []string{"webhooks[0].url", "webhooks[0].secret", "webhooks[0].events[1]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRoom("r1", "Room")
			r.Policy = c.policy
			err := r.Validate()
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("Validate = %v, want invalid_argument", err)
			}
			for _, w := range c.want {
				if !strings.Contains(ErrorMessage(err), w) {
					t.Errorf("error %q does not mention %q", ErrorMessage(err), w)
				}
			}
		})
	}
}

func TestPolicyValidAccepted(t *testing.T) {
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	good := []Policy{
		{},
		{Mode: ModePassthrough, SafetyNetThreshold: 500},
		{Mode: ModePaused, Inlet: Inlet{Strategy: StrategyRate, PerMinute: 600}},
		{Inlet: Inlet{Strategy: StrategyPeriodic, Increment: 10, Interval: Duration(time.Minute), Start: start}},
		{Inlet: Inlet{Strategy: StrategyMaxActive, MaxActive: 100}, HealthGate: &HealthGate{URL: "https://shop.example/health"}},
		{Schedule: Schedule{OpensAt: start, Prequeue: Duration(time.Hour), ClosesAt: start.Add(time.Hour)},
			Webhooks: []Webhook{{URL: "https://hooks.example/w", Secret: "0123456789abcdef", Events: []string{"admitted"}}}},
	}
	for i, p := range good {
		r := NewRoom("r1", "Room")
		r.Policy = p
		if err := r.Validate(); err != nil {
			t.Errorf("policy %d: %v", i, err)
		}
	}
}

func TestPolicyFieldsAreTopLevelInRoomJSON(t *testing.T) {
	r := NewRoom("r1", "Room")
	r.Mode = ModePaused
	r.Inlet = Inlet{Strategy: StrategyRate, PerMinute: 60}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Room
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"mode":"paused"`) || back.Inlet != r.Inlet || back.Mode != ModePaused {
		t.Fatalf("round trip lost policy: %s", b)
	}
	if strings.Contains(string(newRoomJSON(t)), "inlet") {
		t.Fatalf("default room should not carry empty policy fields")
	}
}

func newRoomJSON(t *testing.T) []byte {
	b, err := json.Marshal(NewRoom("r", "R"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedactedHidesSecrets(t *testing.T) {
	p := Policy{Webhooks: []Webhook{{URL: "https://x", Secret: "0123456789abcdef"}}}
	if r := p.Redacted(); r.Webhooks[0].Secret != "redacted" || p.Webhooks[0].Secret == "redacted" {
		t.Fatalf("Redacted = %+v (original %+v)", r, p)
	}
}
