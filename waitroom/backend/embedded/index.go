package embedded

import (
	"sort"
	"time"
)

// sortedInts is an ascending slice of int64. Inserts are a binary search
// plus a copy of the tail; values arrive almost in order (positions and
// serving values grow), so the tail is usually empty.
type sortedInts []int64

func (s sortedInts) firstAtOrAbove(v int64) int {
	return sort.Search(len(s), func(i int) bool { return s[i] >= v })
}

func (s *sortedInts) insert(v int64) {
	i := s.firstAtOrAbove(v)
	*s = append(*s, 0)
	copy((*s)[i+1:], (*s)[i:])
	(*s)[i] = v
}

// countIn counts values in (lo, hi].
func (s sortedInts) countIn(lo, hi int64) int64 {
	if hi <= lo {
		return 0
	}
	return int64(s.firstAtOrAbove(hi+1) - s.firstAtOrAbove(lo+1))
}

// expiryEntry orders tokens by (expiry, request id).
type expiryEntry struct {
	exp int64 // unix nanoseconds
	id  string
}

func (e expiryEntry) less(o expiryEntry) bool {
	return e.exp < o.exp || (e.exp == o.exp && e.id < o.id)
}

// expiryIndex is a sorted slice of expiryEntry. Tokens of a room mostly
// share one validity, so new entries land at the end.
type expiryIndex []expiryEntry

func (x expiryIndex) firstAfter(e expiryEntry) int {
	return sort.Search(len(x), func(i int) bool { return e.less(x[i]) })
}

func (x *expiryIndex) insert(e expiryEntry) {
	i := x.firstAfter(e)
	*x = append(*x, expiryEntry{})
	copy((*x)[i+1:], (*x)[i:])
	(*x)[i] = e
}

// liveAt counts entries expiring after now, in O(log n).
func (x expiryIndex) liveAt(now time.Time) int64 {
	i := sort.Search(len(x), func(i int) bool { return x[i].exp > now.UnixNano() })
	return int64(len(x) - i)
}
