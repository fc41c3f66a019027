package oidc

import (
	"context"
	"crypto"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Queue is the part of the queue core the provider uses. *waitroom.Service
// implements it through ServiceQueue.
type Queue interface {
	Room(ctx context.Context, id string) (waitroom.Room, error)
	Enqueue(ctx context.Context, room, key string) (waitroom.Ticket, error)
	Serving(ctx context.Context, room string) (int64, error)
	// Admit records the admission of a ticket (the room's token record:
	// tokens counter, active sessions) and returns it; a repeat call
	// returns the same record. CodeNotServed, CodeExpired and
	// CodeSessionClosed say why a ticket cannot be admitted.
	Admit(ctx context.Context, room, id, issuer string) (waitroom.TokenRecord, error)
	UpdateSession(ctx context.Context, room, id string, status waitroom.SessionStatus) error
}

// KeySource gives the signing keys (waitroom.Keys implements it).
type KeySource interface {
	Current() (kid string, alg jose.SignatureAlgorithm, key crypto.Signer)
	JWKS() jose.JSONWebKeySet
}

// ServiceQueue adapts *waitroom.Service to Queue.
type ServiceQueue struct{ *waitroom.Service }

// Admit records the admission through IssueToken (the same record the AWS
// API's generate_token returns), which counts the token once however often
// it is called.
func (q ServiceQueue) Admit(ctx context.Context, room, id, issuer string) (waitroom.TokenRecord, error) {
	t, err := q.IssueToken(ctx, room, id, issuer, 0)
	return t.Record, err
}
