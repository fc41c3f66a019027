package panel

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// call runs one request against an admin handler in-process, as the
// operator of r (its context carries the actor), and decodes the answer
// into out; any non-2xx answer is a *web.Problem with the API's status,
// code and message.
func (p *Panel) call(r *http.Request, h http.Handler, method, path string, body, out any) error {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return err
		}
	}
	req := httptest.NewRequestWithContext(r.Context(), method, path, &buf)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		var body struct{ Code, Message string }
		if json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Code == "" {
			body.Code, body.Message = "internal", "internal error"
		}
		return &web.Problem{Status: rec.Code, Code: body.Code, Message: body.Message}
	}
	if out == nil || rec.Code == http.StatusNoContent {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// admin calls the admin REST API.
func (p *Panel) admin(r *http.Request, method, path string, body, out any) error {
	return p.call(r, p.opts.Admin, method, path, body, out)
}

// problemOf is the message a refused form shows: the API's own for what
// an operator can fix (bad input, a conflict), nothing for the rest,
// which the caller returns as an error page.
func problemOf(err error) (string, bool) {
	pr, ok := err.(*web.Problem)
	if !ok || pr.Status >= 500 || pr.Status == http.StatusUnauthorized || pr.Status == http.StatusForbidden {
		return "", false
	}
	return pr.Message, true
}
