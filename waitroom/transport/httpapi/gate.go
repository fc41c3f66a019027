package httpapi

import (
	"net/http"

	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// challenge hands out a fresh bot-gate challenge for a room: the proof of
// work to solve and the CAPTCHA widget to show (an empty object for a room
// without a gate).
func (a *API) challenge(w http.ResponseWriter, r *http.Request) error {
	id, err := queryEventID(r)
	if err != nil {
		return err
	}
	room, err := a.svc.Room(r.Context(), id)
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	var offer admission.Offer
	if a.opts.Gate != nil {
		if offer, err = a.opts.Gate.Offer(r.Context(), room); err != nil {
			return err
		}
	}
	web.JSON(w, http.StatusOK, web.NoStore, offer)
	return nil
}

// passGate checks an enqueue call's answer with the room's bot gate. A
// refusal carries a fresh challenge in the answer's "challenge" field.
func (a *API) passGate(r *http.Request, id string, answer admission.Answer) error {
	if a.opts.Gate == nil {
		return nil
	}
	room, err := a.svc.Room(r.Context(), id)
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	if !room.BotGate.Challenged() {
		return nil
	}
	if addr := middleware.ClientAddr(r); addr.IsValid() {
		answer.RemoteIP = addr.String()
	}
	return a.opts.Gate.Check(r.Context(), room, answer)
}
