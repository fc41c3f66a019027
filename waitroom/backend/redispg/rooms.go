package redispg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// roomErr maps "no row" to an unknown room and anything else through mapErr.
func roomErr(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("room")
	}
	return mapErr(err, msg)
}

// CreateRoom stores the room document and its zeroed room_state, then
// writes its fresh counters to Redis (replacing any leftover of a deleted
// room of the same id).
func (s *Store) CreateRoom(ctx context.Context, room waitroom.Room) error {
	doc, err := json.Marshal(room)
	if err != nil {
		return waitroom.Wrap(waitroom.CodeInternal, err, "the room could not be stored")
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (id, doc) VALUES ($1, $2)`, room.ID, string(doc)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO room_state (room) VALUES ($1)`, room.ID)
		return err
	})
	if waitroom.ErrorCode(mapErr(err, "")) == waitroom.CodeConflict {
		return waitroom.Wrap(waitroom.CodeConflict, err, "a room with this id already exists")
	}
	if err != nil {
		return mapErr(err, "the room could not be stored")
	}
	// Leftovers of a deleted room of the same id go first: nothing of them
	// may carry over into the new room.
	err = s.rdb.Del(ctx, s.countersKey(room.ID), s.activeKey(room.ID)).Err()
	if err == nil {
		_, err = s.writeFast(ctx, room.ID, roomState{}, "", false)
	}
	if err != nil {
		s.markStale(room.ID, err) // the room exists; Redis catches up
	}
	return nil
}

// Room returns one room.
func (s *Store) Room(ctx context.Context, id string) (waitroom.Room, error) {
	var doc []byte
	err := s.db.GetContext(ctx, &doc, `SELECT doc FROM rooms WHERE id = $1`, id)
	if err != nil {
		return waitroom.Room{}, roomErr(err, "the room could not be read")
	}
	return decodeRoom(doc)
}

// Rooms returns every room, ordered by id.
func (s *Store) Rooms(ctx context.Context) ([]waitroom.Room, error) {
	var docs [][]byte
	if err := s.db.SelectContext(ctx, &docs, `SELECT doc FROM rooms ORDER BY id COLLATE "C"`); err != nil {
		return nil, mapErr(err, "the rooms could not be read")
	}
	rooms := make([]waitroom.Room, 0, len(docs))
	for _, d := range docs {
		r, err := decodeRoom(d)
		if err != nil {
			return nil, err
		}
		rooms = append(rooms, r)
	}
	return rooms, nil
}

// UpdateRoom reads the room under a row lock, applies fn and writes the
// result. Keys of the stored document that this version of the code does
// not know (written by a newer replica during a rolling upgrade) survive;
// every key it knows is replaced, so a setting fn cleared (omitted from the
// new document) is cleared.
func (s *Store) UpdateRoom(ctx context.Context, id string, fn func(*waitroom.Room) error) (waitroom.Room, error) {
	var updated waitroom.Room
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var doc []byte
		if err := tx.GetContext(ctx, &doc, `SELECT doc FROM rooms WHERE id = $1 FOR UPDATE`, id); err != nil {
			return roomErr(err, "the room could not be read")
		}
		r, err := decodeRoom(doc)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return callerError{err}
		}
		r.ID = id // the id is the key; fn cannot move the room
		next, err := json.Marshal(r)
		if err != nil {
			return waitroom.Wrap(waitroom.CodeInternal, err, "the room could not be stored")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET doc = (doc - $3::text[]) || $2::jsonb, updated_at = now() WHERE id = $1`,
			id, string(next), roomKeys); err != nil {
			return err
		}
		updated = r
		return nil
	})
	var ce callerError
	if errors.As(err, &ce) {
		return waitroom.Room{}, ce.err // fn's error, as it is
	}
	if err != nil {
		return waitroom.Room{}, mapErr(err, "the room could not be updated")
	}
	return updated, nil
}

// callerError carries an error of the caller's callback through a
// transaction untouched by mapErr.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

// DeleteRoom removes the room and everything of it, durable rows first,
// then the Redis keys.
func (s *Store) DeleteRoom(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("room")
		}
		for _, table := range []string{"tickets", "tokens", "serving_history"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE room = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return mapErr(err, "the room could not be deleted")
	}
	s.lastCounters.Delete(id)
	if err := s.rdb.Del(ctx, s.countersKey(id), s.activeKey(id)).Err(); err != nil {
		return mapErr(err, "the room's counters could not be deleted")
	}
	return nil
}

func decodeRoom(doc []byte) (waitroom.Room, error) {
	var r waitroom.Room
	if err := json.Unmarshal(doc, &r); err != nil {
		return r, waitroom.Wrap(waitroom.CodeInternal, err, "a stored room could not be read")
	}
	return r, nil
}

// inTx runs fn in a transaction, committing if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// roomKeys lists the top-level keys of a room document that this version
// writes: the JSON names of waitroom.Room's fields, those of its embedded
// structs (Policy) included.
var roomKeys = pq.StringArray(jsonKeys(reflect.TypeFor[waitroom.Room]()))

func jsonKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			keys = append(keys, jsonKeys(f.Type)...)
		case name == "":
			keys = append(keys, f.Name)
		default:
			keys = append(keys, name)
		}
	}
	return keys
}
