package waitroom

import "time"

// DeliveryState is the state of one webhook delivery.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed" // given up after the last attempt
)

// Delivery is one room event bound for one webhook receiver, as kept in the
// outbox (package webhook delivers it; the backends keep it).
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

// PrequeueEntry is one arrival in a scheduled room's pre-queue: an id the
// visitor keeps, no position until the room opens (package admission runs
// the pre-queue; the backends keep it).
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
