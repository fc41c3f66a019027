package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/url"
	"strconv"
	"sync/atomic"
)

// The bot gate, as a client passes it: fetch a challenge (GET /challenge),
// find a counter such that SHA-256(token ":" counter) starts with the
// difficulty in zero bits, and send both with the enqueue. The load
// generator knows the server only through HTTP, so the search is written
// here again (docs/bot-gate.md describes it).
//
// With -gate-difficulty, the enqueue scenario draws its answers from a
// pool solved before the measured window (Prepare), so the clients' search
// never counts against the server: the run measures the server's extra
// work (issuing a challenge, checking a solution, spending it), with each
// GET /challenge recorded as its own step. An enqueue that finds the pool
// empty solves one on the spot.

const stepChallenge = "challenge"

// gatePool holds ready enqueue bodies, each with a solved challenge.
type gatePool struct {
	bodies chan []byte
	used   atomic.Int64
}

// solveChallenge finds the smallest counter meeting difficulty.
func solveChallenge(token string, difficulty int) uint64 {
	buf := make([]byte, 0, len(token)+21)
	for n := uint64(0); ; n++ {
		b := strconv.AppendUint(append(append(buf[:0], token...), ':'), n, 10)
		if leadingZeroBits(sha256.Sum256(b)) >= difficulty {
			return n
		}
	}
}

func leadingZeroBits(sum [32]byte) int {
	n := 0
	for i := 0; i < len(sum); i += 8 {
		w := binary.BigEndian.Uint64(sum[i : i+8])
		n += bits.LeadingZeros64(w)
		if w != 0 {
			break
		}
	}
	return n
}

// solvedBody fetches a challenge for the room and returns an enqueue body
// that answers it.
func (q *queueAPI) solvedBody(ctx context.Context, rec *Recorder) ([]byte, error) {
	var offer struct {
		Token      string `json:"token"`
		Difficulty int    `json:"difficulty"`
	}
	if err := q.getJSON(ctx, rec, stepChallenge, q.challenge, &offer); err != nil {
		return nil, err
	}
	if offer.Token == "" {
		return nil, &StepError{Step: stepChallenge, Cause: "body", Err: errMissing("token (is the room's bot gate on?)")}
	}
	n := solveChallenge(offer.Token, offer.Difficulty)
	return mustJSON(map[string]string{"event_id": q.room, "challenge": offer.Token, "solution": strconv.FormatUint(n, 10)}), nil
}

// enqueueBody is the body of the next enqueue: the fixed one without a
// gate, else a pooled (or freshly solved) answer.
func (q *queueAPI) enqueueBody(ctx context.Context, rec *Recorder) ([]byte, error) {
	if q.gate == nil {
		return q.assignBody, nil
	}
	select {
	case b := <-q.gate.bodies:
		q.gate.used.Add(1)
		return b, nil
	default:
		return q.solvedBody(ctx, rec)
	}
}

// prepareGate fills the pool with -gate-pool solved challenges before the
// run (nothing without -gate-difficulty).
func prepareGate(ctx context.Context, b *Bench) error {
	q := b.queue
	if q.gate == nil || len(q.gate.bodies) > 0 {
		return nil
	}
	var done atomic.Int64
	stop := b.progress("solve challenges", &done, int64(cap(q.gate.bodies)))
	defer stop()
	err := fanOut(ctx, int64(cap(q.gate.bodies)), b.cfg.PrefillConc, func(ctx context.Context, _ int64) error {
		body, err := q.solvedBody(ctx, b.scratch)
		if err == nil {
			q.gate.bodies <- body
			done.Add(1)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("solving challenges: %w", err)
	}
	return nil
}

// gateSettings are the room settings of -create-room with a gate.
func gateSettings(cfg Config) map[string]any {
	if cfg.GateDifficulty <= 0 {
		return nil
	}
	return map[string]any{"bot_gate": map[string]any{"difficulty": cfg.GateDifficulty}}
}

func challengeURL(cfg Config, room string) string {
	return cfg.Target + "/challenge?event_id=" + url.QueryEscape(room)
}
