package waitroom

import (
	"errors"
	"fmt"
)

// Code classifies an error so that transports can map it to a status without
// knowing which backend produced it. Codes are stable: they appear on the
// wire as the "error" field of JSON answers.
type Code string

const (
	// CodeNotFound: the room, ticket or token does not exist (or belongs to a
	// generation of the room before its last reset).
	CodeNotFound Code = "not_found"
	// CodeInvalid: the caller's input is malformed (non-UUID id, negative
	// validity, unknown status, ...). Nothing was written.
	CodeInvalid Code = "invalid_argument"
	// CodeConflict: the operation conflicts with the current state (room
	// already exists, session status already set).
	CodeConflict Code = "conflict"
	// CodeUnavailable: a backing service did not answer. Nothing was
	// acknowledged; the caller may retry.
	CodeUnavailable Code = "unavailable"
	// CodeNotServed: the ticket's position is above the serving counter.
	CodeNotServed Code = "not_served"
	// CodeExpired: the queue position expired before a token was issued, or
	// the token itself expired.
	CodeExpired Code = "expired"
	// CodeSessionClosed: the session was already completed or abandoned.
	CodeSessionClosed Code = "session_closed"
	// CodeExpiryDisabled: queue-position expiry is off for the room.
	CodeExpiryDisabled Code = "expiry_disabled"
	// CodeCanceled: the caller gave up (its context was canceled, e.g. the
	// client hung up) before the answer was ready. Not an outage: nothing
	// is counted or logged as a store error.
	CodeCanceled Code = "canceled"
	// CodeChallengeRequired: the room's bot gate asks for a proof of work
	// (or a CAPTCHA token) the call did not carry.
	CodeChallengeRequired Code = "challenge_required"
	// CodeChallengeInvalid: the proof of work or CAPTCHA token is wrong,
	// stale or for another room.
	CodeChallengeInvalid Code = "challenge_invalid"
	// CodeChallengeReplayed: the solved challenge was already used.
	CodeChallengeReplayed Code = "challenge_replayed"
	// CodeCaptchaUnavailable: the CAPTCHA provider did not answer; the gate
	// stays closed.
	CodeCaptchaUnavailable Code = "captcha_unavailable"
	// CodeTooManyPlaces: this visitor already took as many places in the
	// room as it allows.
	CodeTooManyPlaces Code = "too_many_places"
	// CodeInternal: anything else. Its message is never shown to clients.
	CodeInternal Code = "internal"
)

// Error is the error type of the queue core. Message is safe to show to a
// client; Err (the cause, possibly a driver error) is for logs only.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) match any
// *Error of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == "" && t.Err == nil
}

// Sentinels for errors.Is. They carry no message: compare, never return them
// as they are.
var (
	ErrNotFound       = &Error{Code: CodeNotFound}
	ErrInvalid        = &Error{Code: CodeInvalid}
	ErrConflict       = &Error{Code: CodeConflict}
	ErrUnavailable    = &Error{Code: CodeUnavailable}
	ErrNotServed      = &Error{Code: CodeNotServed}
	ErrExpired        = &Error{Code: CodeExpired}
	ErrSessionClosed  = &Error{Code: CodeSessionClosed}
	ErrExpiryDisabled = &Error{Code: CodeExpiryDisabled}
	ErrCanceled       = &Error{Code: CodeCanceled}
)

// Errorf builds an *Error with a client-safe message.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error that keeps cause for logs and shows only msg.
func Wrap(code Code, cause error, msg string) error {
	return &Error{Code: code, Message: msg, Err: cause}
}

// ErrorCode returns the Code of err, CodeInternal for foreign errors.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err; foreign errors get a
// generic text so that internals never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	if errors.As(err, &e) {
		return string(e.Code)
	}
	return "internal error"
}
