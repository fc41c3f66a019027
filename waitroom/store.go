package waitroom

import (
	"context"
	"time"
)

// Backend is one opened storage backend: every store the deployment needs,
// opened together and closed together (Store.Close closes them all). The
// embedded backend (waitroom/backend/embedded) and the production one
// (waitroom/backend/redispg) each return one from their Open; the server
// picks which from its configuration in one place.
//
// Every method of every store takes the caller's context and returns *Error
// values (errors.go): CodeNotFound for an unknown record, CodeConflict for
// a taken id, CodeUnavailable when a backing service does not answer,
// CodeCanceled when the caller gave up; never a driver type.
//
// The conformance suite in waitroom/backend/storetest is the executable
// form of these contracts; every backend runs all of it.
type Backend struct {
	// Name says which backend this is, for logs and the start-up banner.
	Name string
	// Store keeps rooms, tickets, counters, token records and signing keys.
	Store Store
	// Ephemeral keeps short-lived values: OpenID auth requests, codes and
	// grants, rate-limit windows.
	Ephemeral Ephemeral
	// Clients keeps the OpenID clients registered through the admin API.
	Clients ClientStore
	// Refresh keeps OpenID refresh tokens.
	Refresh RefreshStore
	// Outbox keeps webhook deliveries until they are delivered.
	Outbox Outbox
	// Prequeue keeps the pre-queues of scheduled rooms.
	Prequeue PrequeueStore
	// Lease returns the leader lease called name; every call with the same
	// name, on any replica sharing the backend, names the same lease.
	Lease func(name string) Lease
	// Audit keeps the trail of changes made by operators.
	Audit AuditStore
}

// Store is what the queue core needs to keep rooms, tickets and tokens.
type Store interface {
	RoomStore
	QueueStore
	TokenStore
	KeyStore
	// DeploymentSecret returns the deployment's secret (32 random bytes),
	// creating it on the first call; every replica sharing the backend gets
	// the same bytes. It signs cookies and encrypts codes when the
	// configuration gives no secret key.
	DeploymentSecret(ctx context.Context) ([]byte, error)
	// Ping reports whether the backing services answer (for /readyz).
	Ping(ctx context.Context) error
	// Close releases connections and flushes buffers (group commit).
	Close() error
}

// RoomStore keeps room settings.
type RoomStore interface {
	// CreateRoom stores a new room and its zeroed counters. CodeConflict if
	// the id is taken.
	CreateRoom(ctx context.Context, room Room) error
	// Room returns one room.
	Room(ctx context.Context, id string) (Room, error)
	// Rooms returns every room, ordered by id.
	Rooms(ctx context.Context) ([]Room, error)
	// UpdateRoom applies fn to the stored room atomically (read, modify,
	// write); an error from fn aborts the update and is returned as is.
	UpdateRoom(ctx context.Context, id string, fn func(*Room) error) (Room, error)
	// DeleteRoom removes a room with its tickets, tokens, history and
	// counters.
	DeleteRoom(ctx context.Context, id string) error
}

// QueueStore keeps tickets, counters and the serving history of each room.
//
// Generations: Reset starts a new generation of a room. Tickets, tokens and
// history rows of earlier generations stop counting and are answered as
// CodeNotFound; they may be deleted lazily, never by dropping a table.
type QueueStore interface {
	// Enqueue assigns the next position of the room (1, 2, 3, ... per
	// generation, strictly increasing, unique across every process sharing
	// the backend) and stores the ticket durably before it returns. A
	// non-empty t.Key that already names a ticket of the current generation
	// returns that ticket and created=false, without consuming a position.
	// A failed Enqueue leaves no ticket and no position another Enqueue
	// could collide with.
	Enqueue(ctx context.Context, room string, t NewTicket) (ticket Ticket, created bool, err error)
	// Ticket returns a ticket of the room's current generation.
	Ticket(ctx context.Context, room, id string) (Ticket, error)
	// LookupTicket is Ticket for reads that may lag behind a write by a
	// moment (a visitor polling their position): a backend may answer
	// from a read replica. A ticket the replica does not hold yet is
	// looked up where it was written, so a ticket just created is always
	// found; after a reset, a lagging replica may show the previous
	// generation's ticket for the length of its lag. Never for admission.
	LookupTicket(ctx context.Context, room, id string) (Ticket, error)
	// Counters returns the room's counters. If the fast copy of the counters
	// was lost (Redis restarted empty), it is rebuilt from durable state
	// first.
	Counters(ctx context.Context, room string) (Counters, error)
	// AdvanceServing adds by (which may be negative, or as large as an
	// int64 allows) to the serving counter, clamped at 0, records the new
	// value in the serving history at time at and returns it. A sum above
	// MaxServing is refused (CodeInvalid) and changes nothing.
	AdvanceServing(ctx context.Context, room string, by int64, at time.Time) (int64, error)
	// SetServing sets the serving counter (0 to MaxServing, else
	// CodeInvalid), records it in the history and returns it.
	SetServing(ctx context.Context, room string, value int64, at time.Time) (int64, error)
	// ServingRecordAtOrAbove returns the history row with the smallest
	// serving value >= position in the current generation; found=false if
	// there is none.
	ServingRecordAtOrAbove(ctx context.Context, room string, position int64) (rec ServingRecord, found bool, err error)
	// EntryTimeAt returns the entry time of the ticket holding position in
	// the room's current generation; found=false when no ticket holds it
	// (not assigned yet). The expiry job asks it, a few times per pass, which
	// positions entered at least one expiry period ago; it must not scan.
	EntryTimeAt(ctx context.Context, room string, position int64) (entry time.Time, found bool, err error)
	// ServingHistory returns up to limit history rows of the current
	// generation with serving value > above, in increasing serving order.
	// When several rows share a serving value only the earliest is returned.
	// Served is left 0: the expiry job fills it from CountTokens.
	ServingHistory(ctx context.Context, room string, above int64, limit int) ([]ServingRecord, error)
	// MarkExpired records an expiry-job step atomically: it raises
	// MaxExpired to maxExpired, adds expired to the expired counter and
	// advance to the serving counter (recording the new serving value in
	// the history at time at when advance > 0). It only applies if the
	// current generation is gen and MaxExpired < maxExpired; otherwise it
	// does nothing and returns applied=false (another process did the step).
	MarkExpired(ctx context.Context, room string, gen, maxExpired, expired, advance int64, at time.Time) (applied bool, err error)
	// Reset starts a new generation: every counter goes to 0, earlier
	// tickets, tokens and history stop counting. Atomic from a caller's
	// view: a concurrent Enqueue lands either wholly before (and is then
	// forgotten) or wholly after (position 1, 2, ...).
	Reset(ctx context.Context, room string) error
}

// TokenStore keeps token records (the admission of a ticket) and their
// session status.
type TokenStore interface {
	// CreateToken stores rec unless the request already has a token in the
	// current generation; it returns the stored record and whether this
	// call created it. On creation, and only then, the tokens counter goes
	// up by one: N concurrent calls create exactly one record.
	// rec.Generation must be the generation of the ticket; if the room was
	// reset since, CodeNotFound.
	CreateToken(ctx context.Context, rec TokenRecord) (stored TokenRecord, created bool, err error)
	// Token returns the token record of a request in the current generation.
	Token(ctx context.Context, room, requestID string) (TokenRecord, error)
	// UpdateSession moves a token's session status from SessionActive to
	// status (SessionCompleted or SessionAbandoned) and bumps the completed
	// or abandoned counter. CodeNotFound if there is no token or its status
	// is already set.
	UpdateSession(ctx context.Context, room, requestID string, status SessionStatus) error
	// ActiveTokens counts tokens with status SessionActive that expire after
	// now, in O(log n) or better: never by scanning the tokens.
	ActiveTokens(ctx context.Context, room string, now time.Time) (int64, error)
	// ExpiredTokens pages through request ids whose token expired at or
	// before now, ordered by (expiry, request id). cursor is "" for the first
	// page or the next value a previous call returned; next is "" after the
	// last page.
	ExpiredTokens(ctx context.Context, room string, now time.Time, cursor string, limit int) (ids []string, next string, err error)
	// CountTokens counts tokens of the current generation whose position is
	// in (lo, hi]. Used by the expiry job only, never per request.
	CountTokens(ctx context.Context, room string, lo, hi int64) (int64, error)
}

// SigningKey is a stored signing key. Private is the PKCS#8 DER encoding.
type SigningKey struct {
	ID        string    `json:"kid"`
	Algorithm string    `json:"alg"`
	Private   []byte    `json:"private"`
	CreatedAt time.Time `json:"created_at"`
	// SignsFrom is when the key may start signing; it is published in the
	// JWKS from CreatedAt so verifiers know it before it signs.
	SignsFrom time.Time `json:"signs_from"`
	// RetiredAt is when a newer key took over signing (zero while current).
	RetiredAt time.Time `json:"retired_at"`
}

// KeyStore keeps the signing keys.
type KeyStore interface {
	// SigningKeys returns every stored key, oldest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a new key; CodeConflict if the id exists.
	AddSigningKey(ctx context.Context, key SigningKey) error
	// RetireSigningKey sets RetiredAt on a key.
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	// DeleteSigningKey removes a key no longer needed to verify anything.
	DeleteSigningKey(ctx context.Context, id string) error
}

// Ephemeral keeps short-lived values with a time to live: OIDC auth requests
// and codes, rate-limit windows, leases. Redis in production.
type Ephemeral interface {
	// Put stores value under key for ttl, replacing any value.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutIfAbsent stores value only if key has no live value.
	PutIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Get returns the live value of key, CodeNotFound if none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take returns the live value of key and deletes it in one atomic step:
	// of N concurrent Takes of one key, exactly one gets the value, the
	// others CodeNotFound.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds one to the counter at key and returns the new value; a new
	// counter lives for ttl (the ttl is not extended by later calls).
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Allow takes one unit from the token bucket at key, which holds up to
	// limit units and refills continuously at limit per window (so no
	// window edge lets a burst of twice the limit through). It reports
	// whether a unit was there, and if not how long until one is. One
	// atomic step on the store's own clock: every replica sharing the
	// store draws from the same bucket.
	Allow(ctx context.Context, key string, limit int64, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}
