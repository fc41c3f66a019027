// Package gate lets a reverse proxy queue any website with a room, with no
// change to the site. The proxy's external-authorization hook (nginx
// auth_request, Traefik forwardAuth, Caddy forward_auth, Envoy ext_authz)
// asks the gate about every request; a visitor with a valid admission
// cookie passes, anyone else is sent to the room page (or answered 503 on
// an API path), queues there, and comes back through the gate's callback
// on the site's own host, which sets the cookie and returns to the exact
// URL asked for.
//
// The admission cookie is the room's AWS-style access token: a JWT signed
// with the server's keys, so the gate checks it with no store read and a
// site can check it itself with the public JWKS (package verify). Its
// lifetime is the room's token validity; logging out through the gate
// completes the session in the room, freeing a max-active slot.
package gate

import (
	"context"
	"crypto"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
	"github.com/waitroom-idp/waitroom/waitroom/transport/roompage"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// Queue is the part of the queue core the gate uses (admission.Guarded).
type Queue interface {
	// Room returns a room, from the in-process cache when fresh: the
	// gate's decision reads it on every request.
	Room(ctx context.Context, id string) (waitroom.Room, error)
	Enqueue(ctx context.Context, room, key string) (waitroom.Ticket, error)
	Progress(ctx context.Context, room string) (waitroom.Counters, error)
	IssueToken(ctx context.Context, room, id, issuer string, validity time.Duration) (waitroom.Tokens, error)
	UpdateSession(ctx context.Context, room, id string, status waitroom.SessionStatus) error
}

// KeySource gives the public signing keys (waitroom.Keys).
type KeySource interface {
	PublicJWK(kid string) (jose.JSONWebKey, bool)
}

// Options configure the gate.
type Options struct {
	// Issuer is the server's public URL: the iss of its tokens and the
	// base of the room page's address.
	Issuer string
	// SecretKey signs the room page's ticket cookie.
	SecretKey []byte
	Keys      KeySource
	Queue     Queue
	// Handoffs carries an admission from the room page to the callback on
	// the site's host (one-time codes with a short life).
	Handoffs waitroom.Ephemeral
	// Page draws the room page and notices.
	Page  *roompage.Page
	Clock func() time.Time
}

// Gate serves the gate's endpoints.
type Gate struct {
	opts      Options
	issuer    *url.URL
	tickets   ticketJar
	visitor   []byte // keys the visitor id the site sees
	verifiers verifierCache
	handler   http.Handler
	router    *mux.Router
}

// Paths on the protected site's host that the proxy sends to the gate.
const (
	SitePrefix   = "/.waitroom/"
	CallbackPath = SitePrefix + "callback"
	LogoutPath   = SitePrefix + "logout"
)

// New builds the gate.
func New(opts Options) (*Gate, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	u, err := url.Parse(strings.TrimSuffix(opts.Issuer, "/"))
	if err != nil || u.Host == "" {
		return nil, waitroom.Errorf(waitroom.CodeInvalid, "gate: issuer must be an absolute URL")
	}
	if len(opts.SecretKey) < 32 || opts.Keys == nil || opts.Queue == nil || opts.Handoffs == nil || opts.Page == nil {
		return nil, waitroom.Errorf(waitroom.CodeInvalid, "gate: secret key, keys, queue, handoffs and page are required")
	}
	opts.Issuer = u.String()
	g := &Gate{opts: opts, issuer: u, visitor: waitroom.DeriveKey(opts.SecretKey, "gate-visitor")}
	g.tickets = ticketJar{key: waitroom.DeriveKey(opts.SecretKey, "gate-ticket"), path: u.Path + "/gate/", secure: u.Scheme == "https"}
	g.verifiers.byRoom = map[string]*verify.Verifier{}
	g.router = g.routes()
	g.handler = g.router
	return g, nil
}

// Handler serves the gate under <issuer path>/gate/.
func (g *Gate) Handler() http.Handler { return g.handler }

// Routes lists the gate's routes (for the test that walks every route).
func (g *Gate) Routes() []web.Route { return web.MuxRoutes(g.router) }

func (g *Gate) routes() *mux.Router {
	r := mux.NewRouter()
	base := g.issuer.Path + "/gate/{room}"
	r.Handle(base+"/check", web.JSONHandler(g.check(redirectFlavor)))
	r.Handle(base+"/auth_request", web.JSONHandler(g.check(nginxFlavor)))
	// Envoy appends the original path to the check path.
	r.PathPrefix(base + "/ext_authz/").Handler(web.JSONHandler(g.check(envoyFlavor)))
	r.Handle(base+"/wait", g.page(g.wait)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(base+"/status", web.JSONHandler(g.status)).Methods(http.MethodGet)
	r.Handle(base+"/callback", g.page(g.callback)).Methods(http.MethodGet)
	r.Handle(base+"/logout", g.page(g.logout)).Methods(http.MethodGet, http.MethodPost)
	r.NotFoundHandler = g.page(func(http.ResponseWriter, *http.Request) error { return errNotFound })
	return r
}

// room returns the room named in the path, refused unless it has a gate.
func (g *Gate) room(r *http.Request) (waitroom.Room, error) {
	id := mux.Vars(r)["room"]
	if !waitroom.ValidRoomID(id) {
		return waitroom.Room{}, errNotFound
	}
	room, err := g.opts.Queue.Room(r.Context(), id)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return waitroom.Room{}, errNotFound
	}
	if err != nil {
		return waitroom.Room{}, err
	}
	if room.Gate == nil {
		return waitroom.Room{}, errNoGate
	}
	return room, nil
}

var (
	errNotFound = &web.Problem{Status: http.StatusNotFound, Code: string(waitroom.CodeNotFound),
		Message: "no such room", Title: "oidc.not_found.title"}
	errNoGate = &web.Problem{Status: http.StatusNotFound, Code: "gate_not_configured",
		Message: "this room has no gate settings", Title: "oidc.room_unavailable.title"}
)

// page serves a browser-facing handler: errors become notices.
func (g *Gate) page(h web.Handler) http.Handler {
	return web.PageHandler(h, g.errorPage)
}

func (g *Gate) errorPage(w http.ResponseWriter, r *http.Request, pr *web.Problem) error {
	title, msg := pr.Title, pr.Message
	switch {
	case pr.Status == http.StatusServiceUnavailable && title == "":
		title, msg = "oidc.busy.title", "oidc.busy.body"
	case pr.Status >= 500:
		title, msg = "oidc.error.title", "oidc.error.body"
	case title == "":
		title = "oidc.error.title"
	}
	return g.opts.Page.RenderNotice(w, r, pr.Status, roompage.Notice{Title: title, Message: msg})
}

// verifierCache holds one verifier per room (each caches the tokens it
// verified).
type verifierCache struct {
	byRoom map[string]*verify.Verifier
	lock   sync.RWMutex
}

// verifier returns the room's verifier, with the server's own keys.
func (g *Gate) verifier(room string) *verify.Verifier {
	g.verifiers.lock.RLock()
	v := g.verifiers.byRoom[room]
	g.verifiers.lock.RUnlock()
	if v != nil {
		return v
	}
	g.verifiers.lock.Lock()
	defer g.verifiers.lock.Unlock()
	if v = g.verifiers.byRoom[room]; v == nil {
		v = &verify.Verifier{Issuer: g.opts.Issuer, Room: room, Keys: localKeys{g.opts.Keys}, Clock: g.opts.Clock}
		g.verifiers.byRoom[room] = v
	}
	return v
}

// localKeys finds public keys in the server's own key ring: no fetch.
type localKeys struct{ src KeySource }

func (k localKeys) Key(_ context.Context, kid string) (crypto.PublicKey, error) {
	jwk, ok := k.src.PublicJWK(kid)
	if !ok {
		return nil, verify.ErrUnknownKey
	}
	return jwk.Key, nil
}
