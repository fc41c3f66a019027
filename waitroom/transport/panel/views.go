package panel

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
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
	data := loginView{base: p.base(r, p.langs.Negotiate(r).T("panel.login.title")), Problem: problem, Next: p.next(r)}
	data.CSRF = p.sessions.csrf(nonce)
	return p.render(w, status, "panel/login.html", data)
}

type loginView struct {
	base
	Problem string
	// Next is the page to return to after signing in.
	Next string
}

// next is the panel page a sign-in returns to: only a path of the panel
// itself, so that the sign-in cannot be made to send anyone elsewhere.
func (p *Panel) next(r *http.Request) string {
	n := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		n = r.PostForm.Get("next")
	}
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, p.opts.Prefix+"/") || strings.Contains(u.Path, "//") ||
		strings.HasPrefix(u.Path, p.opts.Prefix+"/login") {
		return p.opts.Prefix + "/"
	}
	return u.RequestURI()
}

func (p *Panel) login(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadForm
	}
	if !sameOrigin(r) || !p.sessions.checkCSRF(cookieValue(r, loginCookie), r.PostForm.Get("csrf")) {
		return errForbidden
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	actor, ok := p.opts.Identify(key)
	if key == "" || len(key) > 512 || !ok {
		p.opts.Logger.Warn("panel: sign-in refused", "remote", r.RemoteAddr)
		return p.showLogin(w, r, http.StatusUnauthorized, p.langs.Negotiate(r).T("panel.login.wrong_key"))
	}
	p.opts.Logger.Info("panel: signed in", "operator", actor.Name, "viewer", actor.ReadOnly)
	http.SetCookie(w, p.sessions.clear(loginCookie))
	http.SetCookie(w, p.sessions.cookie(sessionCookie, p.sessions.issue(actor), p.opts.SessionTTL))
	http.Redirect(w, r, p.next(r), http.StatusSeeOther)
	return nil
}

func (p *Panel) logout(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, p.sessions.clear(sessionCookie))
	http.Redirect(w, r, p.opts.Prefix+"/login", http.StatusSeeOther)
	return nil
}

// Figures are a room's live numbers, named for what they are.
type Figures struct {
	Counters waitroom.Counters `json:"counters"`
	// InLine: people who joined and have not been let in yet.
	InLine int64 `json:"in_line"`
	// NotArrived: people let in who have not come back (no token) and
	// whose place has not expired.
	NotArrived int64 `json:"admitted_not_arrived"`
	// Waiting is the AWS waiting_num: InLine + NotArrived.
	Waiting int64 `json:"waiting"`
	Active  int64 `json:"active"`
	// Pace is what the settings say; PerMinute the pace shown: the
	// configured one when the settings fix it, else the one measured
	// while people were waiting (nil before there is any).
	Pace      admission.Pace `json:"pace"`
	PerMinute *float64       `json:"admissions_per_minute"`
	Mode      waitroom.Mode  `json:"mode"`
	// Gated: the room's health gate holds admission back (as the
	// admission leader last said).
	Gated bool `json:"gated"`
}

func (p *Panel) figures(ctx context.Context, room waitroom.Room) (Figures, error) {
	c, err := p.sampler.SampleRoom(ctx, room.ID)
	if err != nil {
		return Figures{}, err
	}
	active, err := p.opts.Service.ActiveTokens(ctx, room.ID)
	if err != nil {
		return Figures{}, err
	}
	snap := admission.Snapshot{Counters: c, Active: active}
	f := Figures{Counters: c, InLine: snap.Behind(), NotArrived: snap.Pending(), Waiting: c.Waiting(), Active: active,
		Pace: admission.RoomPace(room, p.opts.Clock(), snap.Occupied()), Mode: room.EffectiveMode()}
	if p.opts.RoomState != nil && room.HealthGate != nil {
		state, _ := p.opts.RoomState(ctx, room.ID)
		f.Gated = state == admission.StateGated
	}
	switch {
	case f.Gated:
		zero := 0.0
		f.PerMinute = &zero
	case f.Pace.Known && f.Pace.PerMinute > 0:
		f.PerMinute = &f.Pace.PerMinute
	case !f.Pace.Known:
		if rate, ok := p.sampler.RatePerMinute(room.ID); ok {
			f.PerMinute = &rate
		}
	}
	return f, nil
}

// roomRow is a room with its live numbers.
type roomRow struct {
	Room waitroom.Room
	Figures
}

func (p *Panel) roomList(w http.ResponseWriter, r *http.Request) error {
	return p.showRooms(w, r, http.StatusOK, "", nil)
}

func (p *Panel) showRooms(w http.ResponseWriter, r *http.Request, status int, problem string, create url.Values) error {
	rooms, err := p.opts.Service.Rooms(r.Context())
	if err != nil {
		return err
	}
	rows := make([]roomRow, 0, len(rooms))
	for _, room := range rooms {
		f, err := p.figures(r.Context(), room)
		if err != nil {
			return err
		}
		rows = append(rows, roomRow{Room: room, Figures: f})
	}
	lp := p.langs.Negotiate(r)
	data := listView{base: p.base(r, lp.T("panel.rooms.title")), Rooms: rows, Problem: problem, Create: create}
	if done := r.URL.Query().Get("done"); validFlash[done] {
		data.Flash = lp.T("panel.done." + done)
	}
	return p.render(w, status, "panel/rooms.html", data)
}

type listView struct {
	base
	Rooms   []roomRow
	Problem string
	// Create holds the fields of a refused create form.
	Create url.Values
}

// roomStats is the live part of the room view, polled by panel.js.
type roomStats struct {
	Room string `json:"room"`
	Figures
	History []Sample `json:"history"`
}

func (p *Panel) stats(ctx context.Context, room waitroom.Room) (roomStats, error) {
	f, err := p.figures(ctx, room)
	if err != nil {
		return roomStats{}, err
	}
	return roomStats{Room: room.ID, Figures: f, History: p.sampler.History(room.ID)}, nil
}

func (p *Panel) roomStats(w http.ResponseWriter, r *http.Request) error {
	room, err := p.opts.Service.Room(r.Context(), r.PathValue("room"))
	if err != nil {
		return err
	}
	s, err := p.stats(r.Context(), room)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, s)
	return nil
}

func (p *Panel) roomView(w http.ResponseWriter, r *http.Request) error {
	return p.showRoom(w, r, http.StatusOK, roomNote{Done: r.URL.Query().Get("done")})
}

// roomNote is what the room view shows above the room after a form: why
// it was refused, a move of the serving counter to confirm, a secret shown
// once, or what was done.
type roomNote struct {
	Problem string
	Move    *move
	Secret  string
	Done    string
}

// showRoom renders the room view.
func (p *Panel) showRoom(w http.ResponseWriter, r *http.Request, status int, note roomNote) error {
	id := r.PathValue("room")
	room, err := p.opts.Service.Room(r.Context(), id)
	if err != nil {
		return err
	}
	s, err := p.stats(r.Context(), room)
	if err != nil {
		return err
	}
	lp := p.langs.Negotiate(r)
	b := p.base(r, lp.T("panel.room.title", "room", displayName(room)))
	if validFlash[note.Done] {
		b.Flash = lp.T("panel.done." + note.Done)
	}
	data := roomView{base: b, Room: room.Redacted(), Stats: s, Name: displayName(room), AdvanceMax: max(100, s.InLine),
		Note: note, Languages: p.langs.Languages(), EventTypes: waitroom.EventTypes}
	var trail struct {
		Entries []waitroom.AuditEntry `json:"entries"`
	}
	if err := p.admin(r, http.MethodGet, "/v1/audit?limit=15&room="+url.QueryEscape(id), nil, &trail); err == nil {
		data.Audit = trail.Entries
	}
	var deliveries struct {
		Deliveries []waitroom.Delivery `json:"deliveries"`
	}
	if len(room.Webhooks) > 0 {
		if err := p.admin(r, http.MethodGet, "/v1/rooms/"+url.PathEscape(id)+"/webhook_deliveries?limit=10", nil, &deliveries); err == nil {
			data.Deliveries = deliveries.Deliveries
		}
	}
	return p.render(w, status, "panel/room.html", data)
}

var validFlash = map[string]bool{"advance": true, "serving": true, "mode": true, "reset": true, "settings": true, "inlet": true,
	"gate": true, "schedule": true, "branding": true, "webhooks": true, "room_created": true, "room_deleted": true,
	"client": true, "client_deleted": true}

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
	Note       roomNote
	Audit      []waitroom.AuditEntry
	Deliveries []waitroom.Delivery
	Languages  []string
	EventTypes []string
}

// auditView is the audit trail of every room.
func (p *Panel) auditView(w http.ResponseWriter, r *http.Request) error {
	var trail struct {
		Entries []waitroom.AuditEntry `json:"entries"`
		Next    int64                 `json:"next"`
	}
	path := "/v1/audit?limit=100"
	if before := r.URL.Query().Get("before"); before != "" {
		path += "&before=" + url.QueryEscape(before)
	}
	if err := p.admin(r, http.MethodGet, path, nil, &trail); err != nil {
		return err
	}
	data := auditView{base: p.base(r, p.langs.Negotiate(r).T("panel.audit.title")), Entries: trail.Entries, Next: trail.Next}
	return p.render(w, http.StatusOK, "panel/audit.html", data)
}

type auditView struct {
	base
	Entries []waitroom.AuditEntry
	Next    int64
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
