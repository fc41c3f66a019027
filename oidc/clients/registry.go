// Package clients is the registry of the OpenID provider's relying
// parties: the clients of the configuration file (read-only) and those
// created through the admin API (kept in the backend's ClientStore), their
// secrets (kept as a keyed hash, checked in constant time), and the admin
// REST API that manages them (api.go).
package clients

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Config configures a Registry.
type Config struct {
	// Fixed are the clients of the configuration file, secrets in clear;
	// they are hashed here and cannot be changed through the API.
	Fixed []waitroom.Client
	// Store keeps the clients of the admin API.
	Store waitroom.ClientStore
	// Secret is the deployment's secret; secret hashes are keyed by a key
	// derived from it, so they are useless without it.
	Secret []byte
	// CacheTTL bounds how stale a client read from the store may be on a
	// replica that did not change it (default 5 s).
	CacheTTL time.Duration
	Clock    func() time.Time
	// Audit records the changes made through the admin API (nil: none).
	Audit waitroom.Auditor
	// Rooms finds the rooms clients name: the admin API refuses a client
	// whose room does not exist (400). The server always sets it.
	Rooms RoomLookup
}

// RoomLookup finds a room (waitroom.Service does); CodeNotFound when there
// is none.
type RoomLookup interface {
	Room(ctx context.Context, id string) (waitroom.Room, error)
}

// DefaultCacheTTL is Config.CacheTTL's default.
const DefaultCacheTTL = 5 * time.Second

// Registry answers client lookups and authenticates clients: clients of
// the configuration file first, then the store, behind a short in-process
// cache so that the hot paths (authorize, token) do not read the database
// every time.
type Registry struct {
	fixed  map[string]waitroom.Client
	store  waitroom.ClientStore
	rooms  RoomLookup
	hasher []byte
	ttl    time.Duration
	now    func() time.Time
	audit  waitroom.Auditor

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	c   waitroom.Client
	err error
	at  time.Time
}

// ErrInvalidCredentials: the client id is unknown or the secret does not
// match (the two are not told apart).
var ErrInvalidCredentials = errors.New("invalid client_id or client_secret")

// New checks the fixed clients (every problem at once) and returns the
// registry.
func New(cfg Config) (*Registry, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("clients: the deployment secret must be at least 32 bytes")
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	r := &Registry{fixed: map[string]waitroom.Client{}, store: cfg.Store, rooms: cfg.Rooms, hasher: waitroom.DeriveKey(cfg.Secret, "client-secret"),
		ttl: cfg.CacheTTL, now: cfg.Clock, audit: cfg.Audit, cache: map[string]cachedClient{}}
	var problems []string
	for _, c := range cfg.Fixed {
		if err := r.Register(c); err != nil {
			problems = append(problems, waitroom.ErrorMessage(err))
		}
	}
	return r, waitroom.Problems(problems)
}

// Register adds a read-only client (its secret in clear), as the
// configuration file does. It is not safe while the registry serves
// requests.
func (r *Registry) Register(c waitroom.Client) error {
	c = c.WithDefaults()
	return r.register(c, c.Problems())
}

// RegisterBuiltIn is Register for a client the provider serves itself (the
// demo relying party), whose redirect URIs lie under origin, the issuer's
// scheme and host: they may use plain http when the issuer does.
func (r *Registry) RegisterBuiltIn(c waitroom.Client, origin string) error {
	c = c.WithDefaults()
	return r.register(c, c.ProblemsServedAt(origin))
}

func (r *Registry) register(c waitroom.Client, problems []string) error {
	if err := waitroom.Problems(problems); err != nil {
		return waitroom.Errorf(waitroom.CodeInvalid, "client %q: %s", c.ID, waitroom.ErrorMessage(err))
	}
	if _, dup := r.fixed[c.ID]; dup {
		return waitroom.Errorf(waitroom.CodeInvalid, "client %q: defined twice", c.ID)
	}
	c.SecretHash, c.Secret, c.Source = r.hash(c.Secret), "", waitroom.SourceConfig
	r.fixed[c.ID] = c
	return nil
}

// Get returns a client (CodeNotFound if there is none).
func (r *Registry) Get(ctx context.Context, id string) (waitroom.Client, error) {
	if c, ok := r.fixed[id]; ok {
		return c, nil
	}
	if id == "" || len(id) > 128 {
		return waitroom.Client{}, waitroom.Errorf(waitroom.CodeNotFound, "unknown client")
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
		return waitroom.Client{}, err // outages are not cached
	}
	r.mu.Lock()
	if len(r.cache) > 10000 {
		clear(r.cache) // bounded: a flood of unknown ids cannot grow it
	}
	r.cache[id] = cachedClient{c: c, err: err, at: now}
	r.mu.Unlock()
	return c, err
}

// Authenticate checks a client's secret in constant time, with the same
// work for an unknown id. ErrInvalidCredentials when either is wrong.
func (r *Registry) Authenticate(ctx context.Context, id, secret string) (waitroom.Client, error) {
	c, err := r.Get(ctx, id)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		r.matches("", secret)
		return waitroom.Client{}, ErrInvalidCredentials
	}
	if err != nil {
		return waitroom.Client{}, err
	}
	if !r.matches(c.SecretHash, secret) {
		return waitroom.Client{}, ErrInvalidCredentials
	}
	return c, nil
}

// checkRoom refuses a client naming a room that does not exist: its logins
// would fail only when a visitor arrives.
func (r *Registry) checkRoom(ctx context.Context, room string) error {
	if r.rooms == nil {
		return nil
	}
	_, err := r.rooms.Room(ctx, room)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return waitroom.Errorf(waitroom.CodeInvalid, "room: there is no room %q; create it first (POST /v1/rooms)", room)
	}
	return err
}

// forget drops a cached client after an admin change on this replica.
func (r *Registry) forget(id string) {
	r.mu.Lock()
	delete(r.cache, id)
	r.mu.Unlock()
}

// fixedClient reports whether id is a client of the configuration file.
func (r *Registry) fixedClient(id string) bool {
	_, ok := r.fixed[id]
	return ok
}

const secretHashPrefix = "hmac-sha256:"

// hash is a keyed hash of a secret: fast enough for every token request
// (unlike bcrypt) and useless to whoever reads the store without the
// deployment secret.
func (r *Registry) hash(secret string) string {
	m := hmac.New(sha256.New, r.hasher)
	m.Write([]byte(secret))
	m.Write([]byte{0})
	return secretHashPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (r *Registry) matches(hash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(r.hash(secret)), []byte(hash)) == 1
}

// newSecret makes a client secret: 32 random bytes, base64url.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("clients: no randomness: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
