package httpapi

import (
	"context"
	"crypto"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Service is the part of *waitroom.Service the HTTP APIs use. Declaring it
// here keeps the handlers testable against any implementation and documents
// exactly what the transport depends on.
type Service interface {
	CreateRoom(ctx context.Context, r waitroom.Room) (waitroom.Room, error)
	Room(ctx context.Context, id string) (waitroom.Room, error)
	Rooms(ctx context.Context) ([]waitroom.Room, error)
	UpdateRoom(ctx context.Context, id string, fn func(*waitroom.Room) error) (waitroom.Room, error)
	DeleteRoom(ctx context.Context, id string) error

	Enqueue(ctx context.Context, room, key string) (waitroom.Ticket, error)
	Ticket(ctx context.Context, room, id string) (waitroom.Ticket, error)
	Progress(ctx context.Context, room string) (waitroom.Counters, error)
	Counters(ctx context.Context, room string) (waitroom.Counters, error)
	AdvanceServing(ctx context.Context, room string, by int64) (int64, error)
	SetServing(ctx context.Context, room string, v int64) (int64, error)

	IssueToken(ctx context.Context, room, id, issuer string, validity time.Duration) (waitroom.Tokens, error)
	QueuePositionExpiry(ctx context.Context, room, id string) (time.Duration, error)
	UpdateSession(ctx context.Context, room, id string, status waitroom.SessionStatus) error
	ActiveTokens(ctx context.Context, room string) (int64, error)
	ExpiredTokens(ctx context.Context, room, cursor string, limit int) ([]string, string, error)
	Reset(ctx context.Context, room string) error
}

// KeySet is the part of *waitroom.Keys /public_key needs.
type KeySet interface {
	Current() (kid string, alg jose.SignatureAlgorithm, key crypto.Signer)
	PublicJWK(kid string) (jose.JSONWebKey, bool)
}
