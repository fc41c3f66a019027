// Package web is the one boundary between waitroom's HTTP handlers and the
// wire. Handlers return errors; this package alone turns an error into a
// status, headers and a body, from one table (Classify), in one of three
// renderings: REST JSON with the AWS wording where a path asks for it
// (Error), an OAuth 2 error (OAuthError), or an HTML page drawn by the
// caller's template (Page). It also writes every JSON answer (JSON), so
// that a body is always encoded before its status is sent.
package web

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
)

// Problem is an answer a transport chose for a request it refuses, or the
// classified form of any error (Classify).
type Problem struct {
	Status int
	// Code is the stable machine-readable code: a waitroom.Code, or a
	// transport code (rate_limited, unauthorized, method_not_allowed, ...).
	Code string
	// Message says what is wrong; it is safe to show and never holds
	// internals. Pages may pass a message-catalogue key.
	Message string
	// Text is the "error" field of the REST rendering where the AWS API
	// defined a wording ("Invalid event ID"); Code when empty.
	Text string
	// OAuth is the OAuth 2 error code of the OAuth rendering
	// (invalid_request, invalid_grant, ...); derived from Status when empty.
	OAuth string
	// Title is a page's heading (a catalogue key) for the HTML rendering.
	Title string
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Header holds more headers for the answer (WWW-Authenticate, Allow).
	Header http.Header
	// Challenge, when set, is sent as the REST answer's "challenge": what
	// a room's bot gate asks the client to solve before it tries again.
	Challenge any
	// Cause is kept for the logs only.
	Cause error
	// Expected marks a 5xx that is a deliberate answer, not a failure (the
	// gate's "busy, retry later" to a visitor without admission): logged
	// at debug level like a client error.
	Expected bool
}

func (p *Problem) Error() string {
	if p.Cause != nil {
		return p.Code + ": " + p.Message + ": " + p.Cause.Error()
	}
	return p.Code + ": " + p.Message
}

func (p *Problem) Unwrap() error { return p.Cause }

// StatusClientClosed is the status of a request whose client hung up
// before the answer was ready (nginx's 499): nobody reads it, the access
// log and metrics do.
const StatusClientClosed = 499

// RetryAfter is what a client is told to wait after a 503: long enough for
// a Redis or PostgreSQL fail-over to make progress, short enough that a
// waiting visitor does not notice.
const RetryAfter = 2 * time.Second

// row is one line of the table: the status of a domain code and its OAuth
// error code.
type row struct {
	status int
	oauth  string
}

// statusOf is the one table from domain codes to answers. A path of the
// AWS API may answer with other wording and status for some codes (an
// unknown event is 400 there): it says so with a Problem.
var statusOf = map[waitroom.Code]row{
	waitroom.CodeNotFound:       {http.StatusNotFound, "invalid_grant"},
	waitroom.CodeInvalid:        {http.StatusBadRequest, "invalid_request"},
	waitroom.CodeConflict:       {http.StatusConflict, "invalid_request"},
	waitroom.CodeUnavailable:    {http.StatusServiceUnavailable, "temporarily_unavailable"},
	waitroom.CodeNotServed:      {http.StatusAccepted, "invalid_grant"},
	waitroom.CodeExpired:        {http.StatusGone, "invalid_grant"},
	waitroom.CodeSessionClosed:  {http.StatusGone, "invalid_grant"},
	waitroom.CodeExpiryDisabled: {http.StatusAccepted, "invalid_request"},
	waitroom.CodeCanceled:       {StatusClientClosed, "invalid_request"},
	waitroom.CodeInternal:       {http.StatusInternalServerError, "server_error"},

	waitroom.CodeChallengeRequired:  {http.StatusForbidden, "access_denied"},
	waitroom.CodeChallengeInvalid:   {http.StatusForbidden, "access_denied"},
	waitroom.CodeChallengeReplayed:  {http.StatusForbidden, "access_denied"},
	waitroom.CodeCaptchaUnavailable: {http.StatusServiceUnavailable, "temporarily_unavailable"},
	waitroom.CodeTooManyPlaces:      {http.StatusTooManyRequests, "access_denied"},
}

// Classify returns the answer for err: a Problem as it is, a middleware's
// refusal, or a domain error through the table. Internal and unavailable
// errors get generic messages: their causes are for the logs.
func Classify(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var offer challenger
	if errors.As(err, &offer) {
		p = classifyCode(err)
		p.Challenge = offer.ChallengeOffer()
		return p
	}
	var me *middleware.Error
	if errors.As(err, &me) {
		return &Problem{Status: me.Status, Code: me.Code, Message: me.Message, RetryAfter: me.RetryAfter, Cause: err}
	}
	return classifyCode(err)
}

// challenger is an error that carries a challenge for the client
// (admission.GateError).
type challenger interface{ ChallengeOffer() any }

// classifyCode is the table's answer for a domain error.
func classifyCode(err error) *Problem {
	code := waitroom.ErrorCode(err)
	r, ok := statusOf[code]
	if !ok {
		code, r = waitroom.CodeInternal, statusOf[waitroom.CodeInternal]
	}
	p := &Problem{Status: r.status, Code: string(code), Message: waitroom.ErrorMessage(err), OAuth: r.oauth, Cause: err}
	switch code {
	case waitroom.CodeInternal:
		p.Message = "internal error"
	case waitroom.CodeUnavailable:
		p.Message, p.RetryAfter = "a backing service is unavailable, retry shortly", RetryAfter
	case waitroom.CodeCaptchaUnavailable:
		p.RetryAfter = RetryAfter
	}
	return p
}

// Invalid is a 400 for bad input found by a transport.
func Invalid(message string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: string(waitroom.CodeInvalid), Message: message, OAuth: "invalid_request"}
}

// oauthCode is the OAuth error code of p.
func (p *Problem) oauthCode() string {
	switch {
	case p.OAuth != "":
		return p.OAuth
	case p.Status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case p.Status == http.StatusUnauthorized:
		return "invalid_client"
	case p.Status >= 500:
		return "server_error"
	}
	return "invalid_request"
}

// prepare classifies err, logs it, notes its code for the metrics and sets
// the headers every error answer carries.
func prepare(w http.ResponseWriter, r *http.Request, err error) *Problem {
	p := Classify(err)
	report(r, p, err)
	h := w.Header()
	for k, v := range p.Header {
		h[k] = v
	}
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(ceilSeconds(p.RetryAfter)))
	}
	h["Cache-Control"] = noStoreValue
	return p
}

// restBody is the JSON of every REST error answer.
type restBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Challenge any    `json:"challenge,omitempty"`
}

// Error answers r with err as REST JSON: {"error","code","message"}, where
// error is the AWS wording when the path gave one and the code otherwise.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	p := prepare(w, r, err)
	text := p.Text
	if text == "" {
		text = p.Code
	}
	JSON(w, p.Status, NoStore, restBody{Error: text, Code: p.Code, Message: p.Message, Challenge: p.Challenge})
}

// oauthBody is an OAuth 2 error (RFC 6749 §5.2).
type oauthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// OAuthError answers r with err as an OAuth 2 error.
func OAuthError(w http.ResponseWriter, r *http.Request, err error) {
	p := prepare(w, r, err)
	w.Header().Set("Pragma", "no-cache")
	JSON(w, p.Status, NoStore, oauthBody{Error: p.oauthCode(), Description: p.Message})
}

// PageRenderer draws an error page with status p.Status.
type PageRenderer func(w http.ResponseWriter, r *http.Request, p *Problem) error

// Page answers r with err as an HTML page drawn by render.
func Page(w http.ResponseWriter, r *http.Request, err error, render PageRenderer) {
	p := prepare(w, r, err)
	if rerr := render(w, r, p); rerr != nil {
		middleware.LoggerFrom(r.Context()).Error("rendering an error page failed", "err", rerr)
	}
}

// Handler is a handler that returns its error instead of writing it.
type Handler func(w http.ResponseWriter, r *http.Request) error

// JSONHandler serves h, answering its errors as REST JSON.
func JSONHandler(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, err)
		}
	})
}

// OAuthHandler serves h, answering its errors as OAuth 2 errors.
func OAuthHandler(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			OAuthError(w, r, err)
		}
	})
}

// PageHandler serves h, answering its errors as pages drawn by render.
func PageHandler(h Handler, render PageRenderer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Page(w, r, err, render)
		}
	})
}

// report logs err once: client errors and hang-ups at debug level,
// outages once a second (during one every request fails the same way, and
// a line each would bury the cause), anything else as an error. The code
// goes to the request's metrics.
func report(r *http.Request, p *Problem, err error) {
	ctx := r.Context()
	if info := middleware.InfoFrom(ctx); info != nil {
		info.ErrorCode = p.Code
	}
	log := middleware.LoggerFrom(ctx)
	switch {
	case p.Status < 500 || p.Expected:
		log.Debug("request refused", "status", p.Status, "code", p.Code, "err", err.Error())
	case p.Status == http.StatusServiceUnavailable:
		if suppressed, ok := outages.allow(); ok {
			log.Error("request failed", "status", p.Status, "code", p.Code, "err", err.Error(), "similar_errors_not_logged", suppressed)
		}
	default:
		log.Error("request failed", "status", p.Status, "code", p.Code, "err", err.Error())
	}
}

// outageLog lets one line a second through.
type outageLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int64
}

var outages outageLog

func (l *outageLog) allow() (suppressed int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last) < time.Second {
		l.suppressed++
		return 0, false
	}
	l.last, suppressed, l.suppressed = now, l.suppressed, 0
	return suppressed, true
}

// ceilSeconds rounds a wait up to whole seconds, at least one.
func ceilSeconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}
