package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi/middleware"
)

// errorBody is the JSON of every error answer.
//
// Error is what AWS clients read: the AWS message on the paths where the AWS
// solution defined one ("Invalid event ID"), the stable code elsewhere. Code
// is always the stable code (waitroom.Code or a transport code such as
// "rate_limited"), Message a human explanation that never holds internals.
type errorBody struct {
	Error   string `json:"error"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiError is an answer a handler chose for one path: the AWS wording and
// status of a domain error, or a transport problem (bad JSON, no admin key).
type apiError struct {
	status  int
	text    string
	code    string
	message string
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.code + ": " + e.message + ": " + e.cause.Error()
	}
	return e.code + ": " + e.message
}

func (e *apiError) Unwrap() error { return e.cause }

// statusOf maps each domain code to its default HTTP status. AWS paths
// override some of them (an unknown event is 400 there, not 404).
var statusOf = map[waitroom.Code]int{
	waitroom.CodeNotFound:       http.StatusNotFound,
	waitroom.CodeInvalid:        http.StatusBadRequest,
	waitroom.CodeConflict:       http.StatusConflict,
	waitroom.CodeUnavailable:    http.StatusServiceUnavailable,
	waitroom.CodeNotServed:      http.StatusAccepted,
	waitroom.CodeExpired:        http.StatusGone,
	waitroom.CodeSessionClosed:  http.StatusGone,
	waitroom.CodeExpiryDisabled: http.StatusAccepted,
	waitroom.CodeInternal:       http.StatusInternalServerError,
}

// retryAfterSeconds is what a client is told to wait after a 503: long
// enough for a Redis or PostgreSQL fail-over to make progress, short enough
// that a waiting visitor does not notice.
const retryAfterSeconds = 2

// answerFor decides the status and body of err. It is the one place that
// maps error codes to statuses.
func answerFor(err error) (int, errorBody, *middleware.Error) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, errorBody{Error: ae.text, Code: ae.code, Message: ae.message}, nil
	}
	var me *middleware.Error
	if errors.As(err, &me) {
		return me.Status, errorBody{Error: me.Code, Code: me.Code, Message: me.Message}, me
	}
	code := waitroom.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = waitroom.CodeInternal, http.StatusInternalServerError
	}
	msg := waitroom.ErrorMessage(err)
	switch code {
	case waitroom.CodeInternal:
		msg = "internal error"
	case waitroom.CodeUnavailable:
		msg = "a backing service is unavailable, retry shortly"
	}
	return status, errorBody{Error: string(code), Code: string(code), Message: msg}, nil
}

// writeError answers r with err. Internal causes are logged here and never
// sent: the body holds only the code and a client-safe message.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body, me := answerFor(err)
	a.logError(r, status, body, err)
	h := w.Header()
	switch {
	case me != nil && me.RetryAfter > 0:
		h.Set("Retry-After", strconv.Itoa(ceilSeconds(me.RetryAfter)))
	case status == http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	case status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="waitroom-admin"`)
	}
	writeJSON(w, status, noStore, body)
}

func (a *API) logError(r *http.Request, status int, body errorBody, err error) {
	if status < 500 {
		middleware.LoggerFrom(r.Context()).Debug("request failed", "status", status, "code", body.Code, "err", err.Error())
		return
	}
	a.metrics.storeErrors.WithLabelValues(body.Code).Inc()
	suppressed, ok := a.outageLog.allow(status)
	if !ok {
		return
	}
	middleware.LoggerFrom(r.Context()).Error("request failed", "status", status, "code", body.Code, "err", err.Error(),
		"similar_errors_not_logged", suppressed)
}

// outageLog lets through one 503 log line per second: during an outage of
// Redis or PostgreSQL every request fails the same way, and a line each
// would bury the cause. (Other 5xx are bugs and always logged; the access
// log and waitroom_store_errors_total still count every failure.)
type outageLog struct {
	last       atomic.Int64 // unix nanoseconds of the last line
	suppressed atomic.Int64
}

func (l *outageLog) allow(status int) (suppressed int64, ok bool) {
	if status != http.StatusServiceUnavailable {
		return 0, true
	}
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(time.Second) || !l.last.CompareAndSwap(last, now) {
		l.suppressed.Add(1)
		return 0, false
	}
	return l.suppressed.Swap(0), true
}

// ceilSeconds rounds a wait up to whole seconds, at least one.
func ceilSeconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// invalid is a 400 for bad input found by the transport itself.
func invalid(message string) error {
	return &apiError{status: http.StatusBadRequest, text: string(waitroom.CodeInvalid),
		code: string(waitroom.CodeInvalid), message: message}
}

// awsText is the status and wording the AWS solution used for one code on
// one path.
type awsText struct {
	status int
	text   string
}

// awsTexts rewrites domain errors into the AWS answers of one path; codes it
// does not list keep their default answer.
type awsTexts map[waitroom.Code]awsText

func (t awsTexts) wrap(err error) error {
	if err == nil {
		return nil
	}
	code := waitroom.ErrorCode(err)
	at, ok := t[code]
	if !ok {
		return err
	}
	return &apiError{status: at.status, text: at.text, code: string(code), message: waitroom.ErrorMessage(err), cause: err}
}
