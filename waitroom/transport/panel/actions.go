package panel

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// done sends the browser back to the room view with a short confirmation
// (post/redirect/get, so a refresh never repeats the action).
func (p *Panel) done(w http.ResponseWriter, r *http.Request, what string) error {
	u := p.opts.Prefix + "/rooms/" + url.PathEscape(r.PathValue("room")) + "?done=" + what
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

// refuse re-shows the room view with the reason a form was refused.
func (p *Panel) refuse(w http.ResponseWriter, r *http.Request, err error) error {
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeInvalid, waitroom.CodeConflict:
		return p.showRoom(w, r, http.StatusBadRequest, waitroom.ErrorMessage(err))
	}
	return err
}

func formInt(r *http.Request, name string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if err != nil {
		return 0, waitroom.Errorf(waitroom.CodeInvalid, "%s: a whole number", name)
	}
	return v, nil
}

func (p *Panel) advance(w http.ResponseWriter, r *http.Request) error {
	by, err := formInt(r, "by")
	if err == nil && (by < 1 || by > 1_000_000_000) {
		err = waitroom.Errorf(waitroom.CodeInvalid, "by: between 1 and 1000000000")
	}
	if err == nil {
		_, err = p.opts.Service.AdvanceServing(r.Context(), r.PathValue("room"), by)
	}
	if err != nil {
		return p.refuse(w, r, err)
	}
	p.audit(r, "advance", "by", by)
	return p.done(w, r, "advanced")
}

func (p *Panel) setServing(w http.ResponseWriter, r *http.Request) error {
	v, err := formInt(r, "serving")
	if err == nil && v < 0 {
		err = waitroom.Errorf(waitroom.CodeInvalid, "serving: 0 or more")
	}
	if err == nil {
		_, err = p.opts.Service.SetServing(r.Context(), r.PathValue("room"), v)
	}
	if err != nil {
		return p.refuse(w, r, err)
	}
	p.audit(r, "set_serving", "serving", v)
	return p.done(w, r, "serving")
}

// setMode pauses, resumes, closes or opens the room.
func (p *Panel) setMode(w http.ResponseWriter, r *http.Request) error {
	mode := waitroom.Mode(r.PostForm.Get("mode"))
	switch mode {
	case waitroom.ModeQueue, waitroom.ModePaused, waitroom.ModeClosed, waitroom.ModePassthrough:
	default:
		return p.refuse(w, r, waitroom.Errorf(waitroom.CodeInvalid, "mode: queue, paused, closed or passthrough"))
	}
	_, err := p.opts.Service.UpdateRoom(r.Context(), r.PathValue("room"), func(room *waitroom.Room) error {
		room.Mode = mode
		return nil
	})
	if err != nil {
		return p.refuse(w, r, err)
	}
	p.audit(r, "mode", "mode", mode)
	return p.done(w, r, "mode")
}

// reset needs the room id typed again: it forgets everyone in line.
func (p *Panel) reset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("room")
	if r.PostForm.Get("confirm") != id {
		return p.showRoom(w, r, http.StatusBadRequest, p.langs.Negotiate(r).T("panel.reset.mismatch"))
	}
	if err := p.opts.Service.Reset(r.Context(), id); err != nil {
		return p.refuse(w, r, err)
	}
	p.sampler.Forget(id)
	if p.opts.OnReset != nil {
		p.opts.OnReset(id)
	}
	p.audit(r, "reset")
	return p.done(w, r, "reset")
}

// settings saves the settings form; everything is validated by the queue
// core and refused as a whole.
func (p *Panel) settings(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	var problems []string
	validity, err := time.ParseDuration(f.Get("token_validity"))
	if err != nil {
		problems = append(problems, "token_validity: a duration such as 1h or 30m")
	}
	expiry, err := time.ParseDuration(f.Get("expiry_period"))
	if err != nil {
		problems = append(problems, "expiry_period: a duration such as 15m")
	}
	opensAt, err := parseLocalTime(f.Get("opens_at"))
	if err != nil {
		problems = append(problems, "opens_at: a date and time (UTC)")
	}
	if len(problems) > 0 {
		return p.showRoom(w, r, http.StatusBadRequest, strings.Join(problems, "; "))
	}
	_, err = p.opts.Service.UpdateRoom(r.Context(), r.PathValue("room"), func(room *waitroom.Room) error {
		room.Name = strings.TrimSpace(f.Get("name"))
		room.TokenValidity = waitroom.Duration(validity)
		room.ExpiryPeriod = waitroom.Duration(expiry)
		room.ExpiryEnabled = f.Get("expiry_enabled") == "on"
		room.AutoAdvance = f.Get("auto_advance") == "on"
		room.Schedule.OpensAt = opensAt
		room.Branding = waitroom.Branding{
			Title: strings.TrimSpace(f.Get("brand_title")), LogoURL: strings.TrimSpace(f.Get("logo_url")),
			AccentColor: colour(f.Get("accent_color")), BackgroundColor: colour(f.Get("background_color")),
			TextColor: colour(f.Get("text_color")),
		}
		return nil
	})
	if err != nil {
		return p.refuse(w, r, err)
	}
	p.audit(r, "settings")
	return p.done(w, r, "settings")
}

// colour reads an optional colour field: a colour picker always sends a
// value, so a separate "use default" checkbox clears it.
func colour(v string) string { return strings.TrimSpace(v) }

// parseLocalTime reads an <input type="datetime-local"> value as UTC; an
// empty value means none.
func parseLocalTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, waitroom.Errorf(waitroom.CodeInvalid, "opens_at")
}

// audit logs every action taken from the panel.
func (p *Panel) audit(r *http.Request, action string, attrs ...any) {
	args := append([]any{"room", r.PathValue("room"), "action", action, "remote", r.RemoteAddr}, attrs...)
	p.opts.Logger.Info("panel: action", args...)
}
