package waitroom

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ticketCache keeps the tickets Service.Ticket found (/queue_num, the room
// page), so that a visitor polling their position costs the store one read
// rather than one per poll.
//
// A ticket never changes within its room's generation, so an entry stays
// right for as long as the room (the same room: same creation time) and its
// generation do. Every hit is checked against the room cache (RoomCacheTTL)
// and the poll copy of the counters (PollTTL): a reset by another replica
// shows after at most PollTTL, as it does in the polls; a reset through this
// Service at once, since it drops the poll copy. Only found tickets are
// kept: an unknown id goes to the store every time, so a ticket another
// replica has just created is found. Without a PollTTL the cache is off.
//
// It is bounded: two maps of at most ticketCacheSize/2 entries; when the
// current one is full it becomes the previous one, and the previous one is
// dropped. A hit in the previous map moves the entry back.
type ticketCache struct {
	mu       sync.Mutex
	cur, old map[ticketKey]ticketEntry
}

// ticketCacheSize bounds the cache: about 100 B an entry, a few MB.
const ticketCacheSize = 1 << 16

type ticketKey struct {
	room string
	id   uuid.UUID
}

type ticketEntry struct {
	position   int64
	entry      time.Time
	generation int64
	// roomCreated tells a room deleted and created again (its generations
	// start at 0 again) from the room the ticket was read in.
	roomCreated time.Time
}

func (c *ticketCache) get(k ticketKey) (ticketEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[k]; ok {
		return e, true
	}
	e, ok := c.old[k]
	if ok {
		c.putLocked(k, e)
	}
	return e, ok
}

func (c *ticketCache) put(k ticketKey, e ticketEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, e)
}

func (c *ticketCache) putLocked(k ticketKey, e ticketEntry) {
	if len(c.cur) >= ticketCacheSize/2 {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[ticketKey]ticketEntry)
	}
	c.cur[k] = e
}

// Ticket returns a ticket of the room's current generation. With a
// PollTTL, a ticket found before answers from the cache (see ticketCache):
// after a reset by another replica it may still be answered for up to
// PollTTL, like the counters the polls show.
func (s *Service) Ticket(ctx context.Context, room, id string) (Ticket, error) {
	id, err := roomAndRequest(room, id)
	if err != nil {
		return Ticket{}, err
	}
	r, err := s.Room(ctx, room)
	if err != nil {
		return Ticket{}, err
	}
	if s.polls.ttl <= 0 {
		return s.store.LookupTicket(ctx, room, id)
	}
	c, err := s.pollCounters(ctx, room)
	if err != nil {
		// The cache cannot be checked; the store may still answer.
		return s.store.LookupTicket(ctx, room, id)
	}
	uid, _ := uuid.Parse(id) // id is canonical already
	key := ticketKey{room: r.ID, id: uid}
	if e, ok := s.tickets.get(key); ok && e.generation == c.Generation && e.roomCreated.Equal(r.CreatedAt) {
		return Ticket{ID: id, Room: room, Position: e.position, EntryTime: e.entry, Status: TicketAssigned, Generation: e.generation}, nil
	}
	t, err := s.store.LookupTicket(ctx, room, id)
	if err == nil && t.Status == TicketAssigned && t.ID == id {
		s.tickets.put(key, ticketEntry{position: t.Position, entry: t.EntryTime, generation: t.Generation, roomCreated: r.CreatedAt})
	}
	return t, err
}
