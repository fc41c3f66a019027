package roompage

import (
	"math"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/admission"

	"github.com/waitroom-idp/waitroom/waitroom/transport/i18n"
)

// State is what the waiting-room page tells the visitor.
type State string

// The states of the page. They appear on the wire in the status JSON.
const (
	StateWaiting  State = "waiting"
	StatePaused   State = "paused"
	StateYourTurn State = "your_turn"
	StateExpired  State = "expired"
	StateClosed   State = "closed"
	StateNotOpen  State = "not_open"
)

// Visit is what a handler knows about one visitor of a room: the inputs of
// the page and of its status JSON.
type Visit struct {
	RoomID   string
	RoomName string
	Brand    Branding
	// Ticket position; 0 when the visitor holds no ticket (room closed or
	// not open yet).
	Position int64
	Serving  int64
	// Flags from the room's mode and the ticket; the state is derived from
	// them unless State is set.
	Paused  bool
	Closed  bool
	Expired bool
	OpensAt time.Time
	State   State
	// ContinueURL is where the visitor goes when admitted.
	ContinueURL string
	// RejoinURL, when set, is offered on the expired page.
	RejoinURL string
	// StatusURL is polled by the page's script (Accept: application/json).
	StatusURL string
	// Queue is the room's queue counter: with Serving, it tells the rate
	// meter whether anyone was waiting.
	Queue int64
	// Pace is how fast the room's settings let visitors in.
	Pace admission.Pace
	// Site names the site the visitor queues for, and SiteURL links back
	// to it (from the OpenID client; empty when unknown).
	Site    string
	SiteURL string
	// Messages are the organiser's message to visitors, by language.
	Messages map[string]string
}

// DeriveState decides the page state of v from its flags, in priority
// order: a closed room or one not open yet says so before anything else; a
// pause holds back even those the serving counter already reached (the
// login flow admits nobody while paused).
func (v Visit) DeriveState(now time.Time) State {
	switch {
	case v.State != "":
		return v.State
	case v.Closed:
		return StateClosed
	case !v.OpensAt.IsZero() && now.Before(v.OpensAt):
		return StateNotOpen
	case v.Expired:
		return StateExpired
	case v.Paused:
		return StatePaused
	case v.Position > 0 && v.Serving >= v.Position:
		return StateYourTurn
	}
	return StateWaiting
}

// Status is the JSON answer of the status endpoint (and the model of the
// HTML page). Numbers are for apps; Text holds the same, ready to show, in
// the visitor's language.
type Status struct {
	Room     string `json:"room"`
	RoomName string `json:"room_name"`
	State    State  `json:"state"`
	// Ready is State == "your_turn", for clients that only need that.
	Ready    bool  `json:"ready"`
	Position int64 `json:"position,omitempty"`
	Serving  int64 `json:"serving"`
	// Ahead counts the positions between the serving counter and the
	// visitor's.
	Ahead int64 `json:"ahead"`
	// Progress is the share of the line before the visitor already let in,
	// from 0 to 1.
	Progress float64 `json:"progress"`
	// EstimatedWait is null while there is nothing to estimate from.
	EstimatedWait *WaitRange `json:"estimated_wait"`
	// ExpectedAt is when the visitor's turn should come (the estimate's
	// expected wait from now, to the minute).
	ExpectedAt *time.Time `json:"expected_at,omitempty"`
	// AdmissionsPerMinute is the room's pace: the configured rate when the
	// settings fix one, otherwise the measured one.
	AdmissionsPerMinute *float64 `json:"admissions_per_minute"`
	// UpdatedAt is when this status was computed.
	UpdatedAt time.Time `json:"updated_at"`
	Site      string    `json:"site,omitempty"`
	SiteURL   string    `json:"site_url,omitempty"`
	// Message is the organiser's message in the visitor's language.
	Message     string     `json:"message,omitempty"`
	OpensAt     *time.Time `json:"opens_at,omitempty"`
	ContinueURL string     `json:"continue_url,omitempty"`
	// PollAfter is the number of seconds the client should wait before
	// asking again.
	PollAfter int64      `json:"poll_after_seconds"`
	Lang      string     `json:"lang"`
	Text      StatusText `json:"text"`
}

// StatusText is the status in words.
type StatusText struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	Position string `json:"position"`
	Ahead    string `json:"ahead"`
	Wait     string `json:"wait"`
	Progress string `json:"progress"`
	OpensAt  string `json:"opens_at,omitempty"`
	// Expected is the expected time of the visitor's turn, in UTC; the
	// page's script shows it in the visitor's own time zone.
	Expected string `json:"expected,omitempty"`
	// Updated says when the status was computed.
	Updated string `json:"updated"`
	// Announce is the sentence screen readers hear when the position moves.
	Announce string `json:"announce"`
}

// Percent is Progress as a whole percentage, for <progress>.
func (s Status) Percent() int { return int(math.Floor(s.Progress * 100)) }

// ExpectedISO is the expected time of the visitor's turn for <time
// datetime>; empty without an estimate.
func (s Status) ExpectedISO() string {
	if s.ExpectedAt == nil {
		return ""
	}
	return s.ExpectedAt.Format(time.RFC3339)
}

// UpdatedISO is when the status was computed, for <time datetime>.
func (s Status) UpdatedISO() string { return s.UpdatedAt.Format(time.RFC3339) }

// OpensAtISO is the opening time for <time datetime>.
func (s Status) OpensAtISO() string {
	if s.OpensAt == nil {
		return ""
	}
	return s.OpensAt.UTC().Format(time.RFC3339)
}

// buildStatus computes the status of a visit; measured is the room's
// measured pace.
func buildStatus(v Visit, now time.Time, measured Measured, p *i18n.Printer) Status {
	s := Status{
		Room: v.RoomID, RoomName: v.RoomName, State: v.DeriveState(now),
		Position: v.Position, Serving: v.Serving, Lang: p.Lang, UpdatedAt: now.UTC(),
		Site: v.Site, SiteURL: v.SiteURL, Message: message(v.Messages, p.Lang),
	}
	if v.Position > 0 {
		s.Ahead = max(0, v.Position-v.Serving-1)
		s.Progress = min(1, float64(v.Serving)/float64(v.Position))
	}
	switch {
	case v.Pace.Known && v.Pace.PerMinute > 0:
		r := math.Round(v.Pace.PerMinute*10) / 10
		s.AdmissionsPerMinute = &r
	case !v.Pace.Known && measured.Known:
		r := math.Round(measured.PerMinute*10) / 10
		s.AdmissionsPerMinute = &r
	}
	if s.State == StateWaiting && v.Position > 0 && s.Ahead > 0 {
		if w, ok := EstimateWait(v.Position-v.Serving, v.Pace, measured, now); ok {
			s.EstimatedWait = &w
			at := now.Add(w.Expected()).UTC().Truncate(time.Minute)
			s.ExpectedAt = &at
		}
	}
	if !v.OpensAt.IsZero() {
		t := v.OpensAt
		s.OpensAt = &t
	}
	if s.State == StateYourTurn {
		s.Ready = true
		s.ContinueURL = v.ContinueURL
	}
	s.PollAfter = pollAfter(s, now)
	s.Text = describe(s, p)
	return s
}

// pollAfter spreads the polling load: the far end of a long line has
// nothing to gain from asking often.
func pollAfter(s Status, now time.Time) int64 {
	switch s.State {
	case StateYourTurn:
		return 2
	case StateExpired, StateClosed:
		return 60
	case StateNotOpen:
		if s.OpensAt != nil {
			until := int64(s.OpensAt.Sub(now).Seconds())
			return max(2, min(60, until))
		}
		return 60
	}
	switch {
	case s.Ahead > 5000:
		return 30
	case s.Ahead > 500:
		return 15
	case s.Ahead > 50:
		return 8
	}
	return 4
}

func describe(s Status, p *i18n.Printer) StatusText {
	t := StatusText{
		Title:    p.T("state." + string(s.State) + ".title"),
		Body:     p.T("state." + string(s.State) + ".body"),
		Ahead:    p.N("ahead", s.Ahead),
		Wait:     waitText(s, p),
		Progress: p.T("room.percent", "n", strconv.Itoa(s.Percent())),
	}
	if s.Position > 0 {
		t.Position = p.Number(s.Position)
	}
	if s.OpensAt != nil {
		// In UTC with the language's numeric layout; the page's script
		// shows it in the visitor's own time zone.
		t.OpensAt = p.T("room.opens_at", "time", s.OpensAt.UTC().Format(p.T("format.datetime")))
	}
	if s.ExpectedAt != nil {
		t.Expected = p.T("room.expected_at", "time", s.ExpectedAt.Format(p.T("format.time")))
	}
	t.Updated = p.T("room.updated_at", "time", s.UpdatedAt.Format(p.T("format.time")))
	t.Announce = p.T("announce", "ahead", t.Ahead, "wait", t.Wait)
	return t
}

func waitText(s Status, p *i18n.Printer) string {
	switch {
	case s.State == StatePaused:
		return p.T("wait.paused")
	case s.State == StateYourTurn || (s.Position > 0 && s.Ahead == 0):
		return p.T("wait.now")
	case s.EstimatedWait == nil:
		return p.T("wait.calculating")
	}
	return rangeText(*s.EstimatedWait, p)
}

// rangeText words a wait range at a precision that does not pretend:
// minutes up to two hours, whole hours beyond, capped at "more than 12
// hours".
func rangeText(w WaitRange, p *i18n.Printer) string {
	lo := int64(math.Floor(float64(w.MinSeconds) / 60))
	hi := int64(math.Ceil(float64(w.MaxSeconds) / 60))
	switch {
	case hi <= 1:
		return p.T("wait.under_minute")
	case hi > 12*60:
		return p.N("wait.over_hours", 12)
	case hi > 120:
		return p.T("wait.range_hours", "min", p.Number(max(1, lo/60)), "max", p.Number((hi+59)/60))
	case lo == hi || lo < 1 && hi <= 2:
		return p.N("wait.minutes", hi)
	}
	return p.T("wait.range_minutes", "min", p.Number(max(1, lo)), "max", p.Number(hi))
}

// message is the organiser's message in lang, else in English, else none.
func message(m map[string]string, lang string) string {
	if msg := m[lang]; msg != "" {
		return msg
	}
	return m["en"]
}
