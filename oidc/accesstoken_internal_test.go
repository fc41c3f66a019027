package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
)

func TestAccessTokenID(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	want := accessToken{grantID: randomToken(18), iat: now, exp: now.Add(15 * time.Minute)}
	id := want.id()
	if id == want.id() {
		t.Fatal("two ids of the same grant and times are equal")
	}
	got, ok := parseAccessTokenID(id)
	if !ok || got != want {
		t.Fatalf("%q read as %+v %v, want %+v", id, got, ok, want)
	}
	for _, bad := range []string{"", "a", "g.1.2", "g.1.2.r.x", ".1.2.r", "g.zz!.2.r", "g.1.2!.r",
		strings.Repeat("g", 65) + ".1.2.r"} {
		if _, ok := parseAccessTokenID(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTokenCryptoIsAuthenticated(t *testing.T) {
	c, err := newTokenCrypto(newKeyring([]byte("0123456789abcdef0123456789abcdef")).crypto)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newTokenCrypto(newKeyring([]byte("another key, 32 bytes long......")).crypto)
	const plain = "grant.1.2.r:0123456789abcdef0123456789abcdef"
	token, err := c.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Encrypt(plain); again == token {
		t.Fatal("the nonce is not random")
	}
	if got, err := c.Decrypt(token); err != nil || got != plain {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	if _, err := other.Decrypt(token); err == nil {
		t.Fatal("decrypted under another key")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	for i := range raw {
		tampered := append([]byte(nil), raw...)
		tampered[i] ^= 1
		if _, err := c.Decrypt(base64.RawURLEncoding.EncodeToString(tampered)); err == nil {
			t.Fatalf("a token with byte %d altered decrypts", i)
		}
	}
	for _, bad := range []string{"", "x", token[:20], token + "A", "eyJhbGciOiJIUzI1NiJ9.e30.sig", strings.Repeat("A", 2000)} {
		if _, err := c.Decrypt(bad); err == nil {
			t.Errorf("%.30q decrypts", bad)
		}
	}
}

func TestVerifiedTokensBoundedAndExpiring(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	c := newVerifiedTokens(4)
	key := func(i int) [sha256.Size]byte { return sha256.Sum256([]byte(strconv.Itoa(i))) }
	for i := range 20 {
		c.add(key(i), verifiedToken{id: strconv.Itoa(i), exp: now.Add(time.Minute)})
		if n := len(c.cur) + len(c.old); n > 8 {
			t.Fatalf("%d entries after %d adds, bound 8", n, i+1)
		}
	}
	if _, ok := c.get(key(0), now); ok {
		t.Fatal("the oldest entry survived")
	}
	// the newest are there; a hit in the old generation moves it back
	for _, i := range []int{19, 15} {
		if v, ok := c.get(key(i), now); !ok || v.id != strconv.Itoa(i) {
			t.Fatalf("entry %d: %+v %v", i, v, ok)
		}
	}
	if _, ok := c.cur[key(15)]; !ok {
		t.Fatal("a hit in the old generation was not moved to the current one")
	}
	// an expired entry is a miss and is dropped
	if _, ok := c.get(key(19), now.Add(time.Minute)); ok {
		t.Fatal("an expired entry hit")
	}
	if _, ok := c.get(key(19), now); ok {
		t.Fatal("an expired entry was kept")
	}
}

// TestGrantRecordTombstone: revocation replaces the grant's record with a
// tombstone that a refresh's restore does not overwrite, while a record the
// store lost is written again.
func TestGrantRecordTombstone(t *testing.T) {
	ctx := context.Background()
	b, err := embedded.Open(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eph := b.Ephemeral
	s := &grants{eph: ephemeralJSON{eph}, refresh: b.Refresh, now: time.Now}
	g := &grant{ID: randomToken(18), ClientID: "c", Subject: "s", Room: "r", AdmissionEnds: time.Now().Add(time.Hour)}
	live := func() bool {
		t.Helper()
		_, err := s.grantByID(ctx, g.ID)
		if err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
			t.Fatal(err)
		}
		return err == nil
	}
	if live() {
		t.Fatal("a grant never recorded is live")
	}
	if err := s.rememberGrant(ctx, g, "code-id"); err != nil || !live() {
		t.Fatalf("recorded grant not live: %v", err)
	}
	if err := eph.Delete(ctx, keyGrant+g.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.restoreGrant(ctx, g); err != nil || !live() {
		t.Fatalf("lost grant not restored: %v", err)
	}
	if err := s.revokeGrant(ctx, *g, false); err != nil || live() {
		t.Fatalf("revoked grant still live: %v", err)
	}
	if err := s.restoreGrant(ctx, g); err != nil || live() {
		t.Fatalf("restore overwrote the tombstone: %v", err)
	}
	if _, err := s.accessRecord(ctx, accessToken{grantID: g.ID, iat: time.Now(), exp: time.Now().Add(time.Minute)}.id(), "s"); waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		t.Fatalf("access record of a revoked grant: %v", err)
	}
}
