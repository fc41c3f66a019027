package storetest

import (
	"bytes"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func keyTests() []testCase {
	return []testCase{
		{"KeyStoreRoundTrip", true, testKeyStoreRoundTrip},
		{"KeysGeneratedOnceAndReloaded", true, testKeysReloaded},
		{"KeysRotation", true, testKeysRotation},
		{"DeploymentSecretSharedAndStable", true, testDeploymentSecret},
	}
}

// testDeploymentSecret: concurrent first calls, on every replica, agree on
// one 32-byte secret.
func testDeploymentSecret(t *testing.T, b Backend) {
	inst := b.Open(t)
	stores := []waitroom.Store{inst.Store, inst.Store}
	if inst.Another != nil {
		stores[1] = inst.Another(t).Store
	}
	secrets := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Go(func() {
			s, err := stores[i%2].DeploymentSecret(t.Context())
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
		})
	}
	wg.Wait()
	for _, s := range secrets {
		if len(s) != 32 || string(s) != string(secrets[0]) {
			t.Fatalf("secrets differ or are short: %x vs %x", s, secrets[0])
		}
	}
}

func testKeyStoreRoundTrip(t *testing.T, b Backend) {
	e := &env{t: t, ctx: t.Context(), clock: NewClock()}
	ks := b.Open(t).Store
	now := e.clock.Now()
	k1 := waitroom.SigningKey{ID: "k1", Algorithm: "ES256", Private: []byte{1, 2, 3}, CreatedAt: now, SignsFrom: now}
	k2 := waitroom.SigningKey{ID: "k2", Algorithm: "RS256", Private: []byte{4, 5}, CreatedAt: now.Add(time.Second), SignsFrom: now.Add(time.Hour)}
	noErr(t, ks.AddSigningKey(e.ctx, k1))
	noErr(t, ks.AddSigningKey(e.ctx, k2))
	wantCode(t, ks.AddSigningKey(e.ctx, k1), waitroom.CodeConflict)
	noErr(t, ks.RetireSigningKey(e.ctx, "k1", now.Add(time.Minute)))
	keys, err := ks.SigningKeys(e.ctx)
	noErr(t, err)
	if len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != "k2" {
		t.Fatalf("SigningKeys = %+v, want k1 then k2", keys)
	}
	got := keys[0]
	if got.Algorithm != "ES256" || !bytes.Equal(got.Private, k1.Private) || !got.CreatedAt.Equal(now) ||
		!got.SignsFrom.Equal(now) || !got.RetiredAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("k1 read back as %+v", got)
	}
	if !keys[1].RetiredAt.IsZero() || !keys[1].SignsFrom.Equal(k2.SignsFrom) {
		t.Fatalf("k2 read back as %+v", keys[1])
	}
	noErr(t, ks.DeleteSigningKey(e.ctx, "k1"))
	keys, err = ks.SigningKeys(e.ctx)
	noErr(t, err)
	if len(keys) != 1 || keys[0].ID != "k2" {
		t.Fatalf("after delete: %+v", keys)
	}
}

var kidPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func testKeysReloaded(t *testing.T, b Backend) {
	e := newEnv(t, b)
	kid, alg, signer := e.keys.Current()
	if !kidPattern.MatchString(kid) || alg != "ES256" || signer == nil {
		t.Fatalf("Current = %q %s %v", kid, alg, signer)
	}
	restarted, err := waitroom.LoadKeys(e.ctx, e.anotherStore(t), waitroom.KeyOptions{Algorithm: "ES256", Clock: e.clock.Now})
	noErr(t, err)
	if again, _, _ := restarted.Current(); again != kid {
		t.Fatalf("a restart signs with %s, want the stored key %s", again, kid)
	}
	jwks := restarted.JWKS()
	if len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != kid || jwks.Keys[0].Use != "sig" || jwks.Keys[0].Algorithm != "ES256" || !jwks.Keys[0].IsPublic() {
		t.Fatalf("JWKS = %+v", jwks)
	}
}

func testKeysRotation(t *testing.T, b Backend) {
	e := newEnv(t, b)
	opts := waitroom.KeyOptions{Algorithm: "ES256", Clock: e.clock.Now, PublishAhead: 10 * time.Minute, KeepFor: 2 * time.Hour, RotateEvery: 24 * time.Hour}
	keys, err := waitroom.LoadKeys(e.ctx, e.store, opts)
	noErr(t, err)
	old, _, _ := keys.Current()
	rotated, err := keys.RotateIfDue(e.ctx)
	noErr(t, err)
	if rotated {
		t.Fatal("RotateIfDue rotated a fresh key")
	}
	e.clock.Advance(24 * time.Hour)
	rotated, err = keys.RotateIfDue(e.ctx)
	noErr(t, err)
	if !rotated {
		t.Fatal("RotateIfDue did not rotate a key older than RotateEvery")
	}
	if cur, _, _ := keys.Current(); cur != old {
		t.Fatal("the new key signs before it was published for PublishAhead")
	}
	if n := len(keys.JWKS().Keys); n != 2 {
		t.Fatalf("JWKS has %d keys during the publish delay, want 2", n)
	}
	e.clock.Advance(10 * time.Minute)
	cur, _, _ := keys.Current()
	if cur == old {
		t.Fatal("the new key does not sign after the publish delay")
	}
	if _, ok := keys.PublicJWK(old); !ok {
		t.Fatal("the retired key left the JWKS before KeepFor")
	}
	e.clock.Advance(2 * time.Hour)
	_, err = keys.RotateIfDue(e.ctx)
	noErr(t, err)
	if _, ok := keys.PublicJWK(old); ok {
		t.Fatal("the retired key is still published after KeepFor")
	}
	stored, err := e.store.SigningKeys(e.ctx)
	noErr(t, err)
	if len(stored) != 1 || stored[0].ID != cur {
		t.Fatalf("stored keys after KeepFor = %d, want only the current one", len(stored))
	}
}
