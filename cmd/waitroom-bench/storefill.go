package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
)

// The bulk path for filling a room to millions of waiting tickets: the
// generator opens the server's own Redis + PostgreSQL backend and enqueues
// through the store, many at a time, so the backend's group commit writes
// them in large batches, without an HTTP request and JSON per ticket. The
// tickets are the same as those the API makes (a UUID, the entry time, the
// next position), so the server sees an ordinary queue.

// storeFill says where the server's backend is; empty DatabaseURL means
// "fill through the public API".
type storeFill struct {
	DatabaseURL string
	RedisURL    string
	KeyPrefix   string
}

func (f storeFill) enabled() bool { return f.DatabaseURL != "" }

// fillThroughStore enqueues need tickets into room through the backend,
// offering every id to sample.
func fillThroughStore(ctx context.Context, f storeFill, room string, need int64, conc int, sample *reservoir, done *atomic.Int64) error {
	s, err := redispg.Open(ctx, redispg.Config{DatabaseURL: f.DatabaseURL, RedisURL: f.RedisURL, KeyPrefix: f.KeyPrefix,
		SkipMigrations: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("opening the backend to fill the room: %w", err)
	}
	defer s.Close()
	return fanOut(ctx, need, conc, func(ctx context.Context, i int64) error {
		t, _, err := s.Enqueue(ctx, room, waitroom.NewTicket{ID: uuid.NewString(), EntryTime: time.Now().UTC().Truncate(time.Microsecond)})
		if err != nil {
			return err
		}
		sample.offer(t.ID)
		done.Add(1)
		return nil
	})
}
