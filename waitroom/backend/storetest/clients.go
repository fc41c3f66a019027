package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func clientTests() []testCase {
	return []testCase{
		{"ClientCreateReadListDelete", true, testClients},
		{"ClientUpdateClearsFields", true, testClientUpdateClears},
		{"ClientConcurrentUpdatesLoseNothing", true, testClientConcurrentUpdates},
	}
}

func refreshTests() []testCase {
	return []testCase{
		{"RefreshTokens", true, testRefresh},
		{"RefreshTakeExactlyOnce", true, testRefreshTakeOnce},
		{"RefreshReuseIsRecognised", true, testRefreshReuse},
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func client(id string) waitroom.Client {
	return waitroom.Client{ID: id, SecretHash: "hmac-sha256:abc", RedirectURIs: []string{"https://rp.test/cb?x=1"},
		PostLogoutRedirectURIs: []string{"https://rp.test/"}, Room: "r1",
		GrantTypes: []string{waitroom.GrantAuthorizationCode}, Subject: waitroom.SubjectPairwise,
		InitiateLoginURI: "https://rp.test/login", MaxHold: waitroom.Duration(time.Minute),
		Claims: map[string]string{"email": "{sub8}@x.invalid"}, CreatedAt: t0, UpdatedAt: t0, Source: waitroom.SourceAPI}
}

func testClients(t *testing.T, b Backend) {
	ctx, s := context.Background(), b.Open(t).Clients
	_, err := s.Client(ctx, "nobody")
	wantCode(t, err, waitroom.CodeNotFound)
	for _, id := range []string{"b", "a"} {
		withSecret := client(id)
		withSecret.Secret = "never-stored-in-clear"
		noErr(t, s.CreateClient(ctx, withSecret))
	}
	wantCode(t, s.CreateClient(ctx, client("a")), waitroom.CodeConflict)
	got, err := s.Client(ctx, "a")
	noErr(t, err)
	want := client("a")
	if got.SecretHash != want.SecretHash || got.Secret != "" || got.RedirectURIs[0] != want.RedirectURIs[0] ||
		got.Claims["email"] != want.Claims["email"] || got.Subject != want.Subject || !got.CreatedAt.Equal(t0) ||
		got.MaxHold != want.MaxHold || got.InitiateLoginURI != want.InitiateLoginURI || got.Source != waitroom.SourceAPI {
		t.Fatalf("client read back as %+v", got)
	}
	all, err := s.Clients(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" {
		t.Fatalf("clients %v %v", all, err)
	}
	noErr(t, s.DeleteClient(ctx, "a"))
	wantCode(t, s.DeleteClient(ctx, "a"), waitroom.CodeNotFound)
	_, err = s.Client(ctx, "a")
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = s.UpdateClient(ctx, "nobody", func(*waitroom.Client) error { return nil })
	wantCode(t, err, waitroom.CodeNotFound)
}

// testClientUpdateClears: a failed update changes nothing; an update that
// empties optional fields is what a later read returns.
func testClientUpdateClears(t *testing.T, b Backend) {
	ctx, s := context.Background(), b.Open(t).Clients
	noErr(t, s.CreateClient(ctx, client("a")))
	boom := errors.New("boom")
	if _, err := s.UpdateClient(ctx, "a", func(c *waitroom.Client) error { c.Room = "changed"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	_, err := s.UpdateClient(ctx, "a", func(c *waitroom.Client) error {
		c.Claims, c.PostLogoutRedirectURIs, c.InitiateLoginURI, c.MaxHold, c.Name = nil, nil, "", 0, ""
		return nil
	})
	noErr(t, err)
	got, err := s.Client(ctx, "a")
	noErr(t, err)
	if got.Room != "r1" || len(got.Claims) != 0 || len(got.PostLogoutRedirectURIs) != 0 || got.InitiateLoginURI != "" || got.MaxHold != 0 {
		t.Fatalf("cleared client read back as %+v", got)
	}
}

func testClientConcurrentUpdates(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx := context.Background()
	stores := []waitroom.ClientStore{inst.Clients, inst.Clients}
	if inst.Another != nil {
		stores[1] = inst.Another(t).Clients
	}
	noErr(t, stores[0].CreateClient(ctx, client("a")))
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := stores[i%2].UpdateClient(ctx, "a", func(c *waitroom.Client) error {
				c.RedirectURIs = append(c.RedirectURIs, fmt.Sprintf("https://rp.test/cb/%d", i))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := stores[0].Client(ctx, "a")
	noErr(t, err)
	if len(got.RedirectURIs) != n+1 {
		t.Fatalf("after %d concurrent updates: %d redirect URIs, want %d", n, len(got.RedirectURIs), n+1)
	}
}

func refreshToken(id, grant string, exp time.Time) waitroom.RefreshToken {
	return waitroom.RefreshToken{ID: id, GrantID: grant, ClientID: "a", Grant: []byte(`{"sub":"x"}`),
		CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}
}

func testRefresh(t *testing.T, b Backend) {
	ctx, s := context.Background(), b.Open(t).Refresh
	now := t0
	for _, tok := range []waitroom.RefreshToken{refreshToken("t1", "g1", now.Add(time.Hour)), refreshToken("t2", "g1", now.Add(time.Hour)),
		refreshToken("t3", "g2", now.Add(time.Hour)), refreshToken("old", "g3", now.Add(-time.Second))} {
		noErr(t, s.CreateRefreshToken(ctx, tok))
	}
	got, err := s.RefreshToken(ctx, "t1", now)
	if err != nil || got.GrantID != "g1" || got.ClientID != "a" || string(got.Grant) != `{"sub":"x"}` || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("read back %+v %v", got, err)
	}
	_, err = s.RefreshToken(ctx, "old", now)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = s.TakeRefreshToken(ctx, "old", now)
	wantCode(t, err, waitroom.CodeNotFound)
	noErr(t, s.RevokeGrant(ctx, "g1"))
	for _, id := range []string{"t1", "t2"} {
		_, err = s.RefreshToken(ctx, id, now)
		wantCode(t, err, waitroom.CodeNotFound)
	}
	if _, err := s.RefreshToken(ctx, "t3", now); err != nil {
		t.Fatalf("other grant revoked: %v", err)
	}
	noErr(t, s.RevokeGrant(ctx, "unknown"))
	n, err := s.DeleteExpiredRefreshTokens(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d %v, want 1", n, err)
	}
}

func testRefreshTakeOnce(t *testing.T, b Backend) {
	ctx, s := context.Background(), b.Open(t).Refresh
	noErr(t, s.CreateRefreshToken(ctx, refreshToken("t1", "g1", t0.Add(time.Hour))))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := s.TakeRefreshToken(ctx, "t1", t0)
			switch {
			case err == nil:
				wins.Add(1)
			case waitroom.ErrorCode(err) != waitroom.CodeConflict:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d takes won, want exactly 1", wins.Load())
	}
}

// testRefreshReuse: a rotated token is not forgotten: until it expires,
// presenting it again gives the token (its grant) with ErrRefreshReused,
// so that the caller can revoke the whole grant (RFC 9700 §4.14.2); the
// grant's revocation removes it like the others.
func testRefreshReuse(t *testing.T, b Backend) {
	ctx, s := context.Background(), b.Open(t).Refresh
	noErr(t, s.CreateRefreshToken(ctx, refreshToken("t1", "g1", t0.Add(time.Hour))))
	noErr(t, s.CreateRefreshToken(ctx, refreshToken("t2", "g1", t0.Add(time.Hour))))
	taken, err := s.TakeRefreshToken(ctx, "t1", t0)
	if err != nil || taken.GrantID != "g1" || !taken.UsedAt.Equal(t0) {
		t.Fatalf("first take: %+v %v", taken, err)
	}
	later := t0.Add(time.Minute)
	for name, call := range map[string]func() (waitroom.RefreshToken, error){
		"RefreshToken":     func() (waitroom.RefreshToken, error) { return s.RefreshToken(ctx, "t1", later) },
		"TakeRefreshToken": func() (waitroom.RefreshToken, error) { return s.TakeRefreshToken(ctx, "t1", later) },
	} {
		got, err := call()
		wantCode(t, err, waitroom.CodeConflict)
		if got.GrantID != "g1" || !got.UsedAt.Equal(t0) || string(got.Grant) != `{"sub":"x"}` {
			t.Fatalf("%s of a used token: %+v, want grant g1 used at %v", name, got, t0)
		}
	}
	if _, err := s.RefreshToken(ctx, "t2", later); err != nil {
		t.Fatalf("the grant's other token: %v", err)
	}
	noErr(t, s.RevokeGrant(ctx, "g1"))
	for _, id := range []string{"t1", "t2"} {
		_, err = s.TakeRefreshToken(ctx, id, later)
		wantCode(t, err, waitroom.CodeNotFound)
	}
	// Once expired, a used token is an unknown one, and purged.
	noErr(t, s.CreateRefreshToken(ctx, refreshToken("t3", "g2", t0.Add(time.Hour))))
	_, err = s.TakeRefreshToken(ctx, "t3", t0)
	noErr(t, err)
	_, err = s.RefreshToken(ctx, "t3", t0.Add(2*time.Hour))
	wantCode(t, err, waitroom.CodeNotFound)
	if n, err := s.DeleteExpiredRefreshTokens(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("purged %d %v, want the used, expired token", n, err)
	}
}
