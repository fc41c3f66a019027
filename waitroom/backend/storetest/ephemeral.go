package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func ephemeralTests() []testCase {
	return []testCase{
		{"EphemeralPutGetDelete", true, testEphemeralBasics},
		{"EphemeralPutIfAbsent", true, testEphemeralPutIfAbsent},
		{"EphemeralTakeOnce", true, testEphemeralTake},
		{"EphemeralIncr", true, testEphemeralIncr},
		{"EphemeralTTL", true, testEphemeralTTL},
		{"EphemeralAllowBucket", true, testEphemeralAllow},
		{"EphemeralAllowRefills", true, testEphemeralAllowRefills},
	}
}

func testEphemeralBasics(t *testing.T, b Backend) {
	ctx, eph := context.Background(), b.Open(t).Ephemeral
	_, err := eph.Get(ctx, "k")
	wantCode(t, err, waitroom.CodeNotFound)
	noErr(t, eph.Put(ctx, "k", []byte("v1"), time.Minute))
	noErr(t, eph.Put(ctx, "k", []byte("v2"), time.Minute))
	got, err := eph.Get(ctx, "k")
	noErr(t, err)
	if string(got) != "v2" {
		t.Fatalf("Get = %q, want the replaced value v2", got)
	}
	noErr(t, eph.Delete(ctx, "k"))
	noErr(t, eph.Delete(ctx, "k"))
	_, err = eph.Get(ctx, "k")
	wantCode(t, err, waitroom.CodeNotFound)
}

func testEphemeralPutIfAbsent(t *testing.T, b Backend) {
	ctx, eph := context.Background(), b.Open(t).Ephemeral
	ok, err := eph.PutIfAbsent(ctx, "lease", []byte("a"), time.Minute)
	noErr(t, err)
	if !ok {
		t.Fatal("first PutIfAbsent refused")
	}
	ok, err = eph.PutIfAbsent(ctx, "lease", []byte("b"), time.Minute)
	noErr(t, err)
	got, _ := eph.Get(ctx, "lease")
	if ok || string(got) != "a" {
		t.Fatalf("second PutIfAbsent = %v, value %q", ok, got)
	}
}

func testEphemeralTake(t *testing.T, b Backend) {
	ctx, eph := context.Background(), b.Open(t).Ephemeral
	noErr(t, eph.Put(ctx, "code", []byte("secret"), time.Minute))
	const takers = 50
	var (
		winners atomic.Int64
		wg      sync.WaitGroup
	)
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := eph.Take(ctx, "code")
			switch {
			case err == nil && string(v) == "secret":
				winners.Add(1)
			case err != nil && !isCode(err, waitroom.CodeNotFound):
				t.Errorf("Take: %v", err)
			}
		}()
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d of %d concurrent Takes got the value, want exactly 1", winners.Load(), takers)
	}
	_, err := eph.Get(ctx, "code")
	wantCode(t, err, waitroom.CodeNotFound)
}

func testEphemeralIncr(t *testing.T, b Backend) {
	ctx, eph := context.Background(), b.Open(t).Ephemeral
	for want := int64(1); want <= 3; want++ {
		n, err := eph.Incr(ctx, "hits", time.Minute)
		noErr(t, err)
		if n != want {
			t.Fatalf("Incr = %d, want %d", n, want)
		}
	}
}

// testEphemeralTTL: values vanish after their TTL and Incr does not extend
// its counter's TTL. Backends with an injectable clock travel; real servers
// get short TTLs and a polling deadline.
func testEphemeralTTL(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx, eph := context.Background(), inst.Ephemeral
	ttl := 150 * time.Millisecond
	noErr(t, eph.Put(ctx, "short", []byte("v"), ttl))
	ok, err := eph.PutIfAbsent(ctx, "lease", []byte("v"), ttl)
	noErr(t, err)
	if !ok {
		t.Fatal("PutIfAbsent refused")
	}
	_, err = eph.Incr(ctx, "window", ttl)
	noErr(t, err)
	passTime(inst, ttl/2)
	n, err := eph.Incr(ctx, "window", ttl)
	noErr(t, err)
	if n != 2 {
		t.Fatalf("Incr within the TTL = %d, want 2", n)
	}
	gone := func() bool {
		_, err := eph.Get(ctx, "short")
		return isCode(err, waitroom.CodeNotFound)
	}
	eventually(t, inst, gone, "Put value outlived its TTL")
	eventually(t, inst, func() bool {
		ok, err := eph.PutIfAbsent(ctx, "lease", []byte("w"), time.Minute)
		return err == nil && ok
	}, "PutIfAbsent value outlived its TTL")
	// The counter started at time 0 and the second Incr must not have
	// extended it: by now (>= ttl after the first Incr) it restarts.
	eventually(t, inst, func() bool {
		n, err := eph.Incr(ctx, "window", ttl)
		return err == nil && n == 1
	}, "Incr counter outlived its TTL")
}

// passTime lets d pass for the Ephemeral store.
func passTime(inst Instance, d time.Duration) {
	if inst.AdvanceEphemeral != nil {
		inst.AdvanceEphemeral(d)
		return
	}
	time.Sleep(d)
}

// eventually polls cond until it holds, advancing the fake clock when there
// is one, and fails after a generous deadline.
func eventually(t *testing.T, inst Instance, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		passTime(inst, 10*time.Millisecond)
	}
}

// testEphemeralAllow: a token bucket lets limit calls through at once and
// refuses the next with the wait until a unit refills, on every replica;
// buckets are per key. (A fixed window would let another limit through
// as soon as its window turned.)
func testEphemeralAllow(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx, eph := context.Background(), inst.Ephemeral
	other := eph
	if inst.Another != nil {
		other = inst.Another(t).Ephemeral
	}
	for i := range 3 {
		ok, _, err := []waitroom.Ephemeral{eph, other}[i%2].Allow(ctx, "bucket", 3, time.Minute)
		noErr(t, err)
		if !ok {
			t.Fatalf("call %d of a limit of 3 refused", i+1)
		}
	}
	for _, e := range []waitroom.Ephemeral{eph, other} {
		ok, wait, err := e.Allow(ctx, "bucket", 3, time.Minute)
		noErr(t, err)
		if ok || wait <= 15*time.Second || wait > 20*time.Second {
			t.Fatalf("fourth call: allowed %v, retry after %v; want refused, about 20s (one unit of 3 a minute)", ok, wait)
		}
	}
	ok, _, err := eph.Allow(ctx, "another-bucket", 3, time.Minute)
	noErr(t, err)
	if !ok {
		t.Fatal("a drained bucket refused another key")
	}
	_, _, err = eph.Allow(ctx, "bad", 0, time.Minute)
	wantCode(t, err, waitroom.CodeInvalid)
}

// testEphemeralAllowRefills: a drained bucket lets calls through again as
// it refills, one unit per window/limit.
func testEphemeralAllowRefills(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx, eph := context.Background(), inst.Ephemeral
	for range 2 {
		if ok, _, err := eph.Allow(ctx, "bucket", 2, 400*time.Millisecond); err != nil || !ok {
			t.Fatalf("Allow = %v, %v", ok, err)
		}
	}
	eventually(t, inst, func() bool {
		ok, _, err := eph.Allow(ctx, "bucket", 2, 400*time.Millisecond)
		return err == nil && ok
	}, "a drained bucket never refilled")
}
