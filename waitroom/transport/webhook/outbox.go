package webhook

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// State and Delivery are the queue core's types, named here for brevity.
type (
	State    = waitroom.DeliveryState
	Delivery = waitroom.Delivery
)

// Delivery states.
const (
	Pending   = waitroom.DeliveryPending
	Delivered = waitroom.DeliveryDelivered
	Failed    = waitroom.DeliveryFailed
)

// Outbox keeps deliveries durably until they are delivered or given up.
type Outbox interface {
	// Add stores deliveries as pending, due at once; it assigns Seq.
	Add(ctx context.Context, ds []Delivery) error
	// Due returns, for up to limit streams (one stream per room and URL),
	// the stream's oldest pending delivery when it is due at now. A stream
	// whose oldest pending delivery is waiting for a retry yields nothing:
	// that is what keeps each stream in order.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Done marks a delivery delivered.
	Done(ctx context.Context, seq int64) error
	// Retry records a failed attempt and when to try again.
	Retry(ctx context.Context, seq int64, attempts int, next time.Time, lastErr string) error
	// Fail records the last failed attempt: the delivery is given up.
	Fail(ctx context.Context, seq int64, attempts int, lastErr string) error
	// List returns up to limit deliveries of a room in state (any state
	// when empty), newest first, for the admin API.
	List(ctx context.Context, room string, state State, limit int) ([]Delivery, error)
}

// MemoryOutbox is the in-process Outbox of the embedded store. Delivered
// entries are dropped at once; nothing survives a restart (the embedded
// store keeps nothing either).
type MemoryOutbox struct {
	mu   sync.Mutex
	seq  int64
	byID map[int64]*Delivery
}

// NewMemoryOutbox returns an empty in-process outbox.
func NewMemoryOutbox() *MemoryOutbox { return &MemoryOutbox{byID: map[int64]*Delivery{}} }

func (m *MemoryOutbox) Add(_ context.Context, ds []Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range ds {
		m.seq++
		d.Seq, d.State = m.seq, Pending
		m.byID[d.Seq] = &d
	}
	return nil
}

func (m *MemoryOutbox) Due(_ context.Context, now time.Time, limit int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	heads := map[[2]string]*Delivery{}
	for _, d := range m.byID {
		if d.State != Pending {
			continue
		}
		k := [2]string{d.Room, d.URL}
		if h, ok := heads[k]; !ok || d.Seq < h.Seq {
			heads[k] = d
		}
	}
	var out []Delivery
	for _, h := range heads {
		if !h.NextAt.After(now) {
			out = append(out, *h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *MemoryOutbox) update(seq int64, fn func(d *Delivery)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.byID[seq]
	if !ok {
		return waitroom.Errorf(waitroom.CodeNotFound, "no delivery %d", seq)
	}
	fn(d)
	if d.State == Delivered {
		delete(m.byID, seq)
	}
	return nil
}

func (m *MemoryOutbox) Done(_ context.Context, seq int64) error {
	return m.update(seq, func(d *Delivery) { d.State, d.Attempts = Delivered, d.Attempts+1 })
}

func (m *MemoryOutbox) Retry(_ context.Context, seq int64, attempts int, next time.Time, lastErr string) error {
	return m.update(seq, func(d *Delivery) { d.Attempts, d.NextAt, d.LastError = attempts, next, lastErr })
}

func (m *MemoryOutbox) Fail(_ context.Context, seq int64, attempts int, lastErr string) error {
	return m.update(seq, func(d *Delivery) { d.State, d.Attempts, d.LastError = Failed, attempts, lastErr })
}

func (m *MemoryOutbox) List(_ context.Context, room string, state State, limit int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Delivery
	for _, d := range m.byID {
		if d.Room == room && (state == "" || d.State == state) {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
