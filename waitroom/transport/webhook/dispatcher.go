package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// Config wires a Dispatcher. Outbox and Rooms are required.
type Config struct {
	Outbox waitroom.Outbox
	// Rooms looks a room up at delivery time, for its receivers' secrets
	// (secrets are never copied into the outbox).
	Rooms  func(ctx context.Context, id string) (waitroom.Room, error)
	Client *http.Client
	Clock  func() time.Time
	Logger *slog.Logger
	// MaxAttempts before a delivery is given up (default 12: about 30
	// minutes of retries with the default backoff).
	MaxAttempts int
	// Backoff gives the wait after the n-th failed attempt (default
	// Exponential(time.Second, 10*time.Minute)).
	Backoff func(attempt int) time.Duration
	// Timeout of one delivery (default 5s).
	Timeout time.Duration
}

// Dispatcher records events into the outbox and delivers them.
type Dispatcher struct{ cfg Config }

// NewDispatcher returns a dispatcher with defaults filled in.
func NewDispatcher(cfg Config) *Dispatcher {
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.Backoff == nil {
		cfg.Backoff = Exponential(time.Second, 10*time.Minute)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &Dispatcher{cfg: cfg}
}

// Exponential returns a backoff of base·2^(attempt−1), capped at most.
func Exponential(base, most time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < most; i++ {
			d *= 2
		}
		return min(d, most)
	}
}

// Event is the JSON body of a delivery. Type is one of waitroom.EventTypes
// (the event names of the AWS solution); Detail holds its fields.
type Event struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	Room   string         `json:"event_id"`
	Time   time.Time      `json:"time"`
	Detail map[string]any `json:"detail"`
}

// Emit records an event for every receiver of room that subscribes to its
// type. It only writes to the outbox: delivery happens in Deliver.
func (d *Dispatcher) Emit(ctx context.Context, room waitroom.Room, event string, detail map[string]any) error {
	ev := Event{ID: uuid.NewString(), Type: event, Room: room.ID, Time: d.cfg.Clock().UTC(), Detail: detail}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var ds []waitroom.Delivery
	for _, h := range room.Webhooks {
		if len(h.Events) == 0 || slices.Contains(h.Events, event) {
			ds = append(ds, waitroom.Delivery{Room: room.ID, URL: h.URL, EventID: ev.ID, Type: event, Body: body, CreatedAt: ev.Time})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return d.cfg.Outbox.Add(ctx, ds)
}

// Deliver makes one delivery pass: it sends the due head of every stream
// (streams in parallel, each in order) and records the outcomes. It
// returns how many were delivered.
func (d *Dispatcher) Deliver(ctx context.Context) (int, error) {
	due, err := d.cfg.Outbox.Due(ctx, d.cfg.Clock(), 64)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	delivered := 0
	for _, dl := range due {
		wg.Go(func() {
			if d.deliverOne(ctx, dl) {
				mu.Lock()
				delivered++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return delivered, nil
}

// Drain repeats Deliver until a pass delivers nothing (tests, shutdown).
func (d *Dispatcher) Drain(ctx context.Context) error {
	for {
		n, err := d.Deliver(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Run delivers every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("webhook delivery pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) deliverOne(ctx context.Context, dl waitroom.Delivery) bool {
	err := d.send(ctx, dl)
	if err == nil {
		if err := d.cfg.Outbox.Done(ctx, dl.Seq); err != nil {
			d.cfg.Logger.Warn("webhook outcome not recorded", "seq", dl.Seq, "err", err)
		}
		return true
	}
	attempts := dl.Attempts + 1
	msg := err.Error()
	if attempts >= d.cfg.MaxAttempts {
		d.cfg.Logger.Warn("webhook given up", "room", dl.Room, "url", dl.URL, "event", dl.Type, "attempts", attempts, "err", msg)
		err = d.cfg.Outbox.Fail(ctx, dl.Seq, attempts, msg)
	} else {
		err = d.cfg.Outbox.Retry(ctx, dl.Seq, attempts, d.cfg.Clock().Add(d.cfg.Backoff(attempts)), msg)
	}
	if err != nil {
		d.cfg.Logger.Warn("webhook outcome not recorded", "seq", dl.Seq, "err", err)
	}
	return false
}

// send posts one delivery, signed with the receiver's current secret.
func (d *Dispatcher) send(ctx context.Context, dl waitroom.Delivery) error {
	secret, err := d.secret(ctx, dl)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "waitroom-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, d.cfg.Clock(), dl.Body))
	req.Header.Set(EventIDHeader, dl.EventID)
	req.Header.Set(EventTypeHeader, dl.Type)
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

func (d *Dispatcher) secret(ctx context.Context, dl waitroom.Delivery) (string, error) {
	r, err := d.cfg.Rooms(ctx, dl.Room)
	if err != nil {
		return "", fmt.Errorf("room %s: %w", dl.Room, err)
	}
	for _, h := range r.Webhooks {
		if h.URL == dl.URL {
			return h.Secret, nil
		}
	}
	return "", fmt.Errorf("the room no longer has a webhook for %s", dl.URL)
}
