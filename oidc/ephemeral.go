package oidc

import (
	"context"
	"encoding/json"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Keys of the short-lived values the provider keeps in waitroom.Ephemeral
// (Redis in production). Every key starts with "oidc:".
const (
	keyAuthRequest = "oidc:ar:"     // + auth request id
	keyCode        = "oidc:code:"   // + code hash: the admitted auth request, 60 s
	keyClosed      = "oidc:closed:" // + room + ":" + ticket id: session ended
	keyGrant       = "oidc:grant:"  // + grant id: the grant (its tokens live while it is there, its code's hash spots a replay) or its tombstone
)

// Lifetimes of the ephemeral values.
const (
	codeTTL        = 60 * time.Second
	grantMarkerTTL = 25 * time.Hour // a revoked grant's tombstone: longer than any access token
	// closedTTL outlives the ticket cookie, so a browser whose session was
	// ended elsewhere (revocation) queues again rather than reusing it.
	closedTTL = ticketCookieTTL + time.Hour
)

// ephemeralJSON stores JSON values in a waitroom.Ephemeral.
type ephemeralJSON struct{ eph waitroom.Ephemeral }

func (e ephemeralJSON) put(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "encode")
	}
	return e.eph.Put(ctx, key, b, ttl)
}

func (e ephemeralJSON) get(ctx context.Context, key string, v any) error {
	b, err := e.eph.Get(ctx, key)
	if err != nil {
		return err
	}
	return decodeStored(b, v)
}

// take reads and deletes key in one atomic step.
func (e ephemeralJSON) take(ctx context.Context, key string, v any) error {
	b, err := e.eph.Take(ctx, key)
	if err != nil {
		return err
	}
	return decodeStored(b, v)
}

func (e ephemeralJSON) exists(ctx context.Context, key string) (bool, error) {
	_, err := e.eph.Get(ctx, key)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return false, nil
	}
	return err == nil, err
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, waitroom.Wrap(waitroom.CodeInternal, err, "encode")
	}
	return b, nil
}

func decodeStored(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "decode stored value")
	}
	return nil
}
