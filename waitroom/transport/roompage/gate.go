package roompage

import (
	"math"
	"net/http"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// PhoneHashesPerSecond is the SHA-256 rate assumed of a typical phone
// solving a challenge in the browser (WebCrypto in a Web Worker), for the
// "about N seconds" hint; docs/bot-gate.md gives the measured desktop
// figure it is derived from.
const PhoneHashesPerSecond = 25_000

// ExpectedSolveSeconds is how long a phone takes, on average, to solve a
// challenge of difficulty bits (2^bits hashes), rounded up, at least 1.
func ExpectedSolveSeconds(bits int) int {
	if bits <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(math.Exp2(float64(bits))/PhoneHashesPerSecond)))
}

// GateVisit is the "checking your browser" page of a gated room: it
// solves the room's challenge in a Web Worker and posts the solution (with
// the CAPTCHA widget's answer, when the room asks for one) to Action.
type GateVisit struct {
	Visit
	Action string
	Offer  admission.Offer
	// Failed says the previous answer was refused (stale, replayed, a
	// CAPTCHA not passed): the page says so and tries again.
	Failed bool
}

type gateData struct {
	pageData
	Title   string
	Brand   brandView
	Action  string
	Offer   admission.Offer
	Seconds int64
	Failed  bool
}

// RenderGate answers with the gate page (status 200: it is a step of the
// visit, not an error).
func (p *Page) RenderGate(w http.ResponseWriter, r *http.Request, g GateVisit) error {
	lp := p.langs.Negotiate(r)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept-Language")
	w.Header().Set("Content-Security-Policy", GateCSP(g.Offer))
	data := gateData{
		pageData: p.pageData(r, lp), Title: lp.T("gate.title"), Brand: g.Brand.clean(g.RoomName),
		Action: g.Action, Offer: g.Offer, Seconds: int64(ExpectedSolveSeconds(g.Offer.Difficulty)), Failed: g.Failed,
	}
	return p.execute(w, http.StatusOK, "gate.html", data)
}

// GateCSP is the Content-Security-Policy of the gate page: scripts and the
// proof-of-work worker from the server only, plus the CAPTCHA provider's
// hosts when the room shows its widget.
func GateCSP(o admission.Offer) string {
	hosts := ""
	if o.Captcha != nil {
		hosts = " " + strings.Join(o.Captcha.Hosts, " ")
	}
	return "default-src 'self'; script-src 'self'" + hosts + "; worker-src 'self'; frame-src" + orNone(hosts) +
		"; connect-src 'self'" + hosts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:" +
		"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
}

func orNone(hosts string) string {
	if hosts == "" {
		return " 'none'"
	}
	return hosts
}
