// Package memstore is the in-process oidc.Store: clients created through
// the admin API and refresh tokens, kept in memory for the embedded
// (single-node) deployment and for tests. It passes oidc/storetest.
package memstore

import (
	"context"
	"crypto/rand"
	"sort"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// Store is an in-memory oidc.Store; safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	key     []byte
	clients map[string]oidc.Client
	refresh map[string]oidc.RefreshToken
}

var _ oidc.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{clients: map[string]oidc.Client{}, refresh: map[string]oidc.RefreshToken{}}
}

// ProviderKey returns a key made for this process: the embedded store
// lives as long as the process.
func (s *Store) ProviderKey(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		s.key = make([]byte, 32)
		if _, err := rand.Read(s.key); err != nil {
			return nil, err
		}
	}
	return append([]byte(nil), s.key...), nil
}

func notFound(what string) error { return waitroom.Errorf(waitroom.CodeNotFound, "%s not found", what) }

// CreateClient stores a new client.
func (s *Store) CreateClient(_ context.Context, c oidc.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.ID]; ok {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q exists", c.ID)
	}
	c.Secret = ""
	s.clients[c.ID] = clone(c)
	return nil
}

// Client returns one client.
func (s *Store) Client(_ context.Context, id string) (oidc.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return oidc.Client{}, notFound("client")
	}
	return clone(c), nil
}

// Clients returns every client, ordered by id.
func (s *Store) Clients(context.Context) ([]oidc.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]oidc.Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, clone(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateClient applies fn under the store's lock.
func (s *Store) UpdateClient(_ context.Context, id string, fn func(*oidc.Client) error) (oidc.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return oidc.Client{}, notFound("client")
	}
	c = clone(c)
	if err := fn(&c); err != nil {
		return oidc.Client{}, err
	}
	c.ID, c.Secret = id, ""
	s.clients[id] = c
	return clone(c), nil
}

// DeleteClient removes a client.
func (s *Store) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[id]; !ok {
		return notFound("client")
	}
	delete(s.clients, id)
	return nil
}

// clone copies the slices and map so that callers never share them.
func clone(c oidc.Client) oidc.Client {
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	c.PostLogoutRedirectURIs = append([]string(nil), c.PostLogoutRedirectURIs...)
	c.GrantTypes = append([]string(nil), c.GrantTypes...)
	if c.Claims != nil {
		m := make(map[string]string, len(c.Claims))
		for k, v := range c.Claims {
			m[k] = v
		}
		c.Claims = m
	}
	return c
}

// CreateRefreshToken stores a token.
func (s *Store) CreateRefreshToken(_ context.Context, t oidc.RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refresh[t.ID]; ok {
		return waitroom.Errorf(waitroom.CodeConflict, "refresh token exists")
	}
	t.Grant = append([]byte(nil), t.Grant...)
	s.refresh[t.ID] = t
	return nil
}

// RefreshToken returns a live token.
func (s *Store) RefreshToken(_ context.Context, id string, now time.Time) (oidc.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live(id, now)
}

// TakeRefreshToken returns a live token and removes it.
func (s *Store) TakeRefreshToken(_ context.Context, id string, now time.Time) (oidc.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.live(id, now)
	if err == nil {
		delete(s.refresh, id)
	}
	return t, err
}

func (s *Store) live(id string, now time.Time) (oidc.RefreshToken, error) {
	t, ok := s.refresh[id]
	if !ok || !now.Before(t.ExpiresAt) {
		return oidc.RefreshToken{}, notFound("refresh token")
	}
	t.Grant = append([]byte(nil), t.Grant...)
	return t, nil
}

// RevokeGrant removes every token of a grant. A scan is fine here: the
// embedded store serves one node and revocation is rare.
func (s *Store) RevokeGrant(_ context.Context, grantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.refresh {
		if t.GrantID == grantID {
			delete(s.refresh, id)
		}
	}
	return nil
}

// DeleteExpiredRefreshTokens removes tokens expired before now.
func (s *Store) DeleteExpiredRefreshTokens(_ context.Context, now time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, t := range s.refresh {
		if !now.Before(t.ExpiresAt) {
			delete(s.refresh, id)
			n++
		}
	}
	return n, nil
}
