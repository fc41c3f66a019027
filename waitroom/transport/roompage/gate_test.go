package roompage_test

import (
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
)

// TestGateCSP: the gate page runs its worker from the server only, and
// lets a CAPTCHA provider's hosts in only for a room that shows its widget.
func TestGateCSP(t *testing.T) {
	plain := roompage.GateCSP(admission.Offer{Token: "t", Difficulty: 16})
	for _, want := range []string{"script-src 'self';", "worker-src 'self';", "frame-src 'none';", "frame-ancestors 'none'"} {
		if !strings.Contains(plain, want) {
			t.Errorf("CSP %q lacks %q", plain, want)
		}
	}
	if strings.Contains(plain, "challenges.cloudflare.com") || strings.Contains(plain, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("CSP of a room without a CAPTCHA: %q", plain)
	}
	widget := &admission.CaptchaWidget{Provider: "turnstile", Hosts: []string{"https://challenges.cloudflare.com"}}
	withCaptcha := roompage.GateCSP(admission.Offer{Captcha: widget})
	for _, want := range []string{"script-src 'self' https://challenges.cloudflare.com;", "frame-src https://challenges.cloudflare.com;"} {
		if !strings.Contains(withCaptcha, want) {
			t.Errorf("CSP %q lacks %q", withCaptcha, want)
		}
	}
}

func TestExpectedSolveSeconds(t *testing.T) {
	for bits, want := range map[int]int{0: 0, 1: 1, 16: 3, 20: 42} {
		if got := roompage.ExpectedSolveSeconds(bits); got != want {
			t.Errorf("ExpectedSolveSeconds(%d) = %d, want %d", bits, got, want)
		}
	}
}
