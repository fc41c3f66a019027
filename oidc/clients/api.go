package clients

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Handler serves the client admin API (authentication is the admin
// listener's business):
//
//	GET    /v1/clients              every client (config file and API)
//	POST   /v1/clients              create; the answer shows the secret once
//	GET    /v1/clients/{id}
//	PATCH  /v1/clients/{id}         merge the given fields
//	POST   /v1/clients/{id}/secret  rotate the secret; shown once
//	DELETE /v1/clients/{id}
//
// Clients of the configuration file are read-only (409).
func (reg *Registry) Handler() http.Handler { return reg.router() }

// Routes lists every route of Handler.
func (reg *Registry) Routes() []web.Route { return web.MuxRoutes(reg.router()) }

func (reg *Registry) router() *mux.Router {
	r := mux.NewRouter()
	r.Handle("/v1/clients", web.JSONHandler(reg.list)).Methods(http.MethodGet)
	r.Handle("/v1/clients", web.JSONHandler(reg.create)).Methods(http.MethodPost)
	r.Handle("/v1/clients/{id}", web.JSONHandler(reg.get)).Methods(http.MethodGet)
	r.Handle("/v1/clients/{id}", web.JSONHandler(reg.patch)).Methods(http.MethodPatch)
	r.Handle("/v1/clients/{id}/secret", web.JSONHandler(reg.rotateSecret)).Methods(http.MethodPost)
	r.Handle("/v1/clients/{id}", web.JSONHandler(reg.delete)).Methods(http.MethodDelete)
	return r
}

func (reg *Registry) list(w http.ResponseWriter, r *http.Request) error {
	stored, err := reg.store.Clients(r.Context())
	if err != nil {
		return err
	}
	out := make([]waitroom.Client, 0, len(stored)+len(reg.fixed))
	for _, c := range reg.fixed {
		out = append(out, c.Public())
	}
	for _, c := range stored {
		out = append(out, c.Public())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	web.JSON(w, http.StatusOK, web.NoStore, map[string][]waitroom.Client{"clients": out})
	return nil
}

func (reg *Registry) get(w http.ResponseWriter, r *http.Request) error {
	c, err := reg.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, web.NoStore, c.Public())
	return nil
}

// create stores a new client. Without a secret one is generated; it is
// shown in this answer only.
func (reg *Registry) create(w http.ResponseWriter, r *http.Request) error {
	var c waitroom.Client
	if err := web.DecodeJSON(r, &c, true); err != nil {
		return err
	}
	if reg.fixedClient(c.ID) {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q is defined in the config file", c.ID)
	}
	if c.Secret == "" {
		c.Secret = newSecret()
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return err
	}
	if err := reg.checkRoom(r.Context(), c.Room); err != nil {
		return err
	}
	secret := c.Secret
	now := reg.now().UTC()
	c.SecretHash, c.Secret, c.Source, c.CreatedAt, c.UpdatedAt = reg.hash(secret), "", waitroom.SourceAPI, now, now
	if err := reg.store.CreateClient(r.Context(), c); err != nil {
		return err
	}
	reg.forget(c.ID)
	reg.record(r, "client.create", waitroom.Client{}, c)
	shown := c.Public()
	shown.Secret = secret
	w.Header().Set("Location", "/v1/clients/"+c.ID)
	web.JSON(w, http.StatusCreated, web.NoStore, shown)
	return nil
}

// patch merges the body's fields into the stored client and validates the
// result; id, secret and source cannot be changed here.
func (reg *Registry) patch(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := reg.mutable(id); err != nil {
		return err
	}
	raw, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	if err := reg.checkPatchedRoom(r, raw); err != nil {
		return err
	}
	var before waitroom.Client
	updated, err := reg.store.UpdateClient(r.Context(), id, func(c *waitroom.Client) error {
		before = *c
		hash, created := c.SecretHash, c.CreatedAt
		if err := web.UnmarshalJSON(raw, c, true); err != nil {
			return err
		}
		c.ID, c.Secret, c.SecretHash, c.Source, c.CreatedAt, c.UpdatedAt = id, "", hash, waitroom.SourceAPI, created, reg.now().UTC()
		*c = c.WithDefaults()
		return c.Validate()
	})
	if err != nil {
		return err
	}
	reg.forget(id)
	reg.record(r, "client.update", before, updated)
	web.JSON(w, http.StatusOK, web.NoStore, updated.Public())
	return nil
}

// checkPatchedRoom refuses a patch that moves a client to a room that does
// not exist. It runs before the update, outside the store's transaction; a
// patch that leaves the room alone is not checked.
func (reg *Registry) checkPatchedRoom(r *http.Request, raw []byte) error {
	var probe struct {
		Room *string `json:"room"`
	}
	if err := web.UnmarshalJSON(raw, &probe, false); err != nil {
		return err
	}
	if probe.Room == nil || !waitroom.ValidRoomID(*probe.Room) {
		return nil // absent, or refused with the other problems by Validate
	}
	return reg.checkRoom(r.Context(), *probe.Room)
}

func (reg *Registry) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := reg.mutable(id); err != nil {
		return err
	}
	secret := newSecret()
	updated, err := reg.store.UpdateClient(r.Context(), id, func(c *waitroom.Client) error {
		c.SecretHash, c.UpdatedAt = reg.hash(secret), reg.now().UTC()
		return nil
	})
	if err != nil {
		return err
	}
	reg.forget(id)
	reg.record(r, "client.secret", waitroom.Client{}, updated)
	shown := updated.Public()
	shown.Secret = secret
	web.JSON(w, http.StatusOK, web.NoStore, shown)
	return nil
}

func (reg *Registry) delete(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if err := reg.mutable(id); err != nil {
		return err
	}
	before, err := reg.store.Client(r.Context(), id)
	if err != nil {
		return err
	}
	if err := reg.store.DeleteClient(r.Context(), id); err != nil {
		return err
	}
	reg.forget(id)
	reg.record(r, "client.delete", before, waitroom.Client{})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (reg *Registry) mutable(id string) error {
	if reg.fixedClient(id) {
		return waitroom.Errorf(waitroom.CodeConflict, "client %q is defined in the config file; change it there", id)
	}
	return nil
}

// record audits a change of a client (its secret never appears: Public
// drops it); the entry belongs to the client's room.
func (reg *Registry) record(r *http.Request, action string, before, after waitroom.Client) {
	if reg.audit == nil {
		return
	}
	doc := func(c waitroom.Client) json.RawMessage {
		if c.ID == "" {
			return nil
		}
		b, _ := json.Marshal(c.Public())
		return b
	}
	room, id := after.Room, after.ID
	if id == "" {
		room, id = before.Room, before.ID
	}
	actor, _ := web.ActorFrom(r.Context())
	reg.audit.Record(r.Context(), waitroom.AuditEntry{At: reg.now().UTC(), Actor: actor.Name, Room: room, Action: action,
		Target: id, Before: doc(before), After: doc(after)})
}
