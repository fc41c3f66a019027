package waitroom

import (
	"context"
	"time"
)

// ClientStore keeps OpenID clients created through the admin API (clients
// of the configuration file are never stored).
type ClientStore interface {
	// CreateClient stores a new client; CodeConflict if the id is taken.
	// Secret is never stored: SecretHash is.
	CreateClient(ctx context.Context, c Client) error
	// Client returns one client (SecretHash set, Secret empty).
	Client(ctx context.Context, id string) (Client, error)
	// Clients returns every client, ordered by id.
	Clients(ctx context.Context) ([]Client, error)
	// UpdateClient applies fn to the stored client atomically (read,
	// modify, write: concurrent updates are never lost); an error from fn
	// aborts the update and is returned as is.
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) (Client, error)
	// DeleteClient removes a client; CodeNotFound if there is none.
	DeleteClient(ctx context.Context, id string) error
}

// RefreshToken is the stored form of an OpenID refresh token. The token
// itself is never stored: ID is a keyed hash of it.
type RefreshToken struct {
	ID       string `json:"id"`
	GrantID  string `json:"grant_id"`
	ClientID string `json:"client_id"`
	// Grant is what the token re-issues tokens for (subject, room,
	// admission, scopes), opaque to the store.
	Grant     []byte    `json:"grant"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// UsedAt is when the token was rotated (TakeRefreshToken); zero while
	// it is live.
	UsedAt time.Time `json:"used_at,omitzero"`
}

// ErrRefreshReused is the CodeConflict of a refresh token presented
// after its rotation: a sign that it leaked, so the caller revokes the
// token's whole grant (RFC 9700 §4.14.2).
func ErrRefreshReused() error { return Errorf(CodeConflict, "refresh token already used") }

// RefreshStore keeps refresh tokens. A rotated token stays, marked used,
// until it expires, so that its reuse is told apart from an unknown token.
type RefreshStore interface {
	// CreateRefreshToken stores a new token.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RefreshToken returns a live (unexpired, unused, unrevoked) token. A
	// used, unexpired token is returned with ErrRefreshReused (CodeConflict,
	// its GrantID names the grant to revoke); CodeNotFound otherwise.
	RefreshToken(ctx context.Context, id string, now time.Time) (RefreshToken, error)
	// TakeRefreshToken marks a live token used at now and returns it (with
	// UsedAt set) in one atomic step (rotation): of N concurrent calls exactly one succeeds,
	// the others, and any later call before the token expires, get the
	// token with ErrRefreshReused; an unknown, expired or revoked token is
	// CodeNotFound.
	TakeRefreshToken(ctx context.Context, id string, now time.Time) (RefreshToken, error)
	// RevokeGrant removes every token of a grant, used ones included.
	// Revoking an unknown grant is not an error.
	RevokeGrant(ctx context.Context, grantID string) error
	// DeleteExpiredRefreshTokens removes tokens that expired before now and
	// returns how many.
	DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error)
}
