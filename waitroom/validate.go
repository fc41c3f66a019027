package waitroom

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Input limits.
const (
	maxIdempotencyKey = 200
	maxIssuer         = 2048
	maxCursor         = 256
	// MaxExpiredPage is the largest page ExpiredTokens returns.
	MaxExpiredPage = 1000
	// DefaultExpiredPage is the page size when the caller asks for 0.
	DefaultExpiredPage = 100
	maxTokenValidity   = 31 * 24 * time.Hour
)

var (
	errInvalidRoomID    = Errorf(CodeInvalid, "invalid event_id")
	errInvalidRequestID = Errorf(CodeInvalid, "invalid request_id: want a UUID")
)

// requestID returns id in canonical lower-case form, or CodeInvalid. Only
// the 36-character form is accepted: ids end up in keys and URLs.
func requestID(id string) (string, error) {
	if len(id) != 36 {
		return "", errInvalidRequestID
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", errInvalidRequestID
	}
	return u.String(), nil
}

// roomAndRequest validates both ids of a per-ticket call.
func roomAndRequest(room, id string) (string, error) {
	if !ValidRoomID(room) {
		return "", errInvalidRoomID
	}
	return requestID(id)
}

func validIssuer(iss string) error {
	if len(iss) > maxIssuer || strings.ContainsAny(iss, "\x00\r\n") {
		return Errorf(CodeInvalid, "invalid issuer")
	}
	return nil
}

func validValidity(d time.Duration) error {
	if d < 0 || d > maxTokenValidity {
		return Errorf(CodeInvalid, "validity_period: between 1s and 744h")
	}
	if d > 0 && d < time.Second {
		return Errorf(CodeInvalid, "validity_period: between 1s and 744h")
	}
	return nil
}
