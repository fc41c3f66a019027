package redispg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// mapErr turns a PostgreSQL or Redis driver error into a *waitroom.Error.
// It is the backend's only mapping of driver errors; msg is what a client
// may see, the driver text stays in Err for the logs.
func mapErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	var we *waitroom.Error
	if errors.As(err, &we) {
		return err
	}
	return waitroom.Wrap(classify(err), err, msg)
}

// mapRecordErr is mapErr for one kind of record: a missing one is "<what>
// not found", a duplicate "<what> already exists".
func mapRecordErr(err error, what string) error {
	if err == nil {
		return nil
	}
	switch classify(err) {
	case waitroom.CodeNotFound:
		return waitroom.Wrap(waitroom.CodeNotFound, err, what+" not found")
	case waitroom.CodeConflict:
		return waitroom.Wrap(waitroom.CodeConflict, err, what+" already exists")
	}
	return mapErr(err, what)
}

func classify(err error) waitroom.Code {
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up (a client hung up): not an outage.
		return waitroom.CodeCanceled
	case errors.Is(err, redis.Nil), errors.Is(err, sql.ErrNoRows):
		return waitroom.CodeNotFound
	case unavailable(err):
		return waitroom.CodeUnavailable
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return classifyPQ(pe)
	}
	return waitroom.CodeInternal
}

func unavailable(err error) bool {
	var ne net.Error
	var lost *replyLostError
	switch {
	case errors.As(err, &lost):
		return true
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrClosed), errors.Is(err, sql.ErrConnDone), errors.As(err, &ne):
		return true
	}
	// Redis answers these while it cannot serve (loading a dump, cluster
	// resharding, replica without master).
	msg := err.Error()
	for _, p := range []string{"LOADING ", "CLUSTERDOWN ", "TRYAGAIN ", "MASTERDOWN ", "READONLY ", "redis: connection pool timeout"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func classifyPQ(pe *pq.Error) waitroom.Code {
	switch {
	case pe.Code == "23505": // unique_violation
		return waitroom.CodeConflict
	case pe.Code.Class() == "08", // connection exception
		pe.Code.Class() == "53",                // insufficient resources
		pe.Code.Class() == "57",                // operator intervention (shutdown, cancel)
		pe.Code == "40001", pe.Code == "40P01": // serialization failure, deadlock: retry
		return waitroom.CodeUnavailable
	}
	return waitroom.CodeInternal
}

func notFound(what string) error { return waitroom.Errorf(waitroom.CodeNotFound, "%s not found", what) }

func isNotFound(err error) bool { return waitroom.ErrorCode(err) == waitroom.CodeNotFound }
