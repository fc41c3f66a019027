package oidc

import (
	"context"
	"crypto/hmac"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// grants keeps what the provider hands out, and is the one place that
// checks it: auth requests while the visitor waits (Ephemeral), the codes
// of admitted logins (single use: taken atomically), grants (the record
// that keeps a login's access tokens alive, or its tombstone once revoked),
// refresh tokens (RefreshStore, rotated on use), and the sessions they end
// in the room (the queue core).
type grants struct {
	eph     ephemeralJSON
	refresh waitroom.RefreshStore
	queue   Queue
	kr      keyring
	now     func() time.Time
	issuer  string
	authTTL time.Duration
	// resolveToken authenticates an access token (JWT or opaque) and
	// returns its id and subject; it needs the library's verifier, so the
	// provider sets it.
	resolveToken func(ctx context.Context, token string) (id, subject string, ok bool)
}

// accessRecord is a live access token: its grant (read from the grant's
// record) and its lifetime (read from its id). Userinfo, introspection and
// revocation use it.
type accessRecord struct {
	Grant     grant     `json:"grant"`
	IssuedAt  time.Time `json:"iat"`
	ExpiresAt time.Time `json:"exp"`
}

// createAuthRequest stores a validated /authorize request while the visitor
// waits. The library accepts PKCE "plain": it is refused here.
func (s *grants) createAuthRequest(ctx context.Context, r *oidc.AuthRequest, hintSubject string) (*authRequest, error) {
	if err := checkPKCE(r); err != nil {
		return nil, err
	}
	switch r.ResponseMode {
	case "", oidc.ResponseModeQuery, oidc.ResponseModeFormPost:
	default:
		return nil, oidc.ErrInvalidRequest().WithDescription("response_mode: query or form_post")
	}
	a := &authRequest{
		ID:                  randomToken(18),
		ClientID:            r.ClientID,
		RedirectURI:         r.RedirectURI,
		State:               r.State,
		Nonce:               r.Nonce,
		ResponseMode:        r.ResponseMode,
		Scopes:              r.Scopes,
		CodeChallenge:       r.CodeChallenge,
		CodeChallengeMethod: string(r.CodeChallengeMethod),
		Prompt:              r.Prompt,
		MaxAge:              r.MaxAge,
		HintSubject:         hintSubject,
		CreatedAt:           s.now(),
	}
	if err := s.eph.put(ctx, keyAuthRequest+a.ID, a, s.authTTL); err != nil {
		return nil, err
	}
	return a, nil
}

func checkPKCE(r *oidc.AuthRequest) error {
	switch {
	case r.CodeChallenge == "" && r.CodeChallengeMethod == "":
		return nil
	case r.CodeChallenge == "":
		return oidc.ErrInvalidRequest().WithDescription("code_challenge missing")
	case r.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	case len(r.CodeChallenge) < 43 || len(r.CodeChallenge) > 128:
		return oidc.ErrInvalidRequest().WithDescription("code_challenge: 43 to 128 characters")
	}
	return nil
}

func (s *grants) authRequest(ctx context.Context, id string) (*authRequest, error) {
	a := new(authRequest)
	if len(id) > 64 {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "unknown auth request")
	}
	if err := s.eph.get(ctx, keyAuthRequest+id, a); err != nil {
		return nil, err
	}
	return a, nil
}

// issueCode consumes an admitted auth request (so that it yields one code
// at most) and stores a fresh code for it: the request's id (the grant's,
// as the ID token's sid tells anyway), a dot, 256 random bits. The id lets
// a replayed code find the grant it was redeemed for (codeReplayed).
func (s *grants) issueCode(ctx context.Context, a *authRequest) (string, error) {
	if _, err := s.eph.eph.Take(ctx, keyAuthRequest+a.ID); err != nil {
		return "", err // CodeNotFound: another tab has completed it
	}
	code := a.ID + "." + randomToken(32)
	if err := s.eph.put(ctx, keyCode+s.kr.tokenID("code", code), a, codeTTL); err != nil {
		return "", err
	}
	return code, nil
}

// consumeCode takes the code's auth request atomically. It also returns
// the code's store id, which the grant's record keeps to recognise a
// replay.
func (s *grants) consumeCode(ctx context.Context, code string) (*authRequest, string, error) {
	id := s.kr.tokenID("code", code)
	a := new(authRequest)
	if len(code) > 512 {
		return nil, id, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	err := s.eph.take(ctx, keyCode+id, a)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return nil, id, s.codeReplayed(ctx, code, id)
	}
	if err != nil {
		return nil, id, err
	}
	return a, id, nil
}

// codeReplayed handles a code that is unknown: if it is the code a live
// grant was redeemed with, the tokens of that grant are revoked (RFC 6749
// §4.1.2). The grant's record keeps the code's store id; the code names
// the grant.
func (s *grants) codeReplayed(ctx context.Context, code, codeID string) error {
	grantID, _, ok := strings.Cut(code, ".")
	if !ok || grantID == "" || len(grantID) > 64 {
		return oidc.ErrInvalidGrant().WithDescription("invalid or expired code")
	}
	var sg storedGrant
	err := s.eph.get(ctx, keyGrant+grantID, &sg)
	if err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		return err
	}
	if err == nil && !sg.Revoked && sg.CodeID != "" && hmac.Equal([]byte(sg.CodeID), []byte(codeID)) {
		if err := s.revokeGrant(ctx, grant{ID: grantID}, false); err != nil {
			return err
		}
		return oidc.ErrInvalidGrant().WithDescription("code already used; its tokens are revoked")
	}
	return oidc.ErrInvalidGrant().WithDescription("invalid or expired code")
}

// storedGrant is the grant's record in the Ephemeral store: the grant
// while its tokens are valid (with the store id of the code it was
// redeemed with), a tombstone (Revoked) once revoked.
type storedGrant struct {
	grant
	CodeID  string `json:"code,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`
}

// rememberGrant records a grant redeemed with the code of store id codeID,
// before its first tokens are minted: its access tokens are valid while
// the record is there (until the admission ends, which also bounds every
// token's lifetime), a replay of the code is recognised by it, and
// end_session finds the visitor's room session from the ID token's sid
// alone (a relying party's back-channel logout has no browser cookies).
// Nothing can revoke the grant before this write (a revocation needs one
// of its tokens, or a replay of its code, which this record recognises),
// so the plain put never overwrites a tombstone.
func (s *grants) rememberGrant(ctx context.Context, g *grant, codeID string) error {
	return s.eph.put(ctx, keyGrant+g.ID, storedGrant{grant: *g, CodeID: codeID}, s.grantTTL(g))
}

// restoreGrant writes a grant's record again before a refresh mints
// tokens, for the case the Ephemeral store lost it; it never replaces a
// record, so a tombstone stays.
func (s *grants) restoreGrant(ctx context.Context, g *grant) error {
	b, err := jsonBytes(storedGrant{grant: *g})
	if err != nil {
		return err
	}
	_, err = s.eph.eph.PutIfAbsent(ctx, keyGrant+g.ID, b, s.grantTTL(g))
	return err
}

func (s *grants) grantTTL(g *grant) time.Duration {
	return max(g.AdmissionEnds.Sub(s.now()), time.Second)
}

// grantByID returns a live grant: CodeNotFound once it is revoked or its
// admission has ended.
func (s *grants) grantByID(ctx context.Context, id string) (*grant, error) {
	if id == "" || len(id) > 64 {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "unknown grant")
	}
	var sg storedGrant
	if err := s.eph.get(ctx, keyGrant+id, &sg); err != nil {
		return nil, err
	}
	if sg.Revoked || sg.ID != id {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "grant revoked")
	}
	return &sg.grant, nil
}

// restoreCode puts a consumed code back after an outage stopped the
// exchange before anything was issued, so the client may retry.
func (s *grants) restoreCode(ctx context.Context, codeID string, a *authRequest) {
	_ = s.eph.put(context.WithoutCancel(ctx), keyCode+codeID, a, codeTTL)
}

func (s *grants) deleteAuthRequest(ctx context.Context, id string) error {
	return s.eph.eph.Delete(ctx, keyAuthRequest+id)
}

// checkAdmission refuses a grant whose admission has ended: expired, or
// its session completed or abandoned (logout, revocation, the site's own
// update_session). The queue core is the one to ask.
func (s *grants) checkAdmission(ctx context.Context, g *grant) error {
	if !s.now().Before(g.AdmissionEnds) {
		return oidc.ErrInvalidGrant().WithDescription("the admission has ended")
	}
	if _, err := s.queue.Admit(ctx, g.Room, g.TicketID, s.issuer); err != nil {
		return admissionError(err)
	}
	return nil
}

func admissionError(err error) error {
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeNotServed, waitroom.CodeExpired, waitroom.CodeSessionClosed, waitroom.CodeNotFound:
		return oidc.ErrInvalidGrant().WithDescription("the admission is no longer valid: %s", waitroom.ErrorMessage(err))
	}
	return err
}

func refreshError(err error) error {
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	return err
}

// newRefreshToken stores a new refresh token of g for client c.
func (s *grants) newRefreshToken(ctx context.Context, g *grant, c waitroom.Client) (string, error) {
	raw, err := jsonBytes(g)
	if err != nil {
		return "", err
	}
	now := s.now()
	token := randomToken(32)
	err = s.refresh.CreateRefreshToken(ctx, waitroom.RefreshToken{
		ID:        s.kr.tokenID("refresh", token),
		GrantID:   g.ID,
		ClientID:  g.ClientID,
		Grant:     raw,
		CreatedAt: now,
		ExpiresAt: capTime(now.Add(c.RefreshTokenLifetime.D()), g.AdmissionEnds),
	})
	return token, err
}

func capTime(t, limit time.Time) time.Time {
	if !limit.IsZero() && limit.Before(t) {
		return limit
	}
	return t
}

// refreshRequest returns the grant of a live refresh token of clientID
// whose admission is still valid. A token its client presents again after
// rotating it has leaked, or its client is confused: either way the whole
// grant is revoked (RFC 9700 §4.14.2), so that neither the thief's new
// tokens nor the client's keep working.
func (s *grants) refreshRequest(ctx context.Context, token, clientID string) (*refreshRequest, error) {
	rt, g, err := s.refreshGrant(ctx, token)
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		if g.ClientID == clientID {
			return nil, s.revokeReused(ctx, *g)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if err != nil {
		return nil, refreshError(err)
	}
	if g.ClientID != clientID {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was issued to another client")
	}
	if err := s.checkAdmission(ctx, g); err != nil {
		return nil, err
	}
	return &refreshRequest{grant: *g, tokenID: rt.ID}, nil
}

// rotate takes a refresh token of grant g for good: of concurrent
// refreshes with one token exactly one goes on; the others are reuses.
func (s *grants) rotate(ctx context.Context, tokenID string, g grant) error {
	_, err := s.refresh.TakeRefreshToken(ctx, tokenID, s.now())
	if waitroom.ErrorCode(err) == waitroom.CodeConflict {
		return s.revokeReused(ctx, g)
	}
	return refreshError(err)
}

// revokeReused revokes the grant of a reused refresh token.
func (s *grants) revokeReused(ctx context.Context, g grant) error {
	if err := s.revokeGrant(ctx, g, false); err != nil {
		return err
	}
	return oidc.ErrInvalidGrant().WithDescription("the refresh token was already used: every token of its grant is revoked")
}

// refreshGrant reads a refresh token and its grant. A used token comes
// with its grant and the store's CodeConflict; other failures have no
// grant.
func (s *grants) refreshGrant(ctx context.Context, token string) (waitroom.RefreshToken, *grant, error) {
	if len(token) > 512 {
		return waitroom.RefreshToken{}, nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	rt, err := s.refresh.RefreshToken(ctx, s.kr.tokenID("refresh", token), s.now())
	if err != nil && waitroom.ErrorCode(err) != waitroom.CodeConflict {
		return rt, nil, refreshError(err)
	}
	g := new(grant)
	if derr := decodeStored(rt.Grant, g); derr != nil {
		return rt, nil, derr
	}
	return rt, g, err
}

// revokeToken revokes the grant of an access or refresh token presented by
// clientID and ends its session. Unknown tokens are not an error (RFC 7009).
func (s *grants) revokeToken(ctx context.Context, token, clientID string) error {
	if _, g, err := s.refreshGrant(ctx, token); err == nil {
		if g.ClientID != clientID {
			return nil
		}
		return s.revokeGrant(ctx, *g, true)
	} else if waitroom.ErrorCode(err) == waitroom.CodeUnavailable {
		return err
	}
	rec, err := s.accessRecordOf(ctx, token)
	if err != nil || rec.Grant.ClientID != clientID {
		if waitroom.ErrorCode(err) == waitroom.CodeUnavailable {
			return err
		}
		return nil
	}
	return s.revokeGrant(ctx, rec.Grant, true)
}

// revokeGrant invalidates every token of a grant: its record becomes a
// tombstone that outlives any access token, its refresh tokens are
// deleted. With endSession it also completes the visitor's session in the
// room (freeing a max-active slot) and stops the admission cookie from
// starting new logins.
func (s *grants) revokeGrant(ctx context.Context, g grant, endSession bool) error {
	if err := s.eph.put(ctx, keyGrant+g.ID, storedGrant{grant: grant{ID: g.ID}, Revoked: true}, grantMarkerTTL); err != nil {
		return err
	}
	if err := s.refresh.RevokeGrant(ctx, g.ID); err != nil {
		return err
	}
	if !endSession || g.TicketID == "" {
		return nil
	}
	return s.endSession(ctx, g.Room, g.TicketID)
}

func (s *grants) endSession(ctx context.Context, room, ticketID string) error {
	if err := s.eph.put(ctx, keyClosed+room+":"+ticketID, true, closedTTL); err != nil {
		return err
	}
	err := s.queue.UpdateSession(ctx, room, ticketID, waitroom.SessionCompleted)
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeNotFound, waitroom.CodeConflict, waitroom.CodeSessionClosed:
		return nil // no admission recorded yet, or already ended
	}
	return err
}

// accessRecordOf resolves an access token (JWT or opaque) to its live
// record.
func (s *grants) accessRecordOf(ctx context.Context, token string) (*accessRecord, error) {
	if s.resolveToken == nil {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "invalid access token")
	}
	id, subject, ok := s.resolveToken(ctx, token)
	if !ok {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "invalid access token")
	}
	return s.accessRecord(ctx, id, subject)
}

// accessRecord returns the live record of an authenticated token id:
// unexpired, and its grant neither revoked nor past its admission.
func (s *grants) accessRecord(ctx context.Context, id, subject string) (*accessRecord, error) {
	t, ok := parseAccessTokenID(id)
	if !ok {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "invalid access token")
	}
	if !s.now().Before(t.exp) {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "access token expired")
	}
	g, err := s.grantByID(ctx, t.grantID)
	if err != nil {
		return nil, err
	}
	if g.Subject != subject {
		return nil, waitroom.Errorf(waitroom.CodeNotFound, "invalid access token")
	}
	return &accessRecord{Grant: *g, IssuedAt: t.iat, ExpiresAt: t.exp}, nil
}

func fillIntrospection(resp *oidc.IntrospectionResponse, rec *accessRecord, issuer string) {
	g := &rec.Grant
	resp.Active = true
	resp.Subject = g.Subject
	resp.ClientID = g.ClientID
	resp.Audience = []string{g.ClientID}
	resp.Scope = g.Scopes
	resp.TokenType = oidc.BearerToken
	resp.Issuer = issuer
	resp.IssuedAt = oidc.FromTime(rec.IssuedAt)
	resp.Expiration = oidc.FromTime(rec.ExpiresAt)
	resp.AuthTime = oidc.FromTime(g.AdmittedAt)
	resp.Claims = waitroomClaims(g)
}
