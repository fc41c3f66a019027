// Package storetest is the conformance suite of the storage contracts: every
// store of a waitroom.Backend (queue, ephemeral values, OpenID clients and
// refresh tokens, webhook outbox, pre-queue, lease). Every backend calls Run
// from its own _test.go with a Backend that opens a fresh one per test, so
// that the embedded backend and the production one cannot drift apart.
//
// Store methods take their time from the caller (now, at, EntryTime), so the
// suite drives them with a fake clock and never sleeps for queue logic. Only
// the TTL tests of Ephemeral wait, with short TTLs and a poll-until deadline,
// because a real Redis cannot be time-travelled.
package storetest

import (
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Backend describes the backend under test.
type Backend struct {
	// Open returns a store on fresh, empty backing state private to this
	// test (its own schema or key prefix). It registers its own cleanup.
	Open func(t *testing.T) Instance
}

// Instance is one opened backend.
type Instance struct {
	*waitroom.Backend
	// Another opens one more backend over the same backing state (a second
	// server replica); nil for single-process backends, in which case the
	// tests reuse this one.
	Another func(t testing.TB) *waitroom.Backend
	// LoseFastState wipes the fast copy of the counters (for Redis: delete
	// this test's keys); nil if the backend keeps no such copy.
	LoseFastState func(t *testing.T)
	// AdvanceEphemeral moves the Ephemeral store's clock forward, for
	// backends whose TTLs follow an injected clock (the embedded store).
	// nil for real servers: the TTL tests then wait with short TTLs.
	AdvanceEphemeral func(d time.Duration)
	// LapseLease ends the lease called name at once, as its TTL running
	// out would.
	LapseLease func(t testing.TB, name string)
}

// Run runs the conformance suite against b.
func Run(t *testing.T, b Backend) {
	for _, tc := range suite() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			tc.run(t, b)
		})
	}
}

type testCase struct {
	name     string
	parallel bool
	run      func(t *testing.T, b Backend)
}

// suite lists the conformance tests; each file of this package adds its own.
func suite() []testCase {
	var all []testCase
	for _, group := range [][]testCase{
		roomTests(), queueTests(), tokenTests(), expiryTests(),
		concurrencyTests(), ephemeralTests(), keyTests(),
		clientTests(), refreshTests(), outboxTests(), prequeueTests(), leaseTests(), auditTests(),
	} {
		all = append(all, group...)
	}
	return all
}
