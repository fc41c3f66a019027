package oidc

import (
	"context"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// clientRegistry answers client lookups: clients from the config file first
// (read-only), then the store, with a short in-process cache so that the
// hot paths (authorize, token) do not hit the database every time.
type clientRegistry struct {
	fixed map[string]Client
	store ClientStore
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c   Client
	err error
	at  time.Time
}

func newClientRegistry(fixed []Client, store ClientStore, ttl time.Duration, now func() time.Time) *clientRegistry {
	r := &clientRegistry{fixed: map[string]Client{}, store: store, ttl: ttl, now: now, cache: map[string]cachedClient{}}
	for _, c := range fixed {
		r.fixed[c.ID] = c
	}
	return r
}

// get returns a client (CodeNotFound if there is none).
func (r *clientRegistry) get(ctx context.Context, id string) (Client, error) {
	if c, ok := r.fixed[id]; ok {
		return c, nil
	}
	if id == "" || len(id) > 128 {
		return Client{}, waitroom.Errorf(waitroom.CodeNotFound, "unknown client")
	}
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[id]
	r.mu.Unlock()
	if ok && now.Sub(e.at) < r.ttl {
		return e.c, e.err
	}
	c, err := r.store.Client(ctx, id)
	if err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		return Client{}, err // outages are not cached
	}
	r.mu.Lock()
	if len(r.cache) > 10000 {
		clear(r.cache) // bounded: a flood of unknown ids cannot grow it
	}
	r.cache[id] = cachedClient{c: c, err: err, at: now}
	r.mu.Unlock()
	return c, err
}

// forget drops a cached client after an admin change on this replica.
func (r *clientRegistry) forget(id string) {
	r.mu.Lock()
	delete(r.cache, id)
	r.mu.Unlock()
}

// opClient adapts a Client to op.Client.
type opClient struct {
	c        Client
	loginURL func(id string) string
}

func (o opClient) GetID() string                       { return o.c.ID }
func (o opClient) RedirectURIs() []string              { return o.c.RedirectURIs }
func (o opClient) PostLogoutRedirectURIs() []string    { return o.c.PostLogoutRedirectURIs }
func (o opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (o opClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (o opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (o opClient) LoginURL(id string) string { return o.loginURL(id) }
func (o opClient) IDTokenLifetime() time.Duration {
	return o.c.IDTokenLifetime.D()
}

// DevMode allows http redirect URIs; confidential clients are allowed them
// anyway by the library, and our registration is exact-match only.
func (o opClient) DevMode() bool { return false }

func (o opClient) GrantTypes() []oidc.GrantType {
	g := make([]oidc.GrantType, len(o.c.GrantTypes))
	for i, t := range o.c.GrantTypes {
		g[i] = oidc.GrantType(t)
	}
	return g
}

func (o opClient) AccessTokenType() op.AccessTokenType {
	if o.c.AccessTokenFormat == TokenFormatOpaque {
		return op.AccessTokenTypeBearer
	}
	return op.AccessTokenTypeJWT
}

func (o opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (o opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (o opClient) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion is false: the waitroom claims are added to
// the ID token whatever the scopes (SetUserinfoFromRequest).
func (o opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (o opClient) ClockSkew() time.Duration             { return 0 }
