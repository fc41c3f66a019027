package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Background work of the deployment:
//
//   - every replica reloads the signing keys often (well within the keys'
//     publish-ahead delay), so it learns of a key another replica rotated in;
//   - one replica at a time, the holder of a lease in the Ephemeral store
//     (Redis in production), runs the queue-position expiry job for every
//     room and rotates the signing key when it is due.

// keyReloadEvery is how often every replica rereads the signing keys.
const keyReloadEvery = time.Minute

const leaseKey = "lease:background-jobs"

type jobs struct {
	svc      *waitroom.Service
	keys     *waitroom.Keys
	eph      waitroom.Ephemeral
	logger   *slog.Logger
	interval time.Duration
	holder   string
	rotate   bool
}

func (s *server) startJobs(app *App, cfg Config) {
	j := &jobs{svc: app.Service, keys: app.Keys, eph: app.Ephemeral, logger: s.logger.With("job", "background"),
		interval: cfg.ExpiryInterval.D(), holder: newHolderID(), rotate: cfg.KeyRotation.D() > 0}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopJobs = cancel
	s.jobsDone = make(chan struct{})
	go func() {
		defer close(s.jobsDone)
		var wg sync.WaitGroup
		wg.Go(func() { s.policies.run(ctx) })
		j.run(ctx)
		wg.Wait()
	}()
}

func newHolderID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func (j *jobs) run(ctx context.Context) {
	expiry := time.NewTicker(j.interval)
	defer expiry.Stop()
	reload := time.NewTicker(min(keyReloadEvery, j.interval))
	defer reload.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload.C:
			if err := j.keys.Reload(ctx); err != nil && ctx.Err() == nil {
				j.logger.Warn("reloading signing keys failed", "err", err)
			}
		case <-expiry.C:
			if j.lead(ctx) {
				j.leaderPass(ctx)
			}
		}
	}
}

// lead takes or renews the lease. The lease lives three intervals, so a
// holder that misses one tick keeps it; a holder that dies frees it within
// three. Renewal is read-then-write (Ephemeral has no compare-and-set): two
// holders can only overlap if a holder stalls for two whole intervals, and
// the expiry steps are conditional writes, so an overlap repeats no step.
func (j *jobs) lead(ctx context.Context) bool {
	ttl := 3 * j.interval
	ok, err := j.eph.PutIfAbsent(ctx, leaseKey, []byte(j.holder), ttl)
	if err != nil {
		j.logger.Warn("background-job lease unavailable", "err", err)
		return false
	}
	if ok {
		return true
	}
	cur, err := j.eph.Get(ctx, leaseKey)
	if err != nil || string(cur) != j.holder {
		return false
	}
	if err := j.eph.Put(ctx, leaseKey, []byte(j.holder), ttl); err != nil {
		return false
	}
	return true
}

func (j *jobs) leaderPass(ctx context.Context) {
	if j.rotate {
		if rotated, err := j.keys.RotateIfDue(ctx); err != nil {
			j.logger.Warn("signing key rotation failed", "err", err)
		} else if rotated {
			j.logger.Info("signing key rotated")
		}
	}
	rooms, err := j.svc.Rooms(ctx)
	if err != nil {
		j.logger.Warn("expiry job: listing rooms failed", "err", err)
		return
	}
	for _, r := range rooms {
		if ctx.Err() != nil {
			return
		}
		if _, err := j.svc.ExpireRoom(ctx, r.ID); err != nil && waitroom.ErrorCode(err) != waitroom.CodeNotFound {
			j.logger.Warn("expiry job failed", "room", r.ID, "err", err)
		}
	}
}
