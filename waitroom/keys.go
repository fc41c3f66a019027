package waitroom

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"sort"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key defaults.
const (
	// DefaultPublishAhead is how long a new key sits in the JWKS before it
	// signs, so that every replica and every verifier's cached JWKS knows it
	// first.
	DefaultPublishAhead = 10 * time.Minute
	// DefaultKeepFor is how long a retired key stays in the JWKS: longer
	// than the longest token lifetime a room may configure.
	DefaultKeepFor = 31*24*time.Hour + time.Hour
)

// KeyOptions configures the signing keys.
type KeyOptions struct {
	// Algorithm of new keys: "RS256" (default, RSA 2048) or "ES256".
	Algorithm string
	// RotateEvery is the age at which RotateIfDue rotates; 0 never.
	RotateEvery time.Duration
	// KeepFor keeps a retired key in the JWKS; at least the longest token
	// lifetime. Default DefaultKeepFor.
	KeepFor time.Duration
	// PublishAhead delays signing with a rotated-in key. Default
	// DefaultPublishAhead.
	PublishAhead time.Duration
	Clock        func() time.Time
}

func (o KeyOptions) withDefaults() (KeyOptions, error) {
	if o.Algorithm == "" {
		o.Algorithm = string(jose.RS256)
	}
	if o.Algorithm != string(jose.RS256) && o.Algorithm != string(jose.ES256) {
		return o, Errorf(CodeInvalid, "signing algorithm %q: want RS256 or ES256", o.Algorithm)
	}
	if o.KeepFor <= 0 {
		o.KeepFor = DefaultKeepFor
	}
	if o.PublishAhead <= 0 {
		o.PublishAhead = DefaultPublishAhead
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o, nil
}

// signingKey is a parsed SigningKey.
type signingKey struct {
	SigningKey
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
	// header is the encoded protected header of its tokens and the dot.
	header string
}

// Keys holds the signing keys of the deployment. Keys are shared by every
// replica through the KeyStore; call Reload periodically (well within
// PublishAhead) so that a replica learns about keys another one rotated in.
type Keys struct {
	store KeyStore
	opts  KeyOptions

	mu   sync.RWMutex
	keys []signingKey // oldest first
}

// LoadKeys loads the stored keys, generating the first one if there is none.
// If the newest key's algorithm is not opts.Algorithm, it rotates so that a
// configuration change takes effect after the publish delay.
func LoadKeys(ctx context.Context, ks KeyStore, opts KeyOptions) (*Keys, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	k := &Keys{store: ks, opts: opts}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	if len(k.snapshot()) == 0 {
		if err := k.addKey(ctx, k.now()); err != nil {
			return nil, err
		}
		return k, k.Reload(ctx)
	}
	if newest := k.snapshot()[len(k.snapshot())-1]; newest.Algorithm != opts.Algorithm {
		return k, k.Rotate(ctx)
	}
	return k, nil
}

func (k *Keys) now() time.Time { return k.opts.Clock() }

func (k *Keys) snapshot() []signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys
}

// Reload reads the keys from the KeyStore again.
func (k *Keys) Reload(ctx context.Context) error {
	stored, err := k.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	parsed := make([]signingKey, 0, len(stored))
	for _, sk := range stored {
		p, err := parseSigningKey(sk)
		if err != nil {
			return err
		}
		parsed = append(parsed, p)
	}
	sort.SliceStable(parsed, func(i, j int) bool { return parsed[i].CreatedAt.Before(parsed[j].CreatedAt) })
	k.mu.Lock()
	k.keys = parsed
	k.mu.Unlock()
	return nil
}

func parseSigningKey(sk SigningKey) (signingKey, error) {
	priv, err := x509.ParsePKCS8PrivateKey(sk.Private)
	if err != nil {
		return signingKey{}, Wrap(CodeInternal, err, "signing key "+sk.ID+" is not readable")
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return signingKey{}, Errorf(CodeInternal, "signing key %s is not a signer", sk.ID)
	}
	header, err := encodedHeader(sk)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{SigningKey: sk, alg: jose.SignatureAlgorithm(sk.Algorithm), signer: signer, header: header}, nil
}

// addKey generates a key of the configured algorithm that signs from
// signsFrom and stores it.
func (k *Keys) addKey(ctx context.Context, signsFrom time.Time) error {
	sk, err := generateSigningKey(k.opts.Algorithm, k.now(), signsFrom)
	if err != nil {
		return err
	}
	return k.store.AddSigningKey(ctx, sk)
}

func generateSigningKey(alg string, now, signsFrom time.Time) (SigningKey, error) {
	priv, err := generatePrivateKey(alg)
	if err != nil {
		return SigningKey{}, Wrap(CodeInternal, err, "cannot generate a signing key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, Wrap(CodeInternal, err, "cannot encode a signing key")
	}
	return SigningKey{ID: newKeyID(), Algorithm: alg, Private: der, CreatedAt: now, SignsFrom: signsFrom}, nil
}

func generatePrivateKey(alg string) (crypto.Signer, error) {
	if alg == string(jose.ES256) {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

// newKeyID returns 32 hex characters.
func newKeyID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// current returns the key that signs now: the newest whose SignsFrom has
// passed.
func (k *Keys) current() (signingKey, bool) {
	now := k.now()
	keys := k.snapshot()
	for i := len(keys) - 1; i >= 0; i-- {
		if !keys[i].SignsFrom.After(now) {
			return keys[i], true
		}
	}
	return signingKey{}, false
}

// Current returns the key that signs new tokens now.
func (k *Keys) Current() (kid string, alg jose.SignatureAlgorithm, key crypto.Signer) {
	cur, ok := k.current()
	if !ok {
		return "", "", nil
	}
	return cur.ID, cur.alg, cur.signer
}

func (k *Keys) byID(kid string) (signingKey, bool) {
	for _, sk := range k.snapshot() {
		if sk.ID == kid {
			return sk, true
		}
	}
	return signingKey{}, false
}

// Signer returns a go-jose signer for key kid that signs deterministically
// (see deterministicSigner); ok=false if the key is unknown.
func (k *Keys) Signer(kid string) (jose.OpaqueSigner, bool) {
	sk, ok := k.byID(kid)
	if !ok {
		return nil, false
	}
	return newDeterministicSigner(&sk), true
}

// needed reports whether a key still belongs in the JWKS.
func (k *Keys) needed(sk signingKey, now time.Time) bool {
	return sk.RetiredAt.IsZero() || now.Before(sk.RetiredAt.Add(k.opts.KeepFor))
}

// JWKS returns the public half of every key still needed: keys about to
// sign, the current key and retired keys within KeepFor.
func (k *Keys) JWKS() jose.JSONWebKeySet {
	now := k.now()
	var set jose.JSONWebKeySet
	for _, sk := range k.snapshot() {
		if k.needed(sk, now) {
			set.Keys = append(set.Keys, publicJWK(sk))
		}
	}
	return set
}

// PublicJWK returns the public key kid if it is still in the JWKS.
func (k *Keys) PublicJWK(kid string) (jose.JSONWebKey, bool) {
	sk, ok := k.byID(kid)
	if !ok || !k.needed(sk, k.now()) {
		return jose.JSONWebKey{}, false
	}
	return publicJWK(sk), true
}

func publicJWK(sk signingKey) jose.JSONWebKey {
	return jose.JSONWebKey{Key: sk.signer.Public(), KeyID: sk.ID, Algorithm: sk.Algorithm, Use: "sig"}
}

// Rotate adds a key that is published now and signs after PublishAhead,
// retires the current key as of that moment, and deletes keys retired longer
// than KeepFor ago. With no key at all, the new key signs at once.
func (k *Keys) Rotate(ctx context.Context) error {
	if err := k.Reload(ctx); err != nil {
		return err
	}
	now := k.now()
	signsFrom := now.Add(k.opts.PublishAhead)
	if _, ok := k.current(); !ok {
		signsFrom = now // nothing signs yet: a delay would only stop signing
	}
	if err := k.addKey(ctx, signsFrom); err != nil {
		return err
	}
	if err := k.retirePrevious(ctx, signsFrom); err != nil {
		return err
	}
	if err := k.deleteExpired(ctx, now); err != nil {
		return err
	}
	return k.Reload(ctx)
}

// retirePrevious retires every loaded key not retired yet: they all stop
// signing when the key just added starts. The loaded snapshot predates that
// key, so it is not among them.
func (k *Keys) retirePrevious(ctx context.Context, at time.Time) error {
	for _, sk := range k.snapshot() {
		if sk.RetiredAt.IsZero() {
			if err := k.store.RetireSigningKey(ctx, sk.ID, at); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k *Keys) deleteExpired(ctx context.Context, now time.Time) error {
	for _, sk := range k.snapshot() {
		if !k.needed(sk, now) {
			if err := k.store.DeleteSigningKey(ctx, sk.ID); err != nil && ErrorCode(err) != CodeNotFound {
				return err
			}
		}
	}
	return nil
}

// RotateIfDue rotates when the newest key is older than RotateEvery, and
// otherwise only prunes keys retired longer than KeepFor ago.
func (k *Keys) RotateIfDue(ctx context.Context) (rotated bool, err error) {
	if err := k.Reload(ctx); err != nil {
		return false, err
	}
	keys := k.snapshot()
	now := k.now()
	due := k.opts.RotateEvery > 0 && (len(keys) == 0 || !now.Before(keys[len(keys)-1].CreatedAt.Add(k.opts.RotateEvery)))
	if due {
		return true, k.Rotate(ctx)
	}
	if err := k.deleteExpired(ctx, now); err != nil {
		return false, err
	}
	return false, k.Reload(ctx)
}
