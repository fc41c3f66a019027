package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/middleware"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// serve answers one request whose handler fails with err, through the
// Entry middleware (which observes the status and the error code).
func serve(t *testing.T, err error, render func(w http.ResponseWriter, r *http.Request, err error)) (*httptest.ResponseRecorder, middleware.Observation) {
	t.Helper()
	var obs middleware.Observation
	h := middleware.Entry(slog.New(slog.DiscardHandler), nil, func(o middleware.Observation) { obs = o })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { render(w, r, err) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec, obs
}

// TestOneTable: every domain code has one status, whichever rendering
// answers; outages carry Retry-After, errors are never cached, internals
// never shown.
func TestOneTable(t *testing.T) {
	cases := []struct {
		code   waitroom.Code
		status int
		oauth  string
	}{
		{waitroom.CodeNotFound, 404, "invalid_grant"},
		{waitroom.CodeInvalid, 400, "invalid_request"},
		{waitroom.CodeConflict, 409, "invalid_request"},
		{waitroom.CodeUnavailable, 503, "temporarily_unavailable"},
		{waitroom.CodeNotServed, 202, "invalid_grant"},
		{waitroom.CodeExpired, 410, "invalid_grant"},
		{waitroom.CodeSessionClosed, 410, "invalid_grant"},
		{waitroom.CodeExpiryDisabled, 202, "invalid_request"},
		{waitroom.CodeCanceled, web.StatusClientClosed, "invalid_request"},
		{waitroom.CodeInternal, 500, "server_error"},
	}
	secret := errors.New("dial tcp 10.0.0.7:5432: secret detail")
	for _, c := range cases {
		err := waitroom.Wrap(c.code, secret, "what went wrong")
		rest, _ := serve(t, err, web.Error)
		oauth, _ := serve(t, err, web.OAuthError)
		page, _ := serve(t, err, func(w http.ResponseWriter, r *http.Request, err error) {
			web.Page(w, r, err, func(w http.ResponseWriter, _ *http.Request, p *web.Problem) error {
				w.WriteHeader(p.Status)
				_, err := w.Write([]byte("<p>" + p.Message + "</p>"))
				return err
			})
		})
		for name, rec := range map[string]*httptest.ResponseRecorder{"rest": rest, "oauth": oauth, "page": page} {
			if rec.Code != c.status {
				t.Errorf("%s %s: status %d, want %d", c.code, name, rec.Code, c.status)
			}
			if rec.Header().Get("Cache-Control") != web.NoStore {
				t.Errorf("%s %s: Cache-Control %q", c.code, name, rec.Header().Get("Cache-Control"))
			}
			if (rec.Header().Get("Retry-After") == "2") != (c.code == waitroom.CodeUnavailable) {
				t.Errorf("%s %s: Retry-After %q", c.code, name, rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "10.0.0.7") {
				t.Errorf("%s %s leaks the cause: %s", c.code, name, rec.Body)
			}
		}
		var body map[string]string
		if err := json.Unmarshal(rest.Body.Bytes(), &body); err != nil || body["code"] != string(c.code) || body["error"] != string(c.code) {
			t.Errorf("%s rest body %s", c.code, rest.Body)
		}
		if err := json.Unmarshal(oauth.Body.Bytes(), &body); err != nil || body["error"] != c.oauth {
			t.Errorf("%s oauth body %s", c.code, oauth.Body)
		}
	}
}

// TestHangUpIsNotAnOutage: a request whose client left is a 499 noted as
// "canceled", not a 503 counted with the store errors.
func TestHangUpIsNotAnOutage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := waitroom.Wrap(waitroom.CodeCanceled, ctx.Err(), "the request ended before the ticket was stored")
	rec, obs := serve(t, err, web.Error)
	if rec.Code != web.StatusClientClosed || obs.Status != web.StatusClientClosed || obs.ErrorCode != "canceled" {
		t.Fatalf("status %d, observed %+v", rec.Code, obs)
	}
	_, obs = serve(t, waitroom.Wrap(waitroom.CodeUnavailable, errors.New("refused"), "down"), web.Error)
	if obs.ErrorCode != "unavailable" || obs.Status != http.StatusServiceUnavailable {
		t.Fatalf("an outage observed as %+v", obs)
	}
}

// TestProblemKeepsItsAnswer: a transport's own answer keeps its status,
// wording and headers; the AWS wording goes in "error".
func TestProblemKeepsItsAnswer(t *testing.T) {
	p := &web.Problem{Status: http.StatusBadRequest, Code: "not_found", Text: "Invalid event ID", Message: "no such room",
		Header: http.Header{"Www-Authenticate": {"Bearer"}}}
	rec, _ := serve(t, p, web.Error)
	if rec.Code != 400 || rec.Header().Get("Www-Authenticate") != "Bearer" ||
		!strings.Contains(rec.Body.String(), `"error":"Invalid event ID","code":"not_found","message":"no such room"`) {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// TestJSONEncodesBeforeTheStatus: a value that cannot be encoded is a
// clean 500, never an empty 200.
func TestJSONEncodesBeforeTheStatus(t *testing.T) {
	rec := httptest.NewRecorder()
	web.JSON(rec, http.StatusOK, web.MaxAge(2e9), map[string]any{"bad": func() {}})
	if rec.Code != 500 || rec.Header().Get("Cache-Control") != web.NoStore || !strings.Contains(rec.Body.String(), `"internal"`) {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
	}
}
