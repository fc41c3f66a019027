package embedded

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

var errTokenNotFound = waitroom.Errorf(waitroom.CodeNotFound, "Request ID doesn't exist or status already set.")

// CreateToken stores rec unless the request has a token already.
func (s *Store) CreateToken(_ context.Context, rec waitroom.TokenRecord) (waitroom.TokenRecord, bool, error) {
	var (
		stored  waitroom.TokenRecord
		created bool
	)
	err := s.locked(rec.Room, func(rs *roomState) error {
		if rec.Generation != rs.counters.Generation {
			return errTicketNotFound
		}
		if old, ok := rs.tokens[rec.RequestID]; ok {
			stored = *old
			return nil
		}
		rec.SessionStatus = waitroom.SessionActive
		rs.forgetServed(rec.IssuedAt)
		rs.addToken(rec)
		stored, created = rec, true
		return nil
	})
	return stored, created, err
}

func (rs *roomState) addToken(rec waitroom.TokenRecord) {
	rs.tokens[rec.RequestID] = &rec
	rs.tokenPositions.insert(rec.Position)
	rs.expiries.insert(expiryEntry{exp: rec.ExpiresAt.UnixNano(), id: rec.RequestID})
	rs.counters.Tokens++
}

// Token returns the token record of a request.
func (s *Store) Token(_ context.Context, room, requestID string) (waitroom.TokenRecord, error) {
	var rec waitroom.TokenRecord
	err := s.locked(room, func(rs *roomState) error {
		t, ok := rs.tokens[requestID]
		if !ok {
			return waitroom.Errorf(waitroom.CodeNotFound, "token not found")
		}
		rec = *t
		return nil
	})
	return rec, err
}

// UpdateSession closes an active session.
func (s *Store) UpdateSession(_ context.Context, room, requestID string, status waitroom.SessionStatus) error {
	if status != waitroom.SessionCompleted && status != waitroom.SessionAbandoned {
		return waitroom.Errorf(waitroom.CodeInvalid, "status: 1 (completed) or -1 (abandoned)")
	}
	return s.locked(room, func(rs *roomState) error {
		t, ok := rs.tokens[requestID]
		if !ok || t.SessionStatus != waitroom.SessionActive {
			return errTokenNotFound
		}
		t.SessionStatus = status
		rs.closed.insert(expiryEntry{exp: t.ExpiresAt.UnixNano(), id: requestID})
		if status == waitroom.SessionCompleted {
			rs.counters.Completed++
		} else {
			rs.counters.Abandoned++
		}
		return nil
	})
}

// ActiveTokens counts unexpired tokens with an open session: the tokens
// alive at now minus the closed ones alive at now, two binary searches.
func (s *Store) ActiveTokens(_ context.Context, room string, now time.Time) (int64, error) {
	var n int64
	err := s.locked(room, func(rs *roomState) error {
		n = rs.expiries.liveAt(now) - rs.closed.liveAt(now)
		return nil
	})
	return n, err
}

// ExpiredTokens pages through tokens expired at or before now.
func (s *Store) ExpiredTokens(_ context.Context, room string, now time.Time, cursor string, limit int) ([]string, string, error) {
	after, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	var (
		ids  []string
		next string
	)
	err = s.locked(room, func(rs *roomState) error {
		ids, next = rs.expiries.expiredPage(after, now, limit)
		return nil
	})
	return ids, next, err
}

func (x expiryIndex) expiredPage(after expiryEntry, now time.Time, limit int) ([]string, string) {
	ids := []string{}
	i := x.firstAfter(after)
	for ; i < len(x) && x[i].exp <= now.UnixNano() && len(ids) < limit; i++ {
		ids = append(ids, x[i].id)
	}
	if i < len(x) && x[i].exp <= now.UnixNano() {
		return ids, formatCursor(x[i-1])
	}
	return ids, ""
}

// The cursor is "<expiry unix nanoseconds>.<request id>" of the last entry
// returned; "" starts before every entry.
func formatCursor(e expiryEntry) string { return strconv.FormatInt(e.exp, 10) + "." + e.id }

func parseCursor(c string) (expiryEntry, error) {
	if c == "" {
		return expiryEntry{exp: -1 << 63}, nil
	}
	num, id, ok := strings.Cut(c, ".")
	exp, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id == "" {
		return expiryEntry{}, waitroom.Errorf(waitroom.CodeInvalid, "invalid cursor")
	}
	return expiryEntry{exp: exp, id: id}, nil
}

// CountTokens counts tokens whose position is in (lo, hi].
func (s *Store) CountTokens(_ context.Context, room string, lo, hi int64) (int64, error) {
	var n int64
	err := s.locked(room, func(rs *roomState) error {
		n = rs.tokenPositions.countIn(lo, hi)
		return nil
	})
	return n, err
}
