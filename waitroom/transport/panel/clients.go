package panel

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The OpenID clients of the provider are kept behind the provider's client
// admin API (GET/POST /v1/clients, PATCH/DELETE /v1/clients/{id}, POST
// /v1/clients/{id}/secret). The panel calls that handler in-process, so
// validation and secret handling stay in one place.

// client is the part of a client the panel shows and edits.
type client struct {
	ID                     string   `json:"id"`
	Name                   string   `json:"name,omitempty"`
	Room                   string   `json:"room"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Subject                string   `json:"subject,omitempty"`
	MaxHold                string   `json:"max_hold,omitempty"`
	InitiateLoginURI       string   `json:"initiate_login_uri,omitempty"`
	Secret                 string   `json:"secret,omitempty"`
	Source                 string   `json:"source,omitempty"`
}

// ReadOnly: clients from the configuration file change only there.
func (c client) ReadOnly() bool { return c.Source == "config" }

// callClients runs one request against the client admin API; a non-2xx
// answer becomes an error with the API's client-safe message.
func (p *Panel) callClients(ctx context.Context, method, path string, body, out any) error {
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			return err
		}
	}
	req := httptest.NewRequestWithContext(ctx, method, path, &buf)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	p.opts.Clients.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		var e struct {
			Code    waitroom.Code `json:"code"`
			Message string        `json:"message"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if e.Code == "" {
			e.Code = waitroom.CodeInternal
		}
		return &waitroom.Error{Code: e.Code, Message: e.Message}
	}
	if out == nil || rec.Code == http.StatusNoContent {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

func (p *Panel) requireClients() error {
	if p.opts.Clients == nil {
		return errNotFound
	}
	return nil
}

type clientsView struct {
	base
	Clients []client
	Rooms   []waitroom.Room
	Edit    client
	Problem string
	// Secret is shown once, after a create or a rotation.
	Secret string
}

func (p *Panel) clientList(w http.ResponseWriter, r *http.Request) error {
	return p.showClients(w, r, http.StatusOK, client{Subject: "ticket"}, "", "")
}

func (p *Panel) showClients(w http.ResponseWriter, r *http.Request, status int, edit client, problem, secret string) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	var list struct {
		Clients []client `json:"clients"`
	}
	if err := p.callClients(r.Context(), http.MethodGet, "/v1/clients", nil, &list); err != nil {
		return err
	}
	rooms, err := p.opts.Service.Rooms(r.Context())
	if err != nil {
		return err
	}
	lp := p.langs.Negotiate(r)
	v := clientsView{base: p.base(r, lp.T("panel.clients.title")), Clients: list.Clients, Rooms: rooms, Edit: edit, Problem: problem, Secret: secret}
	if done := r.URL.Query().Get("done"); validFlash[done] {
		v.Flash = lp.T("panel.done." + done)
	}
	return p.render(w, status, "panel/clients.html", v)
}

// clientFromForm reads the client form; lists are one URL per line.
func clientFromForm(f url.Values) client {
	return client{
		ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Room: f.Get("room"),
		RedirectURIs: lines(f.Get("redirect_uris")), PostLogoutRedirectURIs: lines(f.Get("post_logout_redirect_uris")),
		Subject: f.Get("subject"), MaxHold: strings.TrimSpace(f.Get("max_hold")),
		InitiateLoginURI: strings.TrimSpace(f.Get("initiate_login_uri")),
	}
}

func lines(s string) []string {
	out := []string{}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (p *Panel) createClient(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	c := clientFromForm(r.PostForm)
	if c.MaxHold == "" {
		c.MaxHold = "0s"
	}
	var created client
	if err := p.callClients(r.Context(), http.MethodPost, "/v1/clients", c, &created); err != nil {
		return p.refuseClient(w, r, c, err)
	}
	p.audit(r, "client_create", "client", created.ID)
	return p.showClients(w, r, http.StatusCreated, client{Subject: "ticket"}, "", created.ID+": "+created.Secret)
}

func (p *Panel) updateClient(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	c := clientFromForm(r.PostForm)
	c.ID = id
	if c.MaxHold == "" {
		c.MaxHold = "0s"
	}
	if err := p.callClients(r.Context(), http.MethodPatch, "/v1/clients/"+url.PathEscape(id), c, nil); err != nil {
		return p.refuseClient(w, r, c, err)
	}
	p.audit(r, "client_update", "client", id)
	http.Redirect(w, r, p.opts.Prefix+"/clients?done=client", http.StatusSeeOther)
	return nil
}

func (p *Panel) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	var rotated client
	if err := p.callClients(r.Context(), http.MethodPost, "/v1/clients/"+url.PathEscape(id)+"/secret", nil, &rotated); err != nil {
		return p.refuseClient(w, r, client{Subject: "ticket"}, err)
	}
	p.audit(r, "client_secret", "client", id)
	return p.showClients(w, r, http.StatusOK, client{Subject: "ticket"}, "", rotated.ID+": "+rotated.Secret)
}

func (p *Panel) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	if r.PostForm.Get("confirm") != id {
		return p.showClients(w, r, http.StatusBadRequest, client{Subject: "ticket"}, p.langs.Negotiate(r).T("panel.clients.delete_mismatch"), "")
	}
	if err := p.callClients(r.Context(), http.MethodDelete, "/v1/clients/"+url.PathEscape(id), nil, nil); err != nil {
		return p.refuseClient(w, r, client{Subject: "ticket"}, err)
	}
	p.audit(r, "client_delete", "client", id)
	http.Redirect(w, r, p.opts.Prefix+"/clients?done=client_deleted", http.StatusSeeOther)
	return nil
}

// refuseClient re-shows the form with the API's reason.
func (p *Panel) refuseClient(w http.ResponseWriter, r *http.Request, c client, err error) error {
	switch waitroom.ErrorCode(err) {
	case waitroom.CodeInvalid, waitroom.CodeConflict, waitroom.CodeNotFound:
		return p.showClients(w, r, http.StatusBadRequest, c, waitroom.ErrorMessage(err), "")
	}
	return err
}
