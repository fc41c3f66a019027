package redispg_test

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/redispg"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

// A read replica answers position lookups, and only those; a ticket it
// does not hold yet (it lags) is found on the primary. The "replica" here
// is a schema of its own that the test writes by hand, so that what is
// read from it can be told from what is read from the primary.
func TestReadReplicaServesLookupsOnly(t *testing.T) {
	t.Parallel()
	b := newBackend(t)
	replicaDSN := testenv.Postgres(t)
	// The replica's schema: the primary's migrations, applied by a store
	// opened on it once.
	rb := b
	rb.cfg.DatabaseURL = replicaDSN
	rb.cfg.KeyPrefix = b.cfg.KeyPrefix + "replica:"
	replicaStore := rb.open(t)

	cfg := b.cfg
	cfg.DatabaseReadURL = replicaDSN
	s, err := redispg.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	room := mustRoom(t, s)
	now := time.Now().UTC().Truncate(time.Microsecond)
	written, _, err := s.Enqueue(ctx, room, newTicket(now, ""))
	if err != nil {
		t.Fatal(err)
	}
	// Not on the replica yet: the lookup falls back to the primary.
	got, err := s.LookupTicket(ctx, room, written.ID)
	if err != nil || got.Position != written.Position {
		t.Fatalf("lookup of a ticket the replica lacks: %+v, %v; want position %d", got, err, written.Position)
	}

	// The replica holds the room and a ticket the primary does not (as a
	// replica can never do, which is what tells where a read went).
	if err := replicaStore.CreateRoom(ctx, waitroom.NewRoom(room, "")); err != nil {
		t.Fatal(err)
	}
	onlyOnReplica, _, err := replicaStore.Enqueue(ctx, room, newTicket(now, ""))
	if err != nil {
		t.Fatal(err)
	}
	db := sqlx.MustOpen("postgres", replicaDSN)
	defer db.Close()
	if _, err := db.Exec(`UPDATE tickets SET position = 77 WHERE id = $1`, onlyOnReplica.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LookupTicket(ctx, room, onlyOnReplica.ID); err != nil || got.Position != 77 {
		t.Fatalf("lookup did not read the replica: %+v, %v", got, err)
	}
	// Admission reads (Ticket) never go there.
	if _, err := s.Ticket(ctx, room, onlyOnReplica.ID); waitroom.ErrorCode(err) != waitroom.CodeNotFound {
		t.Fatalf("Ticket read the replica: %v", err)
	}
}

// Without a replica, LookupTicket is Ticket.
func TestLookupWithoutReplica(t *testing.T) {
	t.Parallel()
	s := newBackend(t).open(t)
	room := mustRoom(t, s)
	written, _, err := s.Enqueue(ctx, room, newTicket(time.Now(), ""))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.LookupTicket(ctx, room, written.ID); err != nil || got != written {
		t.Fatalf("LookupTicket = %+v, %v; want %+v", got, err, written)
	}
}
