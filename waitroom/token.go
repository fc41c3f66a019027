package waitroom

import (
	"context"
	"time"
)

// Tokens are the three signed tokens of an admission (AWS generate_token).
type Tokens struct {
	Access, Refresh, ID string
	// ExpiresIn is the seconds left before the tokens expire.
	ExpiresIn int64
	Record    TokenRecord
}

// IssueToken admits a served ticket: the first call stores the claims
// (once, however many callers race), every call signs the stored claims, so
// repeats return identical strings. validity 0 uses the room's default.
func (s *Service) IssueToken(ctx context.Context, room, id, issuer string, validity time.Duration) (Tokens, error) {
	rec, now, err := s.admit(ctx, room, id, nil, issuer, validity)
	if err != nil {
		return Tokens{}, err
	}
	return s.keys.signTokens(rec, now)
}

// Admit records the admission of a served ticket exactly as IssueToken
// does (same checks, same single stored record, same counters) but signs
// nothing: the OpenID flow issues its own tokens and only needs the record.
// The room's default validity applies.
func (s *Service) Admit(ctx context.Context, room, id, issuer string) (TokenRecord, error) {
	rec, _, err := s.admit(ctx, room, id, nil, issuer, 0)
	return rec, err
}

// AdmitTicket is Admit for a ticket the caller has just had from Enqueue
// (the store's answer to that write, in the same request), which is then
// not read again: one statement and one round trip less for a visitor
// admitted on arrival. A room reset in between is still caught, by the
// store's check of the record's generation.
func (s *Service) AdmitTicket(ctx context.Context, room string, t Ticket, issuer string) (TokenRecord, error) {
	if t.Room != room || t.Position <= 0 {
		return s.Admit(ctx, room, t.ID, issuer)
	}
	rec, _, err := s.admit(ctx, room, t.ID, &t, issuer, 0)
	return rec, err
}

// admit validates the request, stores the admission on first call and
// checks the record may still be used; it returns the time it judged by.
// known, when set, is the ticket as Enqueue has just returned it.
func (s *Service) admit(ctx context.Context, room, id string, known *Ticket, issuer string, validity time.Duration) (TokenRecord, time.Time, error) {
	id, err := roomAndRequest(room, id)
	if err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	if err := validIssuer(issuer); err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	if err := validValidity(validity); err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	r, err := s.Room(ctx, room)
	if err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	now := s.now()
	rec, err := s.admission(ctx, r, id, known, issuer, validity, now)
	if err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	if err := usable(rec, now); err != nil {
		return TokenRecord{}, time.Time{}, err
	}
	return rec, now, nil
}

// admission returns the stored token record of a served ticket, creating
// it on the first call. CreateToken returns the record already stored, so a
// repeat costs no extra read; only a position that looks expired checks for
// an earlier token, since a token stops position expiry.
func (s *Service) admission(ctx context.Context, r Room, id string, known *Ticket, issuer string, validity time.Duration, now time.Time) (TokenRecord, error) {
	var t Ticket
	if known != nil && known.ID == id {
		t = *known
	} else {
		var err error
		if t, err = s.store.Ticket(ctx, r.ID, id); err != nil {
			return TokenRecord{}, err
		}
	}
	c, err := s.store.Counters(ctx, r.ID)
	if err != nil {
		return TokenRecord{}, err
	}
	if t.Position > c.Serving {
		return TokenRecord{}, Errorf(CodeNotServed, "Request ID not being served yet")
	}
	if err := s.positionExpired(ctx, r, t, c, now); err != nil {
		return s.earlierToken(ctx, r.ID, id, err)
	}
	rec, err := s.newRecord(r, t, issuer, validity, now)
	if err != nil {
		return TokenRecord{}, err
	}
	stored, _, err := s.store.CreateToken(ctx, rec)
	return stored, err
}

// earlierToken returns the token issued before the position expired, or
// expiryErr if there is none.
func (s *Service) earlierToken(ctx context.Context, room, id string, expiryErr error) (TokenRecord, error) {
	if ErrorCode(expiryErr) != CodeExpired {
		return TokenRecord{}, expiryErr
	}
	rec, err := s.store.Token(ctx, room, id)
	if ErrorCode(err) == CodeNotFound {
		return TokenRecord{}, expiryErr
	}
	return rec, err
}

func (s *Service) newRecord(r Room, t Ticket, issuer string, validity time.Duration, now time.Time) (TokenRecord, error) {
	if validity == 0 {
		validity = r.TokenValidity.D()
	}
	kid, _, _ := s.keys.Current()
	if kid == "" {
		return TokenRecord{}, Errorf(CodeUnavailable, "no signing key is active")
	}
	// Whole seconds: the JWT carries seconds, and a re-sign must rebuild
	// the same claims from the stored record.
	iat := now.UTC().Truncate(time.Second)
	return TokenRecord{
		Room:       r.ID,
		RequestID:  t.ID,
		Position:   t.Position,
		Issuer:     issuer,
		IssuedAt:   iat,
		NotBefore:  iat,
		ExpiresAt:  iat.Add(validity),
		KeyID:      kid,
		Generation: t.Generation,
	}, nil
}

// usable refuses a record whose session is closed or that has expired:
// an expired token is never signed (or admitted) again.
func usable(rec TokenRecord, now time.Time) error {
	if rec.SessionStatus != SessionActive {
		return Errorf(CodeSessionClosed, "Session already completed or abandoned")
	}
	if !now.Before(rec.ExpiresAt) {
		return Errorf(CodeExpired, "Token has expired")
	}
	return nil
}

// UpdateSession closes an admitted visitor's session: status 1 completed,
// -1 abandoned, only from 0.
func (s *Service) UpdateSession(ctx context.Context, room, id string, status SessionStatus) error {
	id, err := roomAndRequest(room, id)
	if err != nil {
		return err
	}
	if status != SessionCompleted && status != SessionAbandoned {
		return Errorf(CodeInvalid, "status: 1 (completed) or -1 (abandoned)")
	}
	if _, err := s.Room(ctx, room); err != nil {
		return err
	}
	return s.store.UpdateSession(ctx, room, id, status)
}

// ActiveTokens counts unexpired tokens whose session is still open.
func (s *Service) ActiveTokens(ctx context.Context, room string) (int64, error) {
	if _, err := s.Room(ctx, room); err != nil {
		return 0, err
	}
	return s.store.ActiveTokens(ctx, room, s.now())
}

// ExpiredTokens pages through the request ids whose token expired.
func (s *Service) ExpiredTokens(ctx context.Context, room, cursor string, limit int) ([]string, string, error) {
	if len(cursor) > maxCursor {
		return nil, "", Errorf(CodeInvalid, "invalid cursor")
	}
	if limit < 0 || limit > MaxExpiredPage {
		return nil, "", Errorf(CodeInvalid, "limit: between 1 and %d", MaxExpiredPage)
	}
	if limit == 0 {
		limit = DefaultExpiredPage
	}
	if _, err := s.Room(ctx, room); err != nil {
		return nil, "", err
	}
	return s.store.ExpiredTokens(ctx, room, s.now(), cursor, limit)
}
