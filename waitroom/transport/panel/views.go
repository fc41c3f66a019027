package panel

import (
	"context"
	"net/http"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

func (p *Panel) loginForm(w http.ResponseWriter, r *http.Request) error {
	return p.showLogin(w, r, http.StatusOK, "")
}

// showLogin sets a fresh pre-session cookie whose CSRF token the form
// carries, so a sign-in cannot be forced from another site.
func (p *Panel) showLogin(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	nonce := b64.EncodeToString(randomBytes(16))
	http.SetCookie(w, p.sessions.cookie(loginCookie, nonce, 0))
	data := loginView{base: p.base(r, p.langs.Negotiate(r).T("panel.login.title")), Problem: problem}
	data.CSRF = p.sessions.csrf(nonce)
	return p.render(w, status, "panel/login.html", data)
}

type loginView struct {
	base
	Problem string
}

func (p *Panel) login(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadForm
	}
	if !sameOrigin(r) || !p.sessions.checkCSRF(cookieValue(r, loginCookie), r.PostForm.Get("csrf")) {
		return errForbidden
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" || len(key) > 512 || !p.opts.VerifyKey(key) {
		p.opts.Logger.Warn("panel: sign-in refused", "remote", r.RemoteAddr)
		return p.showLogin(w, r, http.StatusUnauthorized, p.langs.Negotiate(r).T("panel.login.wrong_key"))
	}
	http.SetCookie(w, p.sessions.clear(loginCookie))
	http.SetCookie(w, p.sessions.cookie(sessionCookie, p.sessions.issue(), p.opts.SessionTTL))
	http.Redirect(w, r, p.opts.Prefix+"/", http.StatusSeeOther)
	return nil
}

func (p *Panel) logout(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, p.sessions.clear(sessionCookie))
	http.Redirect(w, r, p.opts.Prefix+"/login", http.StatusSeeOther)
	return nil
}

// roomRow is a room with its live numbers.
type roomRow struct {
	Room     waitroom.Room
	Counters waitroom.Counters
	Active   int64
	Mode     waitroom.Mode
}

func (p *Panel) row(ctx context.Context, room waitroom.Room) (roomRow, error) {
	c, err := p.sampler.SampleRoom(ctx, room.ID)
	if err != nil {
		return roomRow{}, err
	}
	active, err := p.opts.Service.ActiveTokens(ctx, room.ID)
	if err != nil {
		return roomRow{}, err
	}
	return roomRow{Room: room, Counters: c, Active: active, Mode: room.EffectiveMode()}, nil
}

func (p *Panel) roomList(w http.ResponseWriter, r *http.Request) error {
	rooms, err := p.opts.Service.Rooms(r.Context())
	if err != nil {
		return err
	}
	rows := make([]roomRow, 0, len(rooms))
	for _, room := range rooms {
		row, err := p.row(r.Context(), room)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	data := listView{base: p.base(r, p.langs.Negotiate(r).T("panel.rooms.title")), Rooms: rows}
	return p.render(w, http.StatusOK, "panel/rooms.html", data)
}

type listView struct {
	base
	Rooms []roomRow
}

// roomStats is the live part of the room view, polled by panel.js.
type roomStats struct {
	Room          string            `json:"room"`
	Mode          waitroom.Mode     `json:"mode"`
	Counters      waitroom.Counters `json:"counters"`
	Waiting       int64             `json:"waiting"`
	Active        int64             `json:"active"`
	RatePerMinute *float64          `json:"admissions_per_minute"`
	History       []Sample          `json:"history"`
}

func (p *Panel) stats(ctx context.Context, id string) (roomStats, error) {
	room, err := p.opts.Service.Room(ctx, id)
	if err != nil {
		return roomStats{}, err
	}
	row, err := p.row(ctx, room)
	if err != nil {
		return roomStats{}, err
	}
	s := roomStats{Room: id, Mode: row.Mode, Counters: row.Counters, Waiting: row.Counters.Waiting(), Active: row.Active, History: p.sampler.History(id)}
	if rate, ok := p.sampler.RatePerMinute(id); ok {
		s.RatePerMinute = &rate
	}
	return s, nil
}

func (p *Panel) roomStats(w http.ResponseWriter, r *http.Request) error {
	s, err := p.stats(r.Context(), r.PathValue("room"))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, s)
	return nil
}

func (p *Panel) roomView(w http.ResponseWriter, r *http.Request) error {
	return p.showRoom(w, r, http.StatusOK, "")
}

// showRoom renders the room view; problem, when set, explains why the last
// form was refused.
func (p *Panel) showRoom(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	id := r.PathValue("room")
	room, err := p.opts.Service.Room(r.Context(), id)
	if err != nil {
		return err
	}
	s, err := p.stats(r.Context(), id)
	if err != nil {
		return err
	}
	lp := p.langs.Negotiate(r)
	b := p.base(r, lp.T("panel.room.title", "room", displayName(room)))
	if done := r.URL.Query().Get("done"); done != "" && validFlash[done] {
		b.Flash = lp.T("panel.done." + done)
	}
	data := roomView{base: b, Room: room, Stats: s, Name: displayName(room), AdvanceMax: max(100, s.Waiting), Problem: problem}
	return p.render(w, status, "panel/room.html", data)
}

var validFlash = map[string]bool{"advanced": true, "serving": true, "mode": true, "reset": true, "settings": true, "client": true, "client_deleted": true}

func displayName(r waitroom.Room) string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

type roomView struct {
	base
	Room       waitroom.Room
	Name       string
	Stats      roomStats
	AdvanceMax int64
	Problem    string
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
