package waitroom

import (
	"context"
	"time"
)

// The stores of the admission policies: the webhook outbox, the pre-queue
// of scheduled rooms and the leader lease of periodic work.

// DeliveryState is the state of one webhook delivery.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // given up after the last attempt
)

// Delivery is one room event bound for one webhook receiver, as kept in the
// outbox.
type Delivery struct {
	// Seq orders deliveries (increasing in the order they were added).
	Seq       int64         `json:"seq"`
	Room      string        `json:"event_id"`
	URL       string        `json:"url"`
	EventID   string        `json:"id"`
	Type      string        `json:"type"`
	Body      []byte        `json:"-"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	NextAt    time.Time     `json:"next_attempt_at,omitzero"`
	LastError string        `json:"last_error,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

// Outbox keeps webhook deliveries durably until they are delivered or
// given up. Each (room, URL) pair is one stream, delivered in order.
type Outbox interface {
	// Add stores deliveries as pending, due at once; it assigns Seq.
	Add(ctx context.Context, ds []Delivery) error
	// Due returns, for up to limit streams, the stream's oldest pending
	// delivery when it is due at now. A stream whose oldest pending
	// delivery is waiting for a retry yields nothing: that is what keeps
	// each stream in order.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Done marks a delivery delivered.
	Done(ctx context.Context, seq int64) error
	// Retry records a failed attempt and when to try again.
	Retry(ctx context.Context, seq int64, attempts int, next time.Time, lastErr string) error
	// Fail records the last failed attempt: the delivery is given up.
	Fail(ctx context.Context, seq int64, attempts int, lastErr string) error
	// List returns up to limit deliveries of a room in state (any state
	// when empty), newest first, for the admin API.
	List(ctx context.Context, room string, state DeliveryState, limit int) ([]Delivery, error)
}

// PrequeueEntry is one arrival in a scheduled room's pre-queue: an id the
// visitor keeps, no position until the room opens.
type PrequeueEntry struct {
	ID       string    `json:"request_id"`
	Key      string    `json:"-"`
	JoinedAt time.Time `json:"joined_at"`
	// Seq orders entries by arrival (1, 2, ... per room).
	Seq int64 `json:"-"`
}

// PrequeueSeedSize is the size of a pre-queue shuffle seed in bytes.
const PrequeueSeedSize = 32

// PrequeueDraw is the shuffle of one room opening: the seed (its hash is
// published when the pre-queue opens, the seed after opening) and how far
// the opening pass has gone.
type PrequeueDraw struct {
	Seed        [PrequeueSeedSize]byte
	CommittedAt time.Time
	// Converted is the Seq up to which entries are tickets; Opened is set
	// once the shuffled block is complete.
	Converted int64
	Opened    bool
}

// PrequeueStore keeps pre-queue entries and draws durably.
type PrequeueStore interface {
	// Join stores e, assigning its Seq; a non-empty key already used in the
	// room returns the first entry and created=false.
	Join(ctx context.Context, room string, e PrequeueEntry) (entry PrequeueEntry, created bool, err error)
	// Entry returns one entry; CodeNotFound if none.
	Entry(ctx context.Context, room, id string) (PrequeueEntry, error)
	// Entries returns up to limit entries with Seq > after, by Seq.
	Entries(ctx context.Context, room string, after int64, limit int) ([]PrequeueEntry, error)
	// CreateDraw stores d as the room's draw unless it has one, and returns
	// the room's draw.
	CreateDraw(ctx context.Context, room string, d PrequeueDraw) (PrequeueDraw, error)
	// Draw returns the room's draw; CodeNotFound if none.
	Draw(ctx context.Context, room string) (PrequeueDraw, error)
	// SaveProgress records conversion progress of the room's draw.
	SaveProgress(ctx context.Context, room string, converted int64, opened bool) error
}

// Lease elects the one replica that runs periodic work, and fences it.
//
// Fencing: every time the lease changes hands its token grows. Work is done
// in steps, each named by a key (room, strategy, tick number); Claim
// records a step only while the caller's token is still the lease's token,
// and only once. A paused old leader that lost the lease can therefore
// claim nothing, and two leaders can never both apply the same tick.
type Lease interface {
	// Acquire takes the lease for holder, or renews it when holder already
	// has it, for ttl. It returns the fencing token and whether holder now
	// holds the lease.
	Acquire(ctx context.Context, holder string, ttl time.Duration) (token int64, held bool, err error)
	// Claim records step under token, atomically with checking that token
	// is current; false when the lease moved on or the step was claimed.
	// A claim is remembered for ttl.
	Claim(ctx context.Context, token int64, step string, ttl time.Duration) (bool, error)
	// Release gives the lease up if holder holds it (graceful shutdown), so
	// that another replica takes over at once.
	Release(ctx context.Context, holder string) error
}
