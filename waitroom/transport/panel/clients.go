package panel

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The OpenID clients of the provider are kept behind the provider's client
// admin API (GET/POST /v1/clients, PATCH/DELETE /v1/clients/{id}, POST
// /v1/clients/{id}/secret). The panel calls that handler in-process, as
// the signed-in operator, so validation, secret handling and the audit
// trail stay in one place.

// client is a client as the panel shows and edits it: every field of the
// client API, lists and durations as the form holds them.
type client struct {
	ID                     string            `json:"id"`
	Name                   string            `json:"name,omitempty"`
	Room                   string            `json:"room"`
	RedirectURIs           []string          `json:"redirect_uris"`
	PostLogoutRedirectURIs []string          `json:"post_logout_redirect_uris"`
	Subject                string            `json:"subject,omitempty"`
	MaxHold                string            `json:"max_hold,omitempty"`
	InitiateLoginURI       string            `json:"initiate_login_uri"`
	GrantTypes             []string          `json:"grant_types,omitempty"`
	AccessTokenFormat      string            `json:"access_token_format,omitempty"`
	AccessTokenLifetime    string            `json:"access_token_lifetime,omitempty"`
	IDTokenLifetime        string            `json:"id_token_lifetime,omitempty"`
	RefreshTokenLifetime   string            `json:"refresh_token_lifetime,omitempty"`
	Claims                 map[string]string `json:"claims"`
	Secret                 string            `json:"secret,omitempty"`
	Source                 string            `json:"source,omitempty"`
}

// ReadOnly: clients from the configuration file change only there.
func (c client) ReadOnly() bool { return c.Source == waitroom.SourceConfig }

// Refresh reports whether the client may use refresh tokens.
func (c client) Refresh() bool {
	for _, g := range c.GrantTypes {
		if g == waitroom.GrantRefreshToken {
			return true
		}
	}
	return false
}

// ClaimLines are the static claims as the form edits them: name=value.
func (c client) ClaimLines() string {
	keys := make([]string, 0, len(c.Claims))
	for k := range c.Claims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + c.Claims[k] + "\n")
	}
	return b.String()
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
	// Issuer and its endpoints, for the relying parties' settings.
	Issuer string
}

func (p *Panel) clientList(w http.ResponseWriter, r *http.Request) error {
	return p.showClients(w, r, http.StatusOK, newClient(), "", "")
}

func newClient() client {
	return client{Subject: waitroom.SubjectTicket, AccessTokenFormat: waitroom.TokenFormatOpaque}
}

func (p *Panel) showClients(w http.ResponseWriter, r *http.Request, status int, edit client, problem, secret string) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	var list struct {
		Clients []client `json:"clients"`
	}
	if err := p.call(r, p.opts.Clients, http.MethodGet, "/v1/clients", nil, &list); err != nil {
		return err
	}
	rooms, err := p.opts.Service.Rooms(r.Context())
	if err != nil {
		return err
	}
	lp := p.langs.Negotiate(r)
	v := clientsView{base: p.base(r, lp.T("panel.clients.title")), Clients: list.Clients, Rooms: rooms, Edit: edit,
		Problem: problem, Secret: secret, Issuer: p.opts.Issuer}
	if done := r.URL.Query().Get("done"); validFlash[done] {
		v.Flash = lp.T("panel.done." + done)
	}
	return p.render(w, status, "panel/clients.html", v)
}

// clientFromForm reads the client form; URL lists are one per line,
// claims one name=value per line.
func clientFromForm(f url.Values) client {
	c := client{
		ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Room: f.Get("room"),
		RedirectURIs: lines(f.Get("redirect_uris")), PostLogoutRedirectURIs: lines(f.Get("post_logout_redirect_uris")),
		Subject: f.Get("subject"), MaxHold: orZero(f.Get("max_hold")),
		InitiateLoginURI: strings.TrimSpace(f.Get("initiate_login_uri")), GrantTypes: []string{waitroom.GrantAuthorizationCode},
		AccessTokenFormat: f.Get("access_token_format"), AccessTokenLifetime: strings.TrimSpace(f.Get("access_token_lifetime")),
		IDTokenLifetime: strings.TrimSpace(f.Get("id_token_lifetime")), RefreshTokenLifetime: strings.TrimSpace(f.Get("refresh_token_lifetime")),
		Claims: map[string]string{},
	}
	if f.Get("refresh") == "on" {
		c.GrantTypes = append(c.GrantTypes, waitroom.GrantRefreshToken)
	}
	for _, l := range lines(f.Get("claims")) {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) != "" {
			c.Claims[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return c
}

func orZero(d string) string {
	if d = strings.TrimSpace(d); d == "" {
		return "0s"
	}
	return d
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
	var created client
	if err := p.call(r, p.opts.Clients, http.MethodPost, "/v1/clients", c, &created); err != nil {
		return p.refuseClient(w, r, c, err)
	}
	return p.showClients(w, r, http.StatusCreated, newClient(), "", created.ID+": "+created.Secret)
}

func (p *Panel) updateClient(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	c := clientFromForm(r.PostForm)
	c.ID = id
	if err := p.call(r, p.opts.Clients, http.MethodPatch, "/v1/clients/"+url.PathEscape(id), c, nil); err != nil {
		return p.refuseClient(w, r, c, err)
	}
	http.Redirect(w, r, p.opts.Prefix+"/clients?done=client", http.StatusSeeOther)
	return nil
}

func (p *Panel) rotateClientSecret(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	var rotated client
	if err := p.call(r, p.opts.Clients, http.MethodPost, "/v1/clients/"+url.PathEscape(id)+"/secret", nil, &rotated); err != nil {
		return p.refuseClient(w, r, newClient(), err)
	}
	return p.showClients(w, r, http.StatusOK, newClient(), "", rotated.ID+": "+rotated.Secret)
}

func (p *Panel) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := p.requireClients(); err != nil {
		return err
	}
	id := r.PathValue("client")
	if r.PostForm.Get("confirm") != id {
		return p.showClients(w, r, http.StatusBadRequest, newClient(), p.langs.Negotiate(r).T("panel.clients.delete_mismatch"), "")
	}
	if err := p.call(r, p.opts.Clients, http.MethodDelete, "/v1/clients/"+url.PathEscape(id), nil, nil); err != nil {
		return p.refuseClient(w, r, newClient(), err)
	}
	http.Redirect(w, r, p.opts.Prefix+"/clients?done=client_deleted", http.StatusSeeOther)
	return nil
}

// refuseClient re-shows the form with the API's reason.
func (p *Panel) refuseClient(w http.ResponseWriter, r *http.Request, c client, err error) error {
	if msg, ok := problemOf(err); ok {
		return p.showClients(w, r, http.StatusBadRequest, c, msg, "")
	}
	return err
}
