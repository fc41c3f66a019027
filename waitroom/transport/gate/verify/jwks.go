package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// JWKS is a KeySet fetched over HTTP and cached. A token that names a key
// not in the cache triggers a fetch (waitroom signs with a new key after a
// rotation and publishes it before using it), but at most one per
// MinRefresh, so forged key ids cannot make the site hammer waitroom. Keys
// are also re-read after MaxAge; if that fetch fails the known keys stay in
// use.
type JWKS struct {
	URL    string
	Client *http.Client
	// MinRefresh is the shortest time between two fetches (10s when zero).
	MinRefresh time.Duration
	// MaxAge is how long fetched keys are used before a new fetch (1h when
	// zero).
	MaxAge time.Duration
	Clock  func() time.Time

	mu      sync.RWMutex
	keys    map[string]crypto.PublicKey
	fetched time.Time // of the keys
	tried   time.Time // the last fetch, successful or not
	fetch   sync.Mutex
}

// NewJWKS returns the key set at url (waitroom's <issuer>/keys), fetched
// with client (a client with a 10s timeout when nil).
func NewJWKS(url string, client *http.Client) *JWKS {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &JWKS{URL: url, Client: client}
}

const (
	defaultMinRefresh = 10 * time.Second
	defaultMaxAge     = time.Hour
	maxJWKSBytes      = 1 << 20
)

// Key returns the public key named kid.
func (j *JWKS) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	now := j.now()
	key, fresh := j.lookup(kid, now)
	if key != nil && fresh {
		return key, nil
	}
	err := j.refresh(ctx, now)
	if again, _ := j.lookup(kid, now); again != nil {
		return again, nil
	}
	switch {
	case err != nil && key != nil:
		return key, nil // stale, and the fetch failed: keep verifying
	case err != nil:
		return nil, err
	}
	return nil, ErrUnknownKey
}

func (j *JWKS) lookup(kid string, now time.Time) (crypto.PublicKey, bool) {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.keys[kid], now.Sub(j.fetched) < or(j.MaxAge, defaultMaxAge)
}

// refresh fetches the keys unless another fetch happened within
// MinRefresh; concurrent callers wait for one fetch.
func (j *JWKS) refresh(ctx context.Context, now time.Time) error {
	j.fetch.Lock()
	defer j.fetch.Unlock()
	j.mu.RLock()
	recent := !j.tried.IsZero() && now.Sub(j.tried) < or(j.MinRefresh, defaultMinRefresh)
	j.mu.RUnlock()
	if recent {
		return nil
	}
	keys, err := j.download(ctx)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.tried = now
	if err != nil {
		return err
	}
	j.keys, j.fetched = keys, now
	return nil
}

func (j *JWKS) download(ctx context.Context) (map[string]crypto.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: jwks url: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := j.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify: fetching jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: fetching jwks: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("verify: reading jwks: %w", err)
	}
	return ParseJWKS(body)
}

// ParseJWKS reads a JSON Web Key Set; keys that are not EC P-256 or RSA
// signing keys are skipped.
func ParseJWKS(body []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("verify: jwks: %w", err)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if pub, err := k.publicKey(); err == nil && k.Kid != "" && (k.Use == "" || k.Use == "sig") {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}

type jwk struct {
	Kty, Kid, Use, Crv string
	X, Y, N, E         string
}

func (k jwk) publicKey() (crypto.PublicKey, error) {
	switch k.Kty {
	case "EC":
		if k.Crv != "P-256" {
			return nil, errors.New("unsupported curve")
		}
		x, errX := fixed(k.X, 32)
		y, errY := fixed(k.Y, 32)
		if errX != nil || errY != nil {
			return nil, errors.New("bad EC point")
		}
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	case "RSA":
		n, errN := base64.RawURLEncoding.DecodeString(k.N)
		e, errE := base64.RawURLEncoding.DecodeString(k.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 || len(n) < 256 {
			return nil, errors.New("bad RSA key")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	}
	return nil, errors.New("unsupported key type")
}

// fixed decodes a base64url coordinate, left-padded to size bytes.
func fixed(s string, size int) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > size {
		return nil, errors.New("bad coordinate")
	}
	return append(make([]byte, size-len(b)), b...), nil
}

func (j *JWKS) now() time.Time {
	if j.Clock != nil {
		return j.Clock()
	}
	return time.Now()
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
