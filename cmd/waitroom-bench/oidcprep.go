package main

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"net/url"
)

// The unmeasured side of the OIDC scenarios: opening the client's room and
// the pools of tokens and logged-in browsers the floods use.

// prepare discovers the endpoints and opens the client's room: its serving
// counter goes -headroom past its queue, so every login of the run is
// admitted on its first visit to the room page, as with a room that admits
// at once. Visitors beyond the headroom wait for the admitter. A plain
// provider only needs discovering.
func (f *oidcFlow) prepare(ctx context.Context, rec *Recorder) error {
	if err := f.discover(ctx, rec); err != nil || f.plain {
		return err
	}
	queued, err := f.queue.QueueLength(ctx, rec)
	if err != nil {
		return fmt.Errorf("room %s: %w", f.queue.room, err)
	}
	if err := f.queue.RaiseServing(ctx, rec, queued+f.cfg.Headroom); err != nil {
		return err
	}
	return f.admit.start(ctx, rec)
}

// prepareTokens runs n logins to collect access tokens for the userinfo
// flood.
func (f *oidcFlow) prepareTokens(ctx context.Context, rec *Recorder, n, conc int) error {
	tokens := make([]string, n)
	err := f.whileAdmitting(ctx, rec, func() error {
		return fanOut(ctx, int64(n), conc, func(ctx context.Context, i int64) error {
			tok, err := f.Flow(ctx, rec)
			tokens[i] = tok
			return err
		})
	})
	f.tokens = tokens
	return err
}

// prepareBrowsers runs n logins and keeps the browsers: each holds its
// ticket cookie for the room, which is what the room page's status poll
// reads.
func (f *oidcFlow) prepareBrowsers(ctx context.Context, rec *Recorder, n, conc int) error {
	browsers := make([]*login, n)
	err := f.whileAdmitting(ctx, rec, func() error {
		return fanOut(ctx, int64(n), conc, func(ctx context.Context, i int64) error {
			l, err := newLogin(f)
			if err == nil {
				_, err = f.browse(ctx, rec, l)
			}
			browsers[i] = l
			return err
		})
	})
	if err != nil {
		return err
	}
	iss, err := url.Parse(f.disc.Issuer)
	if err != nil {
		return err
	}
	status, err := iss.Parse(f.statusPath())
	f.browsers, f.statusURL = browsers, status.String()
	return err
}

// whileAdmitting runs fn with the admitter on: logins beyond the headroom
// wait in the room until it lets them in.
func (f *oidcFlow) whileAdmitting(ctx context.Context, rec *Recorder, fn func() error) error {
	if f.plain {
		return fn()
	}
	admitting, stop := context.WithCancel(ctx)
	defer stop()
	go f.admit.run(admitting, func() *Recorder { return rec })
	return fn()
}

// admitting is the Background of the OIDC scenarios: the admitter, when
// there is a room.
func (f *oidcFlow) admitting(ctx context.Context, b *Bench) {
	if !f.plain {
		f.admit.run(ctx, b.current)
	}
}

// pollStatus is one poll of the room page by one of the prepared browsers.
func (f *oidcFlow) pollStatus(ctx context.Context, rec *Recorder) error {
	_, err := f.status(ctx, rec, f.browsers[mathrand.IntN(len(f.browsers))], f.statusURL)
	return err
}

// nextToken hands out the prepared access tokens round-robin.
func (f *oidcFlow) nextToken() string {
	return f.tokens[int(f.tokenNext.Add(1)%uint64(len(f.tokens)))]
}
