package oidc

import (
	"context"
	"crypto"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/waitroom-idp/waitroom/oidc/clients"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// The provider uses github.com/zitadel/oidc/v3/pkg/op for what a library
// does best: parsing and validating /authorize requests (op.Authorize),
// the discovery document, verifying id_token_hint and JWT access tokens,
// and encoding authorization responses. Every other endpoint (token,
// userinfo, introspection, revocation, logout, the login callback) is
// this package's, and the checks they make live once, in grants.go and
// token.go.
//
// The library still requires a whole op.Storage. opStorage implements the
// part a mounted route reaches; the rest is unreached, and refuses
// (unreached), so that no second copy of a security check exists.
type opStorage struct {
	unreached
	grants   *grants
	clients  *clients.Registry
	keys     KeySource
	loginURL func(id string) string
}

var _ op.Storage = (*opStorage)(nil)

// CreateAuthRequest stores a request op.Authorize has validated.
func (s *opStorage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	return s.grants.createAuthRequest(ctx, r, hintSubject)
}

// GetClientByClientID serves op.Authorize and end-session validation.
func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return opClient{c: c, loginURL: s.loginURL}, nil
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	kid, alg, key := s.keys.Current()
	return signingKey{kid: kid, alg: alg, key: key}, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	_, alg, _ := s.keys.Current()
	return []jose.SignatureAlgorithm{alg}, nil
}

// KeySet serves the verifiers of id_token_hint and JWT access tokens.
func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	set := s.keys.JWKS()
	keys := make([]op.Key, len(set.Keys))
	for i, k := range set.Keys {
		keys[i] = publicKey{k}
	}
	return keys, nil
}

// errUnreached answers a library path that no mounted route takes.
var errUnreached = errors.New("not served through the library")

// unreached is the part of op.Storage behind the library's own token,
// userinfo, introspection, revocation, end-session and callback handlers,
// which the provider does not mount.
type unreached struct{}

func (unreached) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnreached
}
func (unreached) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errUnreached
}
func (unreached) SaveAuthCode(context.Context, string, string) error { return errUnreached }
func (unreached) DeleteAuthRequest(context.Context, string) error    { return errUnreached }
func (unreached) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return "", time.Time{}, errUnreached
}
func (unreached) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnreached
}
func (unreached) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnreached
}
func (unreached) TerminateSession(context.Context, string, string) error { return errUnreached }
func (unreached) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrServerError().WithParent(errUnreached)
}
func (unreached) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", errUnreached
}
func (unreached) AuthorizeClientIDSecret(context.Context, string, string) error { return errUnreached }
func (unreached) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return errUnreached
}
func (unreached) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errUnreached
}
func (unreached) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnreached
}
func (unreached) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, errUnreached
}
func (unreached) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidRequest().WithDescription("request objects are not supported")
}
func (unreached) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}
func (unreached) Health(context.Context) error { return errUnreached }

type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.kid }

type publicKey struct{ k jose.JSONWebKey }

func (p publicKey) ID() string                         { return p.k.KeyID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.k.Algorithm) }
func (p publicKey) Use() string                        { return p.k.Use }
func (p publicKey) Key() any                           { return p.k.Key }

// opClient adapts a client to op.Client.
type opClient struct {
	c        waitroom.Client
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
	if o.c.AccessTokenFormat == waitroom.TokenFormatOpaque {
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

// IDTokenUserinfoClaimsAssertion: the provider mints ID tokens itself
// (idtoken.go); the library never asks.
func (o opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (o opClient) ClockSkew() time.Duration             { return 0 }
