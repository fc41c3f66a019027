package waitroom

import (
	"regexp"
	"time"
)

// Defaults of a room's settings, as in the AWS solution.
const (
	DefaultTokenValidity = time.Hour
	DefaultExpiryPeriod  = 15 * time.Minute
)

// Room is one waiting room: one queue, one serving counter. A deployment
// serves many rooms; the AWS API selects one with event_id.
//
// Rooms are stored as a whole document (backends keep the fields they do not
// know about), so later settings (modes, inlet strategies, branding) only add
// fields here.
type Room struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TokenValidity is the lifetime of admission tokens issued for the room.
	TokenValidity Duration `json:"token_validity"`
	// ExpiryEnabled turns queue-position expiry on (the default).
	ExpiryEnabled bool `json:"expiry_enabled"`
	// ExpiryPeriod is how long an admitted position may go without a token.
	ExpiryPeriod Duration `json:"expiry_period"`
	// AutoAdvance moves the serving counter forward by the number of
	// positions that expired unused, so that walk-aways do not stall a room.
	AutoAdvance bool `json:"auto_advance"`
	// Policy holds the admission settings (mode, inlet strategy, schedule,
	// health gate, webhooks); see policy.go.
	Policy
	// Branding is the look of the room's waiting page (branding.go).
	Branding Branding `json:"branding,omitzero"`
	// Gate, when set, lets reverse proxies protect a website with the room
	// (gate.go).
	Gate *Gate `json:"gate,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewRoom returns a room with the default settings.
func NewRoom(id, name string) Room {
	return Room{
		ID:            id,
		Name:          name,
		TokenValidity: Duration(DefaultTokenValidity),
		ExpiryEnabled: true,
		ExpiryPeriod:  Duration(DefaultExpiryPeriod),
	}
}

var roomIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidRoomID reports whether id can name a room: 1 to 64 characters of
// letters, digits, '_', '.', '-', starting with a letter or digit. Room ids
// end up in Redis keys, URLs and token audiences, hence the narrow alphabet.
func ValidRoomID(id string) bool { return roomIDPattern.MatchString(id) }

// Validate checks the room's settings and returns every problem at once.
func (r Room) Validate() error { return invalidList(r.Problems()) }

// Problems lists every problem of the room's settings, each starting with
// the field it concerns ("expiry_period: ...").
func (r Room) Problems() []string {
	var problems []string
	if !ValidRoomID(r.ID) {
		problems = append(problems, "id: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if len(r.Name) > 200 {
		problems = append(problems, "name: at most 200 characters")
	}
	if r.TokenValidity.D() < time.Second || r.TokenValidity.D() > 31*24*time.Hour {
		problems = append(problems, "token_validity: between 1s and 744h")
	}
	if r.ExpiryPeriod.D() < time.Second || r.ExpiryPeriod.D() > 31*24*time.Hour {
		problems = append(problems, "expiry_period: between 1s and 744h (expiry_enabled: false turns expiry off)")
	}
	problems = append(problems, r.Policy.problems()...)
	if r.Gate != nil {
		problems = append(problems, r.Gate.problems()...)
	}
	return append(problems, r.Branding.problems()...)
}

// TicketStatus is the AWS "status" field of a queue position.
type TicketStatus int

// TicketAssigned is the only status a stored ticket has: its position is
// assigned (AWS answers status 1).
const TicketAssigned TicketStatus = 1

// Ticket is one place in a room's queue.
type Ticket struct {
	// ID is the request id (a UUID) the client keeps.
	ID       string `json:"request_id"`
	Room     string `json:"event_id"`
	Position int64  `json:"queue_number"`
	// EntryTime is when the position was assigned.
	EntryTime time.Time    `json:"entry_time"`
	Status    TicketStatus `json:"status"`
	// Generation is the room's reset generation the ticket belongs to.
	Generation int64 `json:"-"`
}

// NewTicket is what a backend needs to store a new ticket; the position is
// the backend's to assign.
type NewTicket struct {
	ID        string
	EntryTime time.Time
	// Key makes the enqueue idempotent: a second enqueue in the same room
	// (and generation) with the same non-empty key returns the first ticket.
	Key string
}

// Counters are a room's counters (the AWS Redis counters).
type Counters struct {
	Queue     int64 `json:"queue"`
	Serving   int64 `json:"serving"`
	Tokens    int64 `json:"tokens"`
	Expired   int64 `json:"expired"`
	Completed int64 `json:"completed"`
	Abandoned int64 `json:"abandoned"`
	// MaxExpired is the highest position known to have expired: every
	// position at or below it without a token is expired.
	MaxExpired int64 `json:"max_expired"`
	// Generation counts the room's resets.
	Generation int64 `json:"generation"`
	// Stale is set when the backend's fast copy could not be read and the
	// counters come from the durable store: queue, serving and expiry
	// values are exact, the token counts may lag behind.
	Stale bool `json:"stale,omitempty"`
}

// Waiting is the AWS waiting_num: queue − tokens − expired, never negative.
func (c Counters) Waiting() int64 {
	if w := c.Queue - c.Tokens - c.Expired; w > 0 {
		return w
	}
	return 0
}

// SessionStatus is the state of an admitted visitor's session.
type SessionStatus int

// Session statuses, as in the AWS solution.
const (
	SessionActive    SessionStatus = 0
	SessionCompleted SessionStatus = 1
	SessionAbandoned SessionStatus = -1
)

// Valid reports whether s is one of the three statuses.
func (s SessionStatus) Valid() bool {
	return s == SessionActive || s == SessionCompleted || s == SessionAbandoned
}

// TokenRecord is the stored claims of an admission: enough to re-sign the
// identical tokens on a repeat call.
type TokenRecord struct {
	Room      string    `json:"event_id"`
	RequestID string    `json:"request_id"`
	Position  int64     `json:"queue_number"`
	Issuer    string    `json:"issuer"`
	IssuedAt  time.Time `json:"issued_at"`
	NotBefore time.Time `json:"not_before"`
	ExpiresAt time.Time `json:"expires"`
	// KeyID names the signing key, so a repeat call signs with the same key.
	KeyID         string        `json:"kid"`
	SessionStatus SessionStatus `json:"session_status"`
	Generation    int64         `json:"-"`
}

// ServingRecord is one row of a room's serving-counter history: the counter
// after a change, when it changed, and (computed by the expiry job) how many
// positions of its range took a token.
type ServingRecord struct {
	Serving    int64     `json:"serving_counter"`
	IssuedAt   time.Time `json:"issue_time"`
	Served     int64     `json:"queue_positions_served"`
	Generation int64     `json:"-"`
}
