package oidc_test

import (
	"runtime"
	"testing"
	"time"
)

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// A long-running demo on the embedded store must not keep what a login
// leaves behind once the admission is over: grants, codes, sessions,
// tickets and token records. Logins in rounds, the clock moved past every
// lifetime between rounds: the heap after the last round is about what it
// was after the first (it grew ~500 bytes a login when tickets and token
// records were kept forever).
func TestEmbeddedStoreForgetsEndedLogins(t *testing.T) {
	e := newEnv(t, withClients(benchClient("")))
	if _, err := e.svc.SetServing(e.ctx, room1, 1<<40); err != nil {
		t.Fatal(err)
	}
	const rounds, perRound = 4, 600
	var first int64
	for round := range rounds {
		for range perRound {
			if err := benchLogin(e.issuer); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(48 * time.Hour)
		heap := liveHeap()
		t.Logf("round %d: live heap %d KB", round, heap/1024)
		if round == 0 {
			first = heap
		}
	}
	perLogin := (liveHeap() - first) / ((rounds - 1) * perRound)
	if perLogin > 150 {
		t.Errorf("live heap grew %d bytes per login over %d logins whose admission had ended", perLogin, (rounds-1)*perRound)
	}
}
