package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
	"github.com/waitroom-idp/waitroom/waitroom/transport/webhook"
)

// policies is the admission-policy machinery of a server: the entrance
// (modes, schedules, pre-queue) in front of the service, the webhook
// outbox and its dispatcher, the health gates, and the leader engine that
// moves serving counters.
type policies struct {
	guarded    *admission.Guarded
	prequeue   *admission.Prequeue
	engine     *admission.Engine
	dispatcher *webhook.Dispatcher
	logger     *slog.Logger
}

// deliverEvery is how often the leader delivers webhooks.
const deliverEvery = time.Second

// newPolicies builds the machinery; work is the leader's other periodic
// work (expiry job, key rotation), run under the same lease.
func newPolicies(b *waitroom.Backend, svc *waitroom.Service, work leaderWork, logger *slog.Logger) *policies {
	logger = logger.With("job", "admission")
	dispatcher := webhook.NewDispatcher(webhook.Config{Outbox: b.Outbox, Rooms: svc.Room, Logger: logger})
	pre := admission.NewPrequeue(b.Prequeue, b.Store, nil)
	p := &policies{
		guarded:    admission.NewGuarded(svc, admission.NewEntrance(svc, pre, nil), dispatcher, nil),
		prequeue:   pre,
		dispatcher: dispatcher,
		logger:     logger,
	}
	cfg := admission.Config{
		Core: svc, Lease: b.Lease("admission"), Holder: newHolderID(), Logger: logger,
		Events: dispatcher, Gates: admission.NewHealthGates(nil, nil, logger), Opener: pre, States: b.Ephemeral,
	}
	work.configure(&cfg)
	p.engine = admission.NewEngine(cfg)
	return p
}

// run runs the engine (every replica competes for the lease) and, on the
// leader only, webhook delivery, until ctx ends.
func (p *policies) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.engine.Run(ctx); err != nil {
			p.logger.Warn("releasing the admission lease failed", "err", err)
		}
	})
	wg.Go(func() { p.deliver(ctx) })
	wg.Wait()
}

func (p *policies) deliver(ctx context.Context) {
	t := time.NewTicker(deliverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.engine.Leader() {
			continue
		}
		if err := p.dispatcher.Drain(ctx); err != nil && ctx.Err() == nil {
			p.logger.Warn("webhook delivery failed", "err", err)
		}
	}
}
