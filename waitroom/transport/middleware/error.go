package middleware

import (
	"fmt"
	"net/http"
	"time"
)

// Error is an answer a middleware refuses a request with. Code is the stable
// machine-readable code, Message the human explanation.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// ErrorWriter writes err as the answer to r.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)
