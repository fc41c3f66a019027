package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// Background work of the deployment:
//
//   - every replica reloads the signing keys often (well within the keys'
//     publish-ahead delay), so it learns of a key another replica rotated in;
//   - one replica at a time, the admission leader (the holder of the fenced
//     lease of policies.go), ticks the inlet strategies, delivers webhooks,
//     runs the queue-position expiry job for every room and rotates the
//     signing key when it is due: one lease, one loop.

// keyReloadEvery is how often every replica rereads the signing keys.
const keyReloadEvery = time.Minute

// background runs goroutines under one context that shutdown cancels, and
// waits for them, so none outlives the store it uses.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel}
}

// goRun runs fn in a goroutine with the background context.
func (b *background) goRun(fn func(ctx context.Context)) {
	b.wg.Go(func() { fn(b.ctx) })
}

// stop cancels the context and waits for every goroutine to return.
func (b *background) stop() {
	b.cancel()
	b.wg.Wait()
}

func newHolderID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// reloadKeys rereads the signing keys every period until ctx ends.
func reloadKeys(ctx context.Context, keys *waitroom.Keys, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := keys.Reload(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("reloading signing keys failed", "err", err)
			}
		}
	}
}

// leaderWork is what the admission leader does besides the inlet: the
// expiry job of every room and, when configured, key rotation.
type leaderWork struct {
	svc    *waitroom.Service
	keys   *waitroom.Keys
	every  time.Duration
	rotate bool
	logger *slog.Logger
}

// configure adds the work to the engine's configuration.
func (w leaderWork) configure(c *admission.Config) {
	c.Expire = w.expire
	c.ExpireEvery = w.every
	if w.rotate {
		c.Jobs = append(c.Jobs, admission.LeaderJob{Name: "rotate-signing-key", Every: w.every, Run: w.rotateKey})
	}
}

// expire runs one expiry-job pass; a room deleted meanwhile is no failure.
func (w leaderWork) expire(ctx context.Context, room string) error {
	_, err := w.svc.ExpireRoom(ctx, room)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return nil
	}
	return err
}

func (w leaderWork) rotateKey(ctx context.Context) error {
	rotated, err := w.keys.RotateIfDue(ctx)
	if rotated {
		w.logger.Info("signing key rotated")
	}
	return err
}
