package embedded

import (
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// roomState is everything stored for one room's current generation. A
// reset replaces it wholesale, which is what makes Reset atomic here.
type roomState struct {
	mu      sync.Mutex
	deleted bool

	room     waitroom.Room
	counters waitroom.Counters
	tickets  map[string]waitroom.Ticket
	entries  []int64           // entry time (unix ns) by position (position p at p-1)
	byKey    map[string]string // idempotency key -> ticket id
	keyOf    map[string]string // ticket id -> idempotency key, for forgetServed
	tokens   map[string]*waitroom.TokenRecord

	tokenPositions sortedInts  // positions with a token, for CountTokens
	expiries       expiryIndex // every token, for ActiveTokens/ExpiredTokens
	closed         expiryIndex // tokens whose session was closed
	history        history

	forgotAt time.Time // last forgetServed pass
}

func newRoomState(room waitroom.Room, gen int64) *roomState {
	rs := &roomState{room: room}
	rs.clear(gen)
	return rs
}

// clear empties the room for generation gen.
func (rs *roomState) clear(gen int64) {
	rs.counters = waitroom.Counters{Generation: gen}
	rs.tickets = make(map[string]waitroom.Ticket)
	rs.entries = nil
	rs.byKey = make(map[string]string)
	rs.keyOf = make(map[string]string)
	rs.tokens = make(map[string]*waitroom.TokenRecord)
	rs.tokenPositions = nil
	rs.expiries = nil
	rs.closed = nil
	rs.history = history{}
}

// history is the serving-counter history: for each serving value, the
// earliest time the counter was set to it.
type history struct {
	values sortedInts
	times  map[int64]time.Time
}

func (h *history) record(serving int64, at time.Time) {
	if h.times == nil {
		h.times = make(map[int64]time.Time)
	}
	old, ok := h.times[serving]
	if !ok {
		h.values.insert(serving)
	}
	if !ok || at.Before(old) {
		h.times[serving] = at
	}
}

func (h *history) row(i int, gen int64) waitroom.ServingRecord {
	v := h.values[i]
	return waitroom.ServingRecord{Serving: v, IssuedAt: h.times[v], Generation: gen}
}

// atOrAbove returns the row with the smallest value >= position.
func (h *history) atOrAbove(position, gen int64) (waitroom.ServingRecord, bool) {
	i := h.values.firstAtOrAbove(position)
	if i == len(h.values) {
		return waitroom.ServingRecord{}, false
	}
	return h.row(i, gen), true
}

// above returns up to limit rows with value > above, in value order.
func (h *history) above(above int64, limit int, gen int64) []waitroom.ServingRecord {
	var rows []waitroom.ServingRecord
	for i := h.values.firstAtOrAbove(above + 1); i < len(h.values) && len(rows) < limit; i++ {
		rows = append(rows, h.row(i, gen))
	}
	return rows
}
