package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// App is what the server has built, handed to the handlers mounted next to
// the REST API.
type App struct {
	Config  Config
	Issuer  string
	Service *waitroom.Service
	// Queue is the service behind the room's mode, schedule and pre-queue,
	// recording webhook events (admission.Guarded): what the OpenID flow
	// enqueues and admits through.
	Queue     *admission.Guarded
	Keys      *waitroom.Keys
	Store     waitroom.Store
	Ephemeral waitroom.Ephemeral
	Backend   *backend
	Logger    *slog.Logger
	// MountAdmin adds handlers to the admin listener, behind the admin-key
	// check (the OpenID client API).
	MountAdmin mountAdminFunc
	// ClientsAPI is the OpenID provider's client admin API, for the
	// control panel's client pages (set when the provider is mounted).
	ClientsAPI http.Handler
	// PanelSecret signs the control panel's sessions; derived from the
	// provider's stored secret, so replicas share sign-ins.
	PanelSecret []byte
	// Go runs a background loop until shutdown, which waits for it before
	// closing the store. Mounts start their loops through it, never with
	// a bare go statement.
	Go func(fn func(ctx context.Context))
}

// mountPublic adds the handlers that share the public listener with the
// REST API. The router already holds the AWS routes and /healthz, /readyz,
// /openapi.json; routes added here are tried after them, and every request
// still goes through the request-id, access-log, metrics, limits and CORS
// middleware.
//
// The OpenID provider mounts here at the issuer root (its discovery,
// /authorize, /token, /userinfo, ... and its room page under /room/, static
// files under /static/), e.g.
//
//	p, err := oidc.New(ctx, oidcConfig(app), app.Service, app.Ephemeral, clientStore)
//	if err != nil {
//		return nil, err
//	}
//	r.PathPrefix("/").Handler(p)
//	links = append(links, "Demo login: "+app.Issuer+"/…")
//
// links are lines printed in the start-up banner (URLs to open).
func mountPublic(ctx context.Context, r *mux.Router, app *App) (links []string, err error) {
	return mountOIDC(ctx, r, app)
}

// setupDemo runs after the demo room was created on a fresh start, for
// components that add demo data of their own (the demo OpenID client).
// links are added to the banner.
func setupDemo(ctx context.Context, app *App) (links []string, err error) {
	return nil, nil
}
