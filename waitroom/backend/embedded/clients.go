package embedded

import (
	"context"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// clientStore is the in-process waitroom.ClientStore.
type clientStore struct {
	mu   sync.Mutex
	byID map[string]waitroom.Client
}

// refreshStore is the in-process waitroom.RefreshStore.
type refreshStore struct {
	mu   sync.Mutex
	byID map[string]waitroom.RefreshToken
}

func notFound(what string) error { return waitroom.Errorf(waitroom.CodeNotFound, "%s not found", what) }

// CreateClient stores a new client.
func (s *clientStore) CreateClient(_ context.Context, c waitroom.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[c.ID]; ok {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q exists", c.ID)
	}
	c.Secret = ""
	s.byID[c.ID] = clone(c)
	return nil
}

// Client returns one client.
func (s *clientStore) Client(_ context.Context, id string) (waitroom.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return waitroom.Client{}, notFound("client")
	}
	return clone(c), nil
}

// Clients returns every client, ordered by id.
func (s *clientStore) Clients(context.Context) ([]waitroom.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]waitroom.Client, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, clone(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateClient applies fn under the store's lock.
func (s *clientStore) UpdateClient(_ context.Context, id string, fn func(*waitroom.Client) error) (waitroom.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.byID[id]
	if !ok {
		return waitroom.Client{}, notFound("client")
	}
	c = clone(c)
	if err := fn(&c); err != nil {
		return waitroom.Client{}, err
	}
	c.ID, c.Secret = id, ""
	s.byID[id] = c
	return clone(c), nil
}

// DeleteClient removes a client.
func (s *clientStore) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return notFound("client")
	}
	delete(s.byID, id)
	return nil
}

// clone copies the slices and map so that callers never share them.
func clone(c waitroom.Client) waitroom.Client {
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	c.PostLogoutRedirectURIs = append([]string(nil), c.PostLogoutRedirectURIs...)
	c.GrantTypes = append([]string(nil), c.GrantTypes...)
	if c.Claims != nil {
		c.Claims = maps.Clone(c.Claims)
	}
	return c
}

// CreateRefreshToken stores a token.
func (s *refreshStore) CreateRefreshToken(_ context.Context, t waitroom.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[t.ID]; ok {
		return waitroom.Errorf(waitroom.CodeConflict, "refresh token exists")
	}
	t.Grant = append([]byte(nil), t.Grant...)
	s.byID[t.ID] = t
	return nil
}

// RefreshToken returns a live token.
func (s *refreshStore) RefreshToken(_ context.Context, id string, now time.Time) (waitroom.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live(id, now)
}

// TakeRefreshToken returns a live token and marks it used.
func (s *refreshStore) TakeRefreshToken(_ context.Context, id string, now time.Time) (waitroom.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(id, now)
	if err == nil {
		t.UsedAt = now
		stored := s.byID[id]
		stored.UsedAt = now
		s.byID[id] = stored
	}
	return t, err
}

// live returns an unexpired token: with ErrRefreshReused once used.
func (s *refreshStore) live(id string, now time.Time) (waitroom.RefreshToken, error) {
	t, ok := s.byID[id]
	if !ok || !now.Before(t.ExpiresAt) {
		return waitroom.RefreshToken{}, notFound("refresh token")
	}
	t.Grant = append([]byte(nil), t.Grant...)
	if !t.UsedAt.IsZero() {
		return t, waitroom.ErrRefreshReused()
	}
	return t, nil
}

// RevokeGrant removes every token of a grant. A scan is fine here: the
// embedded store serves one node and revocation is rare.
func (s *refreshStore) RevokeGrant(_ context.Context, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.byID {
		if t.GrantID == grantID {
			delete(s.byID, id)
		}
	}
	return nil
}

// DeleteExpiredRefreshTokens removes tokens expired before now.
func (s *refreshStore) DeleteExpiredRefreshTokens(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, t := range s.byID {
		if !now.Before(t.ExpiresAt) {
			delete(s.byID, id)
			n++
		}
	}
	return n, nil
}
