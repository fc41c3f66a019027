package storetest

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func tokenTests() []testCase {
	return []testCase{
		{"IssueTokenRS256", true, func(t *testing.T, b Backend) { testIssueToken(t, b, "RS256") }},
		{"IssueTokenES256", true, func(t *testing.T, b Backend) { testIssueToken(t, b, "ES256") }},
		{"IssueTokenErrors", true, testIssueTokenErrors},
		{"IssueTokenNeverReissuesExpired", true, testIssueTokenExpiredToken},
		{"IssueTokenSessionClosed", true, testIssueTokenSessionClosed},
		{"IssueTokenExpiredPosition", true, testIssueTokenExpiredPosition},
		{"IssueTokenConcurrentFirstIssue", true, testIssueTokenConcurrent},
		{"AdmitRecordsWithoutSigning", true, testAdmit},
		{"AdmitTicketJustEnqueued", true, testAdmitTicket},
		{"CreateTokenStaleGeneration", true, testCreateTokenStaleGeneration},
		{"UpdateSession", true, testUpdateSession},
		{"ActiveTokens", true, testActiveTokens},
		{"ExpiredTokensPaging", true, testExpiredTokensPaging},
	}
}

// admitted enqueues n tickets and serves them all.
func (e *env) admitted(room string, n int) []waitroom.Ticket {
	e.t.Helper()
	tks := e.enqueueN(room, n)
	e.setServing(room, int64(n))
	return tks
}

type wantClaims struct {
	Aud           string `json:"aud"`
	Sub           string `json:"sub"`
	QueuePosition int64  `json:"queue_position"`
	TokenUse      string `json:"token_use"`
	Iat           int64  `json:"iat"`
	Nbf           int64  `json:"nbf"`
	Exp           int64  `json:"exp"`
	Iss           string `json:"iss"`
}

// verifyToken checks a token's header and signature against the JWKS and
// returns its claims.
func verifyToken(t *testing.T, keys *waitroom.Keys, token, alg string) wantClaims {
	t.Helper()
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	noErr(t, err)
	h := obj.Signatures[0].Header
	if h.Algorithm != alg || len(h.KeyID) != 32 || h.ExtraHeaders["typ"] != "JWT" {
		t.Fatalf("header = alg %s kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
	}
	jwks := keys.JWKS()
	found := jwks.Key(h.KeyID)
	if len(found) != 1 {
		t.Fatalf("kid %s not in the JWKS", h.KeyID)
	}
	payload, err := obj.Verify(found[0])
	noErr(t, err)
	var c wantClaims
	noErr(t, json.Unmarshal(payload, &c))
	return c
}

func testIssueToken(t *testing.T, b Backend, alg string) {
	e := newEnvAlg(t, b, alg)
	r := e.newRoom(func(r *waitroom.Room) { r.TokenValidity = waitroom.Duration(30 * time.Minute) })
	tks := e.admitted(r.ID, 2)
	got := e.issue(r.ID, tks[1].ID)
	now := e.clock.Now().Unix()
	for use, tok := range map[string]string{"access": got.Access, "refresh": got.Refresh, "id": got.ID} {
		c := verifyToken(t, e.keys, tok, alg)
		want := wantClaims{Aud: r.ID, Sub: tks[1].ID, QueuePosition: 2, TokenUse: use, Iat: now, Nbf: now, Exp: now + 1800, Iss: "https://issuer.test"}
		if c != want {
			t.Fatalf("%s claims = %+v, want %+v", use, c, want)
		}
	}
	if got.ExpiresIn != 1800 || got.Record.Position != 2 || got.Record.SessionStatus != waitroom.SessionActive {
		t.Fatalf("Tokens = %+v", got)
	}
	e.clock.Advance(10 * time.Second)
	again := e.issue(r.ID, tks[1].ID)
	if again.Access != got.Access || again.Refresh != got.Refresh || again.ID != got.ID {
		t.Fatal("repeat IssueToken did not return byte-identical tokens")
	}
	if again.ExpiresIn != 1790 {
		t.Fatalf("repeat ExpiresIn = %d, want the 1790 s left", again.ExpiresIn)
	}
	if c := e.counters(r.ID); c.Tokens != 1 {
		t.Fatalf("tokens counter = %d after one admission issued twice", c.Tokens)
	}
	// A validity given by the caller overrides the room's.
	custom, err := e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "", 90*time.Second)
	noErr(t, err)
	if custom.ExpiresIn != 90 || !custom.Record.ExpiresAt.Equal(e.clock.Now().Add(90*time.Second)) {
		t.Fatalf("validity 90s gave %+v", custom)
	}
}

func testIssueTokenErrors(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.enqueueN(r.ID, 2)
	e.setServing(r.ID, 1)
	_, err := e.svc.IssueToken(e.ctx, r.ID, tks[1].ID, "", 0)
	wantCode(t, err, waitroom.CodeNotServed)
	_, err = e.svc.IssueToken(e.ctx, r.ID, "4b1f7a1e-0000-4000-8000-000000000000", "", 0)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = e.svc.IssueToken(e.ctx, r.ID, "nope", "", 0)
	wantCode(t, err, waitroom.CodeInvalid)
	for _, v := range []time.Duration{-time.Second, time.Millisecond, 745 * time.Hour} {
		_, err = e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "", v)
		wantCode(t, err, waitroom.CodeInvalid)
	}
	_, err = e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "bad\nissuer", 0)
	wantCode(t, err, waitroom.CodeInvalid)
	if c := e.counters(r.ID); c.Tokens != 0 {
		t.Fatalf("failed IssueToken calls counted %d tokens", c.Tokens)
	}
}

func testIssueTokenExpiredToken(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 1)
	_, err := e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "", time.Minute)
	noErr(t, err)
	e.clock.Advance(time.Minute)
	_, err = e.svc.IssueToken(e.ctx, r.ID, tks[0].ID, "", time.Minute)
	wantCode(t, err, waitroom.CodeExpired)
	if c := e.counters(r.ID); c.Tokens != 1 {
		t.Fatalf("tokens counter = %d", c.Tokens)
	}
}

func testIssueTokenSessionClosed(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 2)
	e.issue(r.ID, tks[0].ID)
	e.issue(r.ID, tks[1].ID)
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, waitroom.SessionCompleted))
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[1].ID, waitroom.SessionAbandoned))
	for _, tk := range tks {
		_, err := e.svc.IssueToken(e.ctx, r.ID, tk.ID, "", 0)
		wantCode(t, err, waitroom.CodeSessionClosed)
	}
}

func testIssueTokenExpiredPosition(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(func(r *waitroom.Room) { r.ExpiryPeriod = waitroom.Duration(100 * time.Second) })
	off := e.newRoom(func(r *waitroom.Room) { r.ExpiryEnabled = false; r.ExpiryPeriod = waitroom.Duration(100 * time.Second) })
	tks := e.admitted(r.ID, 2)
	offTks := e.admitted(off.ID, 1)
	e.clock.Advance(99 * time.Second)
	e.issue(r.ID, tks[0].ID)
	e.clock.Advance(2 * time.Second)
	_, err := e.svc.IssueToken(e.ctx, r.ID, tks[1].ID, "", 0)
	wantCode(t, err, waitroom.CodeExpired)
	// The token issued in time is still re-issued: expiry stops at a token.
	e.issue(r.ID, tks[0].ID)
	// With expiry off, a late visitor is still admitted.
	e.issue(off.ID, offTks[0].ID)
}

func testIssueTokenConcurrent(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 1)
	const callers = 50
	results := make([]waitroom.Tokens, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		svc := e.svc
		if i%2 == 1 {
			svc = e.another(t)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = svc.IssueToken(e.ctx, r.ID, tks[0].ID, "https://issuer.test", 0)
		}()
	}
	wg.Wait()
	for i := range callers {
		noErr(t, errs[i])
		if results[i].Access != results[0].Access || results[i].ID != results[0].ID {
			t.Fatalf("caller %d got different tokens", i)
		}
	}
	if c := e.counters(r.ID); c.Tokens != 1 {
		t.Fatalf("tokens counter = %d after %d concurrent first issues, want 1", c.Tokens, callers)
	}
	n, err := e.store.CountTokens(e.ctx, r.ID, 0, 1)
	noErr(t, err)
	if n != 1 {
		t.Fatalf("CountTokens = %d, want one record", n)
	}
}

func testCreateTokenStaleGeneration(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 1)
	noErr(t, e.svc.Reset(e.ctx, r.ID))
	now := e.clock.Now()
	rec := waitroom.TokenRecord{Room: r.ID, RequestID: tks[0].ID, Position: 1, IssuedAt: now, NotBefore: now,
		ExpiresAt: now.Add(time.Hour), Generation: tks[0].Generation}
	_, _, err := e.store.CreateToken(e.ctx, rec)
	wantCode(t, err, waitroom.CodeNotFound)
	if c := e.counters(r.ID); c.Tokens != 0 {
		t.Fatalf("stale CreateToken counted a token: %+v", c)
	}
}

func testUpdateSession(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 3)
	e.issue(r.ID, tks[0].ID)
	e.issue(r.ID, tks[1].ID)
	for _, bad := range []waitroom.SessionStatus{0, 2, -2} {
		wantCode(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, bad), waitroom.CodeInvalid)
		wantCode(t, e.store.UpdateSession(e.ctx, r.ID, tks[0].ID, bad), waitroom.CodeInvalid)
	}
	rec, err := e.store.Token(e.ctx, r.ID, tks[0].ID)
	noErr(t, err)
	if rec.SessionStatus != waitroom.SessionActive {
		t.Fatalf("an invalid status was written: %d", rec.SessionStatus)
	}
	wantCode(t, e.svc.UpdateSession(e.ctx, r.ID, tks[2].ID, waitroom.SessionCompleted), waitroom.CodeNotFound)
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, waitroom.SessionCompleted))
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[1].ID, waitroom.SessionAbandoned))
	wantCode(t, e.svc.UpdateSession(e.ctx, r.ID, tks[0].ID, waitroom.SessionAbandoned), waitroom.CodeNotFound)
	rec, err = e.store.Token(e.ctx, r.ID, tks[0].ID)
	noErr(t, err)
	if rec.SessionStatus != waitroom.SessionCompleted {
		t.Fatalf("status = %d, want completed (only moves from 0)", rec.SessionStatus)
	}
	if c := e.counters(r.ID); c.Completed != 1 || c.Abandoned != 1 {
		t.Fatalf("counters = %+v, want completed 1 abandoned 1", c)
	}
}

func testActiveTokens(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 4)
	for i, tk := range tks {
		_, err := e.svc.IssueToken(e.ctx, r.ID, tk.ID, "", time.Duration(i+1)*time.Minute)
		noErr(t, err)
	}
	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[3].ID, waitroom.SessionCompleted))
	for _, step := range []struct {
		at   time.Duration
		want int64
	}{{0, 3}, {59 * time.Second, 3}, {time.Minute, 2}, {3 * time.Minute, 0}, {5 * time.Minute, 0}} {
		n, err := e.store.ActiveTokens(e.ctx, r.ID, e.clock.Now().Add(step.at))
		noErr(t, err)
		if n != step.want {
			t.Fatalf("ActiveTokens at +%v = %d, want %d", step.at, n, step.want)
		}
	}
	e.clock.Advance(90 * time.Second)
	n, err := e.svc.ActiveTokens(e.ctx, r.ID)
	noErr(t, err)
	if n != 2 {
		t.Fatalf("Service.ActiveTokens after 90 s = %d, want 2", n)
	}
}

func testExpiredTokensPaging(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom()
	tks := e.admitted(r.ID, 6)
	want := map[string]bool{}
	for i, tk := range tks {
		validity := time.Minute
		if i == 5 {
			validity = time.Hour // still live at the end
		} else {
			want[tk.ID] = true
		}
		_, err := e.svc.IssueToken(e.ctx, r.ID, tk.ID, "", validity)
		noErr(t, err)
		e.clock.Advance(time.Duration(i%2) * time.Second) // some share an expiry
	}
	ids, next, err := e.svc.ExpiredTokens(e.ctx, r.ID, "", 2)
	noErr(t, err)
	if len(ids) != 0 || next != "" {
		t.Fatalf("before any expiry: %v, %q", ids, next)
	}
	e.clock.Advance(2 * time.Minute)
	var all []string
	cursor, pages := "", 0
	for {
		ids, next, err := e.svc.ExpiredTokens(e.ctx, r.ID, cursor, 2)
		noErr(t, err)
		if len(ids) > 2 {
			t.Fatalf("page of %d ids, limit 2", len(ids))
		}
		all = append(all, ids...)
		pages++
		if next == "" || pages > 10 {
			break
		}
		cursor = next
	}
	if len(all) != len(want) {
		t.Fatalf("expired ids = %v, want the %d expired tokens", all, len(want))
	}
	e.wantExpiryOrder(r.ID, all)
	for _, id := range all {
		if !want[id] {
			t.Fatalf("id %s listed as expired", id)
		}
		delete(want, id)
	}
	_, _, err = e.svc.ExpiredTokens(e.ctx, r.ID, "", waitroom.MaxExpiredPage+1)
	wantCode(t, err, waitroom.CodeInvalid)
}

// wantExpiryOrder checks that ids are ordered by (expiry, request id).
func (e *env) wantExpiryOrder(room string, ids []string) {
	e.t.Helper()
	var prevExp time.Time
	prevID := ""
	for _, id := range ids {
		rec, err := e.store.Token(e.ctx, room, id)
		noErr(e.t, err)
		if rec.ExpiresAt.Before(prevExp) || (rec.ExpiresAt.Equal(prevExp) && id < prevID) {
			e.t.Fatalf("expired ids out of (expiry, id) order: %v", ids)
		}
		prevExp, prevID = rec.ExpiresAt, id
	}
}

// testAdmit: Admit stores the same single record IssueToken would, counts
// it once, and refuses what IssueToken refuses.
func testAdmit(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(func(r *waitroom.Room) { r.TokenValidity = waitroom.Duration(10 * time.Minute) })
	tks := e.enqueueN(r.ID, 3)
	e.setServing(r.ID, 2)
	_, err := e.svc.Admit(e.ctx, r.ID, tks[2].ID, "https://issuer.test")
	wantCode(t, err, waitroom.CodeNotServed)

	first, err := e.svc.Admit(e.ctx, r.ID, tks[1].ID, "https://issuer.test")
	noErr(t, err)
	now := e.clock.Now().UTC().Truncate(time.Second)
	if first.RequestID != tks[1].ID || first.Position != 2 || first.Issuer != "https://issuer.test" ||
		!first.IssuedAt.Equal(now) || !first.ExpiresAt.Equal(now.Add(10*time.Minute)) || first.KeyID == "" {
		t.Fatalf("Admit record = %+v", first)
	}
	e.clock.Advance(2 * time.Second)
	again, err := e.svc.Admit(e.ctx, r.ID, tks[1].ID, "https://other.test")
	noErr(t, err)
	issued := e.issue(r.ID, tks[1].ID)
	if !again.IssuedAt.Equal(first.IssuedAt) || again.Issuer != first.Issuer || !issued.Record.IssuedAt.Equal(first.IssuedAt) {
		t.Fatalf("repeat admission changed the record: first %+v, again %+v, issued %+v", first, again, issued.Record)
	}
	if c := e.counters(r.ID); c.Tokens != 1 {
		t.Fatalf("tokens counter = %d after one admission admitted three times, want 1", c.Tokens)
	}

	noErr(t, e.svc.UpdateSession(e.ctx, r.ID, tks[1].ID, waitroom.SessionCompleted))
	_, err = e.svc.Admit(e.ctx, r.ID, tks[1].ID, "https://issuer.test")
	wantCode(t, err, waitroom.CodeSessionClosed)

	_, err = e.svc.Admit(e.ctx, r.ID, tks[0].ID, "https://issuer.test")
	noErr(t, err)
	e.clock.Advance(11 * time.Minute)
	_, err = e.svc.Admit(e.ctx, r.ID, tks[0].ID, "https://issuer.test")
	wantCode(t, err, waitroom.CodeExpired)
}

// testAdmitTicket: AdmitTicket, given the ticket Enqueue has just
// returned, stores the same record Admit would, refuses a ticket not
// served yet, and refuses a ticket whose room was reset in between (the
// store checks the record's generation, since the ticket is not read
// again).
func testAdmitTicket(t *testing.T, b Backend) {
	e := newEnv(t, b)
	r := e.newRoom(func(r *waitroom.Room) { r.TokenValidity = waitroom.Duration(10 * time.Minute) })
	tks := e.enqueueN(r.ID, 2)
	e.setServing(r.ID, 1)
	_, err := e.svc.AdmitTicket(e.ctx, r.ID, tks[1], "https://issuer.test")
	wantCode(t, err, waitroom.CodeNotServed)

	rec, err := e.svc.AdmitTicket(e.ctx, r.ID, tks[0], "https://issuer.test")
	noErr(t, err)
	if rec.RequestID != tks[0].ID || rec.Position != 1 || rec.Generation != tks[0].Generation {
		t.Fatalf("AdmitTicket record = %+v, ticket %+v", rec, tks[0])
	}
	again, err := e.svc.Admit(e.ctx, r.ID, tks[0].ID, "https://issuer.test")
	noErr(t, err)
	if !again.IssuedAt.Equal(rec.IssuedAt) || e.counters(r.ID).Tokens != 1 {
		t.Fatalf("Admit after AdmitTicket: %+v (first %+v), tokens %d", again, rec, e.counters(r.ID).Tokens)
	}

	// A reset between the enqueue and the admission: the ticket in hand is
	// of the previous generation, and nothing is admitted.
	fresh := e.enqueueN(r.ID, 1)[0]
	noErr(t, e.svc.Reset(e.ctx, r.ID))
	e.setServing(r.ID, 10)
	_, err = e.svc.AdmitTicket(e.ctx, r.ID, fresh, "https://issuer.test")
	wantCode(t, err, waitroom.CodeNotFound)
	if c := e.counters(r.ID); c.Tokens != 0 {
		t.Fatalf("tokens counter = %d after an admission of a reset room's ticket, want 0", c.Tokens)
	}
}
