package panel

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/i18n"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Every change goes through the admin REST API (admin.go): the forms here
// only turn fields into the API's JSON, and a refusal shows the API's own
// message above the room.

// done sends the browser back to the room view with a short confirmation
// (post/redirect/get, so a refresh never repeats the action).
func (p *Panel) done(w http.ResponseWriter, r *http.Request, what string) error {
	u := p.roomURL(r.PathValue("room")) + "?done=" + what
	http.Redirect(w, r, u, http.StatusSeeOther)
	return nil
}

func (p *Panel) roomURL(id string) string { return p.opts.Prefix + "/rooms/" + url.PathEscape(id) }

// refuse re-shows the room with the reason the API gave, or returns the
// error (an outage) for the error page.
func (p *Panel) refuse(w http.ResponseWriter, r *http.Request, err error) error {
	if msg, ok := problemOf(err); ok {
		return p.showRoom(w, r, http.StatusBadRequest, roomNote{Problem: msg})
	}
	return err
}

// form reads typed fields of a form and collects every problem, so that a
// form is refused once with all of them.
type form struct {
	v        url.Values
	problems []string
	lp       *i18n.Printer
	langs    []string
}

func (f *form) str(name string) string { return strings.TrimSpace(f.v.Get(name)) }

func (f *form) checked(name string) bool { return f.v.Get(name) == "on" }

// count reads a whole number; empty is 0.
func (f *form) count(name string) int64 {
	s := f.str(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.problems = append(f.problems, name+": "+f.lp.T("panel.form.whole_number"))
	}
	return n
}

// duration reads a duration such as 90s or 15m (checked by the API);
// empty is 0s.
func (f *form) duration(name string) string {
	s := f.str(name)
	if s == "" {
		return "0s"
	}
	if _, err := time.ParseDuration(s); err != nil {
		f.problems = append(f.problems, name+": "+f.lp.T("panel.settings.duration_hint"))
	}
	return s
}

// moment reads an <input type="datetime-local"> value as UTC; empty is
// the zero time (none).
func (f *form) moment(name string) time.Time {
	s := f.str(name)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	f.problems = append(f.problems, name+": "+f.lp.T("panel.form.date_time"))
	return time.Time{}
}

func (p *Panel) newForm(r *http.Request) *form {
	return &form{v: r.PostForm, lp: p.langs.Negotiate(r), langs: p.langs.Languages()}
}

// sections turn a settings form into the room's JSON: each sets every
// field it shows, so that a cleared field is cleared.
var sections = map[string]func(f *form, room waitroom.Room) map[string]any{
	"mode": func(f *form, _ waitroom.Room) map[string]any {
		threshold := int64(0)
		if f.str("mode") == string(waitroom.ModePassthrough) {
			threshold = f.count("safety_net_threshold")
		}
		return map[string]any{"mode": f.str("mode"), "safety_net_threshold": threshold}
	},
	"inlet": func(f *form, _ waitroom.Room) map[string]any {
		in := waitroom.Inlet{Strategy: f.str("strategy")}
		switch in.Strategy {
		case waitroom.StrategyRate:
			in.PerMinute = f.count("per_minute")
		case waitroom.StrategyMaxActive:
			in.MaxActive = f.count("max_active")
		case waitroom.StrategyPeriodic:
			in.Increment, in.Start, in.End = f.count("increment"), f.moment("start"), f.moment("end")
			if d, err := time.ParseDuration(f.duration("interval")); err == nil {
				in.Interval = waitroom.Duration(d)
			}
		}
		return map[string]any{"inlet": inletDoc(in)}
	},
	"gate": func(f *form, _ waitroom.Room) map[string]any {
		if f.str("url") == "" || f.v.Get("remove") != "" {
			return map[string]any{"health_gate": nil}
		}
		return map[string]any{"health_gate": map[string]any{
			"url": f.str("url"), "interval": f.duration("interval"), "timeout": f.duration("timeout"),
			"max_latency": f.duration("max_latency"), "failures_to_pause": f.count("failures_to_pause"),
			"successes_to_resume": f.count("successes_to_resume"),
		}}
	},
	"botgate": func(f *form, _ waitroom.Room) map[string]any {
		g := waitroom.BotGate{Difficulty: int(f.count("difficulty")), RampAbove: f.count("ramp_above"), RampEvery: f.count("ramp_every"),
			MaxDifficulty: int(f.count("max_difficulty")), Captcha: f.str("captcha"), MaxPlacesPerVisitor: f.count("max_places_per_visitor")}
		if g == (waitroom.BotGate{}) || f.v.Get("remove") != "" {
			return map[string]any{"bot_gate": nil}
		}
		return map[string]any{"bot_gate": g}
	},
	"schedule": func(f *form, _ waitroom.Room) map[string]any {
		return map[string]any{"schedule": map[string]any{
			"opens_at": f.moment("opens_at"), "prequeue": f.duration("prequeue"), "closes_at": f.moment("closes_at"),
		}}
	},
	"settings": func(f *form, _ waitroom.Room) map[string]any {
		return map[string]any{
			"name": f.str("name"), "token_validity": f.duration("token_validity"), "expiry_period": f.duration("expiry_period"),
			"expiry_enabled": f.checked("expiry_enabled"), "auto_advance": f.checked("auto_advance"),
		}
	},
	"branding": func(f *form, _ waitroom.Room) map[string]any {
		messages := map[string]string{}
		for _, lang := range f.langs {
			if m := f.str("message_" + lang); m != "" {
				messages[lang] = m
			}
		}
		return map[string]any{"branding": map[string]any{
			"title": f.str("title"), "logo_url": f.str("logo_url"), "accent_color": f.str("accent_color"),
			"background_color": f.str("background_color"), "text_color": f.str("text_color"), "messages": messages,
		}}
	},
	"webhooks": func(f *form, room waitroom.Room) map[string]any {
		hook := waitroom.Webhook{URL: f.str("url"), Secret: f.str("secret"), Events: f.v["events"]}
		return map[string]any{"webhooks": append(slices.Clone(room.Webhooks), hook)}
	},
}

// inletDoc is an inlet as the API reads it, every field present (zero
// times included), so that a field of another strategy is cleared.
func inletDoc(in waitroom.Inlet) map[string]any {
	return map[string]any{"strategy": in.Strategy, "per_minute": in.PerMinute, "max_active": in.MaxActive,
		"increment": in.Increment, "interval": in.Interval.String(), "start": in.Start, "end": in.End}
}

// saveSection saves one settings form of a room through PATCH
// /v1/rooms/{id}.
func (p *Panel) saveSection(w http.ResponseWriter, r *http.Request) error {
	id, section := r.PathValue("room"), r.PathValue("section")
	build, ok := sections[section]
	if !ok {
		return errNotFound
	}
	room, err := p.opts.Service.Room(r.Context(), id)
	if err != nil {
		return err
	}
	f := p.newForm(r)
	generated := ""
	if section == "webhooks" && f.str("secret") == "" {
		generated = b64.EncodeToString(randomBytes(24))
		f.v.Set("secret", generated)
	}
	doc := build(f, room)
	if len(f.problems) > 0 {
		return p.showRoom(w, r, http.StatusBadRequest, roomNote{Problem: strings.Join(f.problems, "; ")})
	}
	if err := p.admin(r, http.MethodPatch, "/v1/rooms/"+url.PathEscape(id), doc, nil); err != nil {
		return p.refuse(w, r, err)
	}
	if generated != "" {
		// Shown once, on this answer only (never in a URL).
		return p.showRoom(w, r, http.StatusOK, roomNote{Secret: generated, Done: "webhooks"})
	}
	return p.done(w, r, section)
}

// deleteWebhook removes the room's n-th receiver.
func (p *Panel) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("room")
	room, err := p.opts.Service.Room(r.Context(), id)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(room.Webhooks) {
		return errNotFound
	}
	hooks := slices.Delete(slices.Clone(room.Webhooks), n, n+1)
	if err := p.admin(r, http.MethodPatch, "/v1/rooms/"+url.PathEscape(id), map[string]any{"webhooks": hooks}, nil); err != nil {
		return p.refuse(w, r, err)
	}
	return p.done(w, r, "webhooks")
}

// move is a move of the serving counter the API refused because it passes
// the end of the line: the room view asks to confirm it.
type move struct {
	Action  string // advance or serving
	Field   string // by or serving
	Value   int64
	Message string
}

// advance lets "by" more visitors in; past the end of the line only with
// the operator's confirmation.
func (p *Panel) advance(w http.ResponseWriter, r *http.Request) error {
	return p.moveServing(w, r, "advance", "by", http.MethodPost, "/advance")
}

func (p *Panel) setServing(w http.ResponseWriter, r *http.Request) error {
	return p.moveServing(w, r, "serving", "serving", http.MethodPut, "/serving")
}

func (p *Panel) moveServing(w http.ResponseWriter, r *http.Request, action, field, method, path string) error {
	f := p.newForm(r)
	v := f.count(field)
	if len(f.problems) > 0 {
		return p.showRoom(w, r, http.StatusBadRequest, roomNote{Problem: strings.Join(f.problems, "; ")})
	}
	body := map[string]any{field: v, "allow_beyond_queue": f.v.Get("confirm_beyond") == "1"}
	err := p.admin(r, method, "/v1/rooms/"+url.PathEscape(r.PathValue("room"))+path, body, nil)
	if pr, ok := err.(*web.Problem); ok && pr.Code == "beyond_queue" {
		msg := pr.Message
		if c, err := p.opts.Service.Counters(r.Context(), r.PathValue("room")); err == nil {
			target := v
			if field == "by" {
				target = c.Serving + v
			}
			lp := p.langs.Negotiate(r)
			msg = lp.T("panel.move.beyond", "serving", lp.Number(target), "joined", lp.Number(c.Queue), "skip", lp.Number(target-c.Queue))
		}
		return p.showRoom(w, r, http.StatusConflict, roomNote{Move: &move{Action: action, Field: field, Value: v, Message: msg}})
	}
	if err != nil {
		return p.refuse(w, r, err)
	}
	return p.done(w, r, action)
}

// reset needs the room id typed again: it forgets everyone in line.
func (p *Panel) reset(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("room")
	if r.PostForm.Get("confirm") != id {
		return p.showRoom(w, r, http.StatusBadRequest, roomNote{Problem: p.langs.Negotiate(r).T("panel.reset.mismatch")})
	}
	if err := p.admin(r, http.MethodPost, "/v1/rooms/"+url.PathEscape(id)+"/reset", nil, nil); err != nil {
		return p.refuse(w, r, err)
	}
	p.sampler.Forget(id)
	if p.opts.OnReset != nil {
		p.opts.OnReset(id)
	}
	return p.done(w, r, "reset")
}

// deleteRoom also needs the id typed again.
func (p *Panel) deleteRoom(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("room")
	if r.PostForm.Get("confirm") != id {
		return p.showRoom(w, r, http.StatusBadRequest, roomNote{Problem: p.langs.Negotiate(r).T("panel.delete.mismatch")})
	}
	if err := p.admin(r, http.MethodDelete, "/v1/rooms/"+url.PathEscape(id), nil, nil); err != nil {
		return p.refuse(w, r, err)
	}
	p.sampler.Forget(id)
	http.Redirect(w, r, p.opts.Prefix+"/?done=room_deleted", http.StatusSeeOther)
	return nil
}

// createRoom creates a room with the defaults and, when given, a rate.
func (p *Panel) createRoom(w http.ResponseWriter, r *http.Request) error {
	f := p.newForm(r)
	doc := map[string]any{"id": f.str("id"), "name": f.str("name")}
	if rate := f.count("per_minute"); rate > 0 {
		doc["inlet"] = map[string]any{"strategy": waitroom.StrategyRate, "per_minute": rate}
	}
	if len(f.problems) == 0 {
		err := p.admin(r, http.MethodPost, "/v1/rooms", doc, nil)
		if msg, ok := problemOf(err); ok {
			f.problems = append(f.problems, msg)
		} else if err != nil {
			return err
		}
	}
	if len(f.problems) > 0 {
		return p.showRooms(w, r, http.StatusBadRequest, strings.Join(f.problems, "; "), f.v)
	}
	http.Redirect(w, r, p.roomURL(f.str("id"))+"?done=room_created", http.StatusSeeOther)
	return nil
}
