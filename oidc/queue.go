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
	// Progress returns the room's counters, possibly a moment old (the
	// polls' shared copy): serving decides admission, queue feeds the
	// page's wait estimate.
	Progress(ctx context.Context, room string) (waitroom.Counters, error)
	// Admit records the admission of a ticket (the room's token record:
	// tokens counter, active sessions) and returns it; a repeat call
	// returns the same record. CodeNotServed, CodeExpired and
	// CodeSessionClosed say why a ticket cannot be admitted.
	Admit(ctx context.Context, room, id, issuer string) (waitroom.TokenRecord, error)
	// AdmitTicket is Admit for a ticket Enqueue returned in the same
	// request, which is then not read back from the store.
	AdmitTicket(ctx context.Context, room string, t waitroom.Ticket, issuer string) (waitroom.TokenRecord, error)
	UpdateSession(ctx context.Context, room, id string, status waitroom.SessionStatus) error
}

// KeySource gives the signing keys (waitroom.Keys implements it).
type KeySource interface {
	Current() (kid string, alg jose.SignatureAlgorithm, key crypto.Signer)
	JWKS() jose.JSONWebKeySet
}

// ServiceQueue adapts *waitroom.Service to Queue. The Service's own
// Admit records the admission without signing the AWS API's three tokens,
// which the OpenID flow would throw away.
type ServiceQueue struct{ *waitroom.Service }
