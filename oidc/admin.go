package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// AdminRoutes registers the client API on the admin router:
//
//	GET    /v1/clients              every client (config file and API)
//	POST   /v1/clients              create; the answer shows the secret once
//	GET    /v1/clients/{id}
//	PATCH  /v1/clients/{id}         merge the given fields
//	POST   /v1/clients/{id}/secret  rotate the secret; shown once
//	DELETE /v1/clients/{id}
//
// Clients from the config file are read-only (409). Authentication is the
// admin listener's business.
func (p *Provider) AdminRoutes(r *mux.Router) {
	r.Handle("/v1/clients", p.admin(p.listClients)).Methods(http.MethodGet)
	r.Handle("/v1/clients", p.admin(p.createClient)).Methods(http.MethodPost)
	r.Handle("/v1/clients/{id}", p.admin(p.getClient)).Methods(http.MethodGet)
	r.Handle("/v1/clients/{id}", p.admin(p.patchClient)).Methods(http.MethodPatch)
	r.Handle("/v1/clients/{id}/secret", p.admin(p.rotateSecret)).Methods(http.MethodPost)
	r.Handle("/v1/clients/{id}", p.admin(p.deleteClient)).Methods(http.MethodDelete)
}

// AdminHandler serves the client API on its own.
func (p *Provider) AdminHandler() http.Handler {
	r := mux.NewRouter()
	p.AdminRoutes(r)
	return r
}

// admin adapts an admin handler; errors are answered as the admin API
// answers them: {"error", "code", "message"} with the code's status.
func (p *Provider) admin(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.writeAdminError(w, r, err)
		}
	})
}

var adminStatus = map[waitroom.Code]int{
	waitroom.CodeNotFound:    http.StatusNotFound,
	waitroom.CodeInvalid:     http.StatusBadRequest,
	waitroom.CodeConflict:    http.StatusConflict,
	waitroom.CodeUnavailable: http.StatusServiceUnavailable,
}

func (p *Provider) writeAdminError(w http.ResponseWriter, r *http.Request, err error) {
	code := waitroom.ErrorCode(err)
	status, ok := adminStatus[code]
	if !ok {
		p.log.ErrorContext(r.Context(), "client admin error", "error", err)
		code, status = waitroom.CodeInternal, http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": string(code), "code": string(code), "message": waitroom.ErrorMessage(err)})
}

func (p *Provider) listClients(w http.ResponseWriter, r *http.Request) error {
	stored, err := p.store.Clients(r.Context())
	if err != nil {
		return err
	}
	out := make([]Client, 0, len(stored)+len(p.clients.fixed))
	for _, c := range p.clients.fixed {
		out = append(out, c.Public())
	}
	for _, c := range stored {
		out = append(out, c.Public())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string][]Client{"clients": out})
	return nil
}

func (p *Provider) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := p.clients.get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, c.Public())
	return nil
}

// createClient stores a new client. Without a secret one is generated; it
// is shown in this answer only.
func (p *Provider) createClient(w http.ResponseWriter, r *http.Request) error {
	var c Client
	if err := decodeBody(r, &c); err != nil {
		return err
	}
	if _, fixed := p.clients.fixed[c.ID]; fixed {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q is defined in the config file", c.ID)
	}
	if c.Secret == "" {
		c.Secret = randomToken(32)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return err
	}
	secret := c.Secret
	now := p.cfg.Clock().UTC()
	c.SecretHash, c.Secret, c.Source, c.CreatedAt, c.UpdatedAt = p.kr.hashSecret(secret), "", SourceAPI, now, now
	if err := p.store.CreateClient(r.Context(), c); err != nil {
		return err
	}
	p.clients.forget(c.ID)
	shown := c.Public()
	shown.Secret = secret
	w.Header().Set("Location", "/v1/clients/"+c.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, shown)
	return nil
}

// patchClient merges the body's fields into the stored client and
// validates the result; id, secret and source cannot be changed here.
func (p *Provider) patchClient(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := p.mutable(id); err != nil {
		return err
	}
	raw, err := readAll(r)
	if err != nil {
		return err
	}
	updated, err := p.store.UpdateClient(r.Context(), id, func(c *Client) error {
		hash, created := c.SecretHash, c.CreatedAt
		if err := json.Unmarshal(raw, c); err != nil {
			return waitroom.Errorf(waitroom.CodeInvalid, "invalid JSON: %v", err)
		}
		c.ID, c.Secret, c.SecretHash, c.Source, c.CreatedAt, c.UpdatedAt = id, "", hash, SourceAPI, created, p.cfg.Clock().UTC()
		*c = c.WithDefaults()
		return c.Validate()
	})
	if err != nil {
		return err
	}
	p.clients.forget(id)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, updated.Public())
	return nil
}

func (p *Provider) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := p.mutable(id); err != nil {
		return err
	}
	secret := randomToken(32)
	updated, err := p.store.UpdateClient(r.Context(), id, func(c *Client) error {
		c.SecretHash, c.UpdatedAt = p.kr.hashSecret(secret), p.cfg.Clock().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	p.clients.forget(id)
	shown := updated.Public()
	shown.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, shown)
	return nil
}

func (p *Provider) deleteClient(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := p.mutable(id); err != nil {
		return err
	}
	if err := p.store.DeleteClient(r.Context(), id); err != nil {
		return err
	}
	p.clients.forget(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (p *Provider) mutable(id string) error {
	if _, fixed := p.clients.fixed[id]; fixed {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q is defined in the config file; change it there", id)
	}
	return nil
}

func readAll(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		return nil, waitroom.Errorf(waitroom.CodeInvalid, "body: at most 64 KiB")
	}
	return b, nil
}

func decodeBody(r *http.Request, v any) error {
	raw, err := readAll(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return waitroom.Errorf(waitroom.CodeInvalid, "invalid JSON at offset %d", syntax.Offset)
		}
		return waitroom.Errorf(waitroom.CodeInvalid, "invalid JSON: %v", err)
	}
	return nil
}
