package admission

import (
	"context"
	"encoding/hex"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// Pre-queue: arrivals during the window before a room opens hold an entry
// (an id, no position). At opening the leader turns them all into tickets
// in one idempotent pass: first every entry that joined before the opening
// time, in the order of a seeded shuffle, then later arrivals in the order
// they joined. Until its entry is converted a visitor's id answers
// not_served ("not yet assigned", AWS 202), never a wrong position.
//
// Fairness is verifiable: the hash of the seed is published when the
// pre-queue opens, the seed and the list of entry ids after opening; anyone
// recomputes the order with Shuffle.

// TicketStore is where opened entries become tickets (waitroom.Store).
type TicketStore interface {
	Enqueue(ctx context.Context, room string, t waitroom.NewTicket) (waitroom.Ticket, bool, error)
}

// Prequeue runs the pre-queue of scheduled rooms.
type Prequeue struct {
	store   waitroom.PrequeueStore
	tickets TicketStore
	clock   func() time.Time
}

// NewPrequeue returns a pre-queue over store, converting into tickets.
func NewPrequeue(store waitroom.PrequeueStore, tickets TicketStore, clock func() time.Time) *Prequeue {
	if clock == nil {
		clock = time.Now
	}
	return &Prequeue{store: store, tickets: tickets, clock: clock}
}

// Join admits an arrival to r's pre-queue and returns its entry.
func (p *Prequeue) Join(ctx context.Context, r waitroom.Room, key string) (waitroom.PrequeueEntry, error) {
	now := p.clock()
	if err := p.Commit(ctx, r, now); err != nil {
		return waitroom.PrequeueEntry{}, err
	}
	e, _, err := p.store.Join(ctx, r.ID, waitroom.PrequeueEntry{ID: uuid.NewString(), Key: key, JoinedAt: now.UTC()})
	return e, err
}

// Commit draws the room's seed if it has none yet and returns the draw;
// called when the pre-queue opens (and by Join, so the commitment exists
// before the first entry whatever happens to the leader).
func (p *Prequeue) Commit(ctx context.Context, r waitroom.Room, now time.Time) error {
	_, err := p.draw(ctx, r, now)
	return err
}

func (p *Prequeue) draw(ctx context.Context, r waitroom.Room, now time.Time) (waitroom.PrequeueDraw, error) {
	return p.store.CreateDraw(ctx, r.ID, waitroom.PrequeueDraw{Seed: NewSeed(), CommittedAt: now.UTC()})
}

// NotYetAssigned is the answer for an id that is a pre-queue entry not yet
// converted (the AWS 202 "not yet assigned").
func (p *Prequeue) NotYetAssigned(ctx context.Context, room, id string) error {
	if _, err := p.store.Entry(ctx, room, id); err != nil {
		return err
	}
	return waitroom.Errorf(waitroom.CodeNotServed, "Queue position not yet assigned: the room has not opened")
}

const openBatch = 1000

// Open converts r's pre-queue into tickets. It is idempotent (ticket keys
// name the entries, so a repeated or interrupted pass assigns nothing
// twice) and is called on every leader pass after opening time, which also
// converts entries that slipped in while the room was opening. done
// reports that no entry is left.
func (p *Prequeue) Open(ctx context.Context, r waitroom.Room, now time.Time) (bool, error) {
	d, err := p.draw(ctx, r, now)
	if err != nil {
		return false, err
	}
	if !d.Opened {
		if err := p.openShuffled(ctx, r, d); err != nil {
			return false, err
		}
		if d, err = p.store.Draw(ctx, r.ID); err != nil {
			return false, err
		}
	}
	return p.convertLate(ctx, r, d.Converted)
}

// openShuffled converts the entries that joined before opening, in shuffled
// order, then marks the draw opened.
func (p *Prequeue) openShuffled(ctx context.Context, r waitroom.Room, d waitroom.PrequeueDraw) error {
	early, last, err := p.earlyEntries(ctx, r)
	if err != nil {
		return err
	}
	byID := make(map[string]waitroom.PrequeueEntry, len(early))
	ids := make([]string, 0, len(early))
	for _, e := range early {
		byID[e.ID] = e
		ids = append(ids, e.ID)
	}
	for _, id := range Shuffle(ids, d.Seed) {
		if err := p.convert(ctx, r.ID, byID[id]); err != nil {
			return err
		}
	}
	return p.store.SaveProgress(ctx, r.ID, last, true)
}

// earlyEntries returns the entries that joined before opening; last is the
// Seq of the last of them (entries are in arrival order, so the early ones
// come first).
func (p *Prequeue) earlyEntries(ctx context.Context, r waitroom.Room) ([]waitroom.PrequeueEntry, int64, error) {
	var early []waitroom.PrequeueEntry
	var after int64
	for {
		page, err := p.store.Entries(ctx, r.ID, after, openBatch)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range page {
			if !e.JoinedAt.Before(r.Schedule.OpensAt) {
				return early, after, nil
			}
			early, after = append(early, e), e.Seq
		}
		if len(page) < openBatch {
			return early, after, nil
		}
	}
}

// convertLate converts, in arrival order, the entries past the shuffled
// block.
func (p *Prequeue) convertLate(ctx context.Context, r waitroom.Room, after int64) (bool, error) {
	for {
		page, err := p.store.Entries(ctx, r.ID, after, openBatch)
		if err != nil || len(page) == 0 {
			return err == nil, err
		}
		for _, e := range page {
			if err := p.convert(ctx, r.ID, e); err != nil {
				return false, err
			}
			after = e.Seq
		}
		if err := p.store.SaveProgress(ctx, r.ID, after, true); err != nil {
			return false, err
		}
	}
}

// convert enqueues an entry as a ticket with the entry's id, keyed so that
// a second conversion returns the first ticket.
func (p *Prequeue) convert(ctx context.Context, room string, e waitroom.PrequeueEntry) error {
	key := e.Key
	if key == "" {
		key = "prequeue:" + e.ID
	}
	_, _, err := p.tickets.Enqueue(ctx, room, waitroom.NewTicket{ID: e.ID, EntryTime: e.JoinedAt, Key: key})
	return err
}

// Publication is what a room publishes about its draw: the commitment from
// the start of the pre-queue; the seed and the entry ids (sorted) once the
// room has opened.
type Publication struct {
	Commitment  string    `json:"commitment"`
	CommittedAt time.Time `json:"committed_at"`
	Seed        string    `json:"seed,omitempty"`
	Entries     []string  `json:"entries,omitempty"`
}

// Publish returns the room's publication. CodeNotFound if it has no draw.
func (p *Prequeue) Publish(ctx context.Context, r waitroom.Room) (Publication, error) {
	d, err := p.store.Draw(ctx, r.ID)
	if err != nil {
		return Publication{}, err
	}
	pub := Publication{Commitment: Commitment(d.Seed), CommittedAt: d.CommittedAt}
	if !d.Opened {
		return pub, nil
	}
	early, _, err := p.earlyEntries(ctx, r)
	if err != nil {
		return Publication{}, err
	}
	for _, e := range early {
		pub.Entries = append(pub.Entries, e.ID)
	}
	slices.Sort(pub.Entries)
	pub.Seed = hex.EncodeToString(d.Seed[:])
	return pub, nil
}
