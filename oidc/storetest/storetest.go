// Package storetest is the conformance suite of oidc.Store: every backend
// (oidc/memstore, oidc/pgstore) runs Run with a factory.
package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// Run runs the suite; open returns an empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) oidc.Store) {
	t.Run("clients", func(t *testing.T) { testClients(t, open(t)) })
	t.Run("client update", func(t *testing.T) { testClientUpdate(t, open(t)) })
	t.Run("refresh tokens", func(t *testing.T) { testRefresh(t, open(t)) })
	t.Run("refresh take once", func(t *testing.T) { testRefreshTakeOnce(t, open(t)) })
	t.Run("provider key", func(t *testing.T) { testProviderKey(t, open(t)) })
}

func testProviderKey(t *testing.T, s oidc.Store) {
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := s.ProviderKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if len(k) != 32 || string(k) != string(keys[0]) {
			t.Fatalf("provider keys differ or are short: %x vs %x", k, keys[0])
		}
	}
}

var ctx = context.Background()

func client(id string) oidc.Client {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return oidc.Client{ID: id, SecretHash: "hmac-sha256:abc", RedirectURIs: []string{"https://rp.test/cb?x=1"},
		Room: "r1", GrantTypes: []string{oidc.GrantAuthorizationCode}, Subject: oidc.SubjectPairwise,
		Claims: map[string]string{"email": "{sub8}@x.invalid"}, CreatedAt: now, UpdatedAt: now, Source: oidc.SourceAPI}
}

func wantCode(t *testing.T, err error, code waitroom.Code) {
	t.Helper()
	if waitroom.ErrorCode(err) != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func testClients(t *testing.T, s oidc.Store) {
	_, err := s.Client(ctx, "nobody")
	wantCode(t, err, waitroom.CodeNotFound)
	for _, id := range []string{"b", "a"} {
		if err := s.CreateClient(ctx, client(id)); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, s.CreateClient(ctx, client("a")), waitroom.CodeConflict)
	got, err := s.Client(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretHash != "hmac-sha256:abc" || got.Secret != "" || got.RedirectURIs[0] != "https://rp.test/cb?x=1" ||
		got.Claims["email"] != "{sub8}@x.invalid" || got.Subject != oidc.SubjectPairwise || !got.CreatedAt.Equal(client("a").CreatedAt) {
		t.Fatalf("client read back as %+v", got)
	}
	all, err := s.Clients(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" {
		t.Fatalf("clients %v %v", all, err)
	}
	if err := s.DeleteClient(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteClient(ctx, "a"), waitroom.CodeNotFound)
	_, err = s.Client(ctx, "a")
	wantCode(t, err, waitroom.CodeNotFound)
}

func testClientUpdate(t *testing.T, s oidc.Store) {
	if err := s.CreateClient(ctx, client("a")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateClient(ctx, "a", func(c *oidc.Client) error { c.Room = "changed"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateClient(ctx, "a", func(c *oidc.Client) error {
				c.RedirectURIs = append(c.RedirectURIs, "https://rp.test/more")
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.Client(ctx, "a")
	if got.Room != "r1" || len(got.RedirectURIs) != 21 {
		t.Fatalf("lost updates: room %q, %d redirect URIs", got.Room, len(got.RedirectURIs))
	}
	_, err := s.UpdateClient(ctx, "nobody", func(*oidc.Client) error { return nil })
	wantCode(t, err, waitroom.CodeNotFound)
}

func token(id, grant string, exp time.Time) oidc.RefreshToken {
	return oidc.RefreshToken{ID: id, GrantID: grant, ClientID: "a", Grant: []byte(`{"sub":"x"}`),
		CreatedAt: exp.Add(-time.Hour), ExpiresAt: exp}
}

func testRefresh(t *testing.T, s oidc.Store) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tok := range []oidc.RefreshToken{token("t1", "g1", now.Add(time.Hour)), token("t2", "g1", now.Add(time.Hour)),
		token("t3", "g2", now.Add(time.Hour)), token("old", "g3", now.Add(-time.Second))} {
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RefreshToken(ctx, "t1", now)
	if err != nil || got.GrantID != "g1" || got.ClientID != "a" || string(got.Grant) != `{"sub":"x"}` || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("read back %+v %v", got, err)
	}
	_, err = s.RefreshToken(ctx, "old", now)
	wantCode(t, err, waitroom.CodeNotFound)
	_, err = s.TakeRefreshToken(ctx, "old", now)
	wantCode(t, err, waitroom.CodeNotFound)
	if err := s.RevokeGrant(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"t1", "t2"} {
		_, err = s.RefreshToken(ctx, id, now)
		wantCode(t, err, waitroom.CodeNotFound)
	}
	if _, err := s.RefreshToken(ctx, "t3", now); err != nil {
		t.Fatalf("other grant revoked: %v", err)
	}
	if err := s.RevokeGrant(ctx, "unknown"); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpiredRefreshTokens(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("deleted %d %v, want 1", n, err)
	}
}

func testRefreshTakeOnce(t *testing.T, s oidc.Store) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := s.CreateRefreshToken(ctx, token("t1", "g1", now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TakeRefreshToken(ctx, "t1", now)
			switch waitroom.ErrorCode(err) {
			case waitroom.CodeNotFound:
			default:
				if err != nil {
					t.Error(err)
					return
				}
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d takes won, want exactly 1", wins.Load())
	}
}
