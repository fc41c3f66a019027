package embedded

import (
	"slices"
	"sort"
	"time"
)

// The embedded store lives in the server's memory, so a room that lets
// visitors through for days must not keep every one of them. A visitor
// whose token expired more than ServedRetention ago is forgotten: their
// ticket, token record and idempotency key are dropped (the production
// backend keeps them in PostgreSQL, on disk). What is kept is what the
// room's numbers need: the counters, the serving history, the positions
// that took a token (8 bytes each, for the expiry job's served counts) and
// the entry time of each position (for its bisection).
//
// Until then the record answers as before: a repeated generate_token
// returns the same token, the expired-tokens list names it. After it, the
// request id is unknown (404), as an id that never existed.

// ServedRetention is how long the embedded store keeps a visitor's records
// after their token expired.
const ServedRetention = 2 * time.Minute

// forgetEvery spaces the passes: each is a binary search plus a copy of
// what remains of the expiry index.
const forgetEvery = 10 * time.Second

// forgetServed drops the visitors whose token expired more than
// ServedRetention before now. Caller holds rs.mu.
func (rs *roomState) forgetServed(now time.Time) {
	if now.Sub(rs.forgotAt) < forgetEvery {
		return
	}
	rs.forgotAt = now
	cut := now.Add(-ServedRetention).UnixNano()
	n := rs.expiries.expiredBy(cut)
	if n == 0 {
		return
	}
	for _, e := range rs.expiries[:n] {
		delete(rs.tokens, e.id)
		delete(rs.tickets, e.id)
		if k, ok := rs.keyOf[e.id]; ok {
			delete(rs.byKey, k)
			delete(rs.keyOf, e.id)
		}
	}
	// Copy what remains, so the dropped prefix's memory is released.
	rs.expiries = slices.Clone(rs.expiries[n:])
	rs.closed = slices.Clone(rs.closed[rs.closed.expiredBy(cut):])
}

// expiredBy counts the entries expiring at or before cut (unix ns).
func (x expiryIndex) expiredBy(cut int64) int {
	return sort.Search(len(x), func(i int) bool { return x[i].exp > cut })
}
