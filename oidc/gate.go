package oidc

import (
	"errors"
	"net/http"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// passGate lets a browser without a place through the room's bot gate.
// passed is true when it may take a place now; otherwise passGate has
// answered: the "checking your browser" page (which solves the challenge
// and posts the solution back here), or, for an app asking for JSON, the
// gate's refusal with a challenge to solve.
func (p *Provider) passGate(w http.ResponseWriter, r *http.Request, v *visit) (passed bool, err error) {
	gate := p.cfg.Gate
	if gate == nil {
		return true, nil
	}
	answer := gateAnswer(r, v)
	err = gate.Check(r.Context(), v.room, answer)
	if err == nil {
		err = gate.CountPlace(r.Context(), v.room, p.visitorID(w, r))
	}
	var refused *admission.GateError
	switch {
	case err == nil:
		return true, nil
	case roompage.WantsJSON(r):
		web.Error(w, r, err)
		return false, nil
	case errors.As(err, &refused):
		given := answer != (admission.Answer{RemoteIP: answer.RemoteIP})
		return false, p.room.RenderGate(w, r, roompage.GateVisit{Visit: p.roomVisit(v.room, v, v.ar.ID, 0, waitroom.Counters{}),
			Action: p.loginURL(v.ar.ID), Offer: refused.Offer, Failed: given})
	}
	return false, gatePage(err)
}

// gatePage words the gate's other refusals for the visitor.
func gatePage(err error) error {
	switch code := waitroom.ErrorCode(err); code {
	case waitroom.CodeTooManyPlaces:
		return &web.Problem{Status: http.StatusTooManyRequests, Code: string(code), Title: "gate.too_many.title",
			Message: "gate.too_many.body", OAuth: "access_denied", Cause: err}
	case waitroom.CodeCaptchaUnavailable:
		return &web.Problem{Status: http.StatusServiceUnavailable, Code: string(code), Title: "gate.captcha_down.title",
			Message: "gate.captcha_down.body", RetryAfter: web.RetryAfter, Cause: err}
	}
	return err
}

// gateAnswer reads what the gate page posted: the solved challenge and
// the CAPTCHA widget's token (in the provider's own field, or "captcha").
func gateAnswer(r *http.Request, v *visit) admission.Answer {
	var a admission.Answer
	if addr := middleware.ClientAddr(r); addr.IsValid() {
		a.RemoteIP = addr.String()
	}
	if r.Method != http.MethodPost {
		return a
	}
	a.Challenge, a.Solution = r.PostFormValue("challenge"), r.PostFormValue("solution")
	if field := admission.CaptchaField(v.room.BotGate.Captcha); field != "" {
		a.Captcha = r.PostFormValue(field)
	}
	if a.Captcha == "" {
		a.Captcha = r.PostFormValue("captcha")
	}
	return a
}

// visitorID is the browser's long-lived visitor id (set when missing),
// which the places-per-visitor cap counts.
func (p *Provider) visitorID(w http.ResponseWriter, r *http.Request) string {
	var vc visitorCookie
	if !p.cookies.get(r, visitorCookieName, &vc) || vc.ID == "" {
		vc.ID = randomToken(16)
		p.cookies.set(w, visitorCookieName, vc, visitorCookieTTL)
	}
	return vc.ID
}
