package embedded

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// outbox is the in-process waitroom.Outbox of the embedded store. Delivered
// entries are dropped at once; nothing survives a restart (the embedded
// store keeps nothing either).
type outbox struct {
	mu   sync.Mutex
	seq  int64
	byID map[int64]*waitroom.Delivery
}

func (m *outbox) Add(_ context.Context, ds []waitroom.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range ds {
		m.seq++
		d.Seq, d.State = m.seq, waitroom.DeliveryPending
		m.byID[d.Seq] = &d
	}
	return nil
}

func (m *outbox) Due(_ context.Context, now time.Time, limit int) ([]waitroom.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	heads := map[[2]string]*waitroom.Delivery{}
	for _, d := range m.byID {
		if d.State != waitroom.DeliveryPending {
			continue
		}
		k := [2]string{d.Room, d.URL}
		if h, ok := heads[k]; !ok || d.Seq < h.Seq {
			heads[k] = d
		}
	}
	var out []waitroom.Delivery
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

func (m *outbox) update(seq int64, fn func(d *waitroom.Delivery)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.byID[seq]
	if !ok {
		return waitroom.Errorf(waitroom.CodeNotFound, "no delivery %d", seq)
	}
	fn(d)
	if d.State == waitroom.DeliveryDelivered {
		delete(m.byID, seq)
	}
	return nil
}

func (m *outbox) Done(_ context.Context, seq int64) error {
	return m.update(seq, func(d *waitroom.Delivery) { d.State, d.Attempts = waitroom.DeliveryDelivered, d.Attempts+1 })
}

func (m *outbox) Retry(_ context.Context, seq int64, attempts int, next time.Time, lastErr string) error {
	return m.update(seq, func(d *waitroom.Delivery) { d.Attempts, d.NextAt, d.LastError = attempts, next, lastErr })
}

func (m *outbox) Fail(_ context.Context, seq int64, attempts int, lastErr string) error {
	return m.update(seq, func(d *waitroom.Delivery) {
		d.State, d.Attempts, d.LastError = waitroom.DeliveryFailed, attempts, lastErr
	})
}

func (m *outbox) List(_ context.Context, room string, state waitroom.DeliveryState, limit int) ([]waitroom.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []waitroom.Delivery
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
