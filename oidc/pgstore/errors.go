package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"net"

	"github.com/lib/pq"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// mapErr turns a driver error into a *waitroom.Error; the only place that
// knows driver types. what names the object for the client-safe message.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var we *waitroom.Error
	if errors.As(err, &we) {
		return err
	}
	var pe *pq.Error
	var ne net.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return waitroom.Wrap(waitroom.CodeNotFound, err, what+" not found")
	case errors.As(err, &pe) && pe.Code == "23505":
		return waitroom.Wrap(waitroom.CodeConflict, err, what+" already exists")
	case errors.As(err, &pe) && (pe.Code.Class() == "08" || pe.Code.Class() == "57" || pe.Code.Class() == "53"):
		return waitroom.Wrap(waitroom.CodeUnavailable, err, "database unavailable")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, sql.ErrConnDone),
		errors.As(err, &ne):
		return waitroom.Wrap(waitroom.CodeUnavailable, err, "database unavailable")
	}
	return waitroom.Wrap(waitroom.CodeInternal, err, what)
}
