package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/memstore"
	"github.com/waitroom-idp/waitroom/oidc/pgstore"
	"github.com/waitroom-idp/waitroom/waitroom"
)

// mountOIDC builds the OpenID provider and mounts it at the issuer's path
// on the public router, its client API on the admin listener, and the demo
// relying party when the demo room is in use.
func mountOIDC(ctx context.Context, r *mux.Router, app *App) (links []string, err error) {
	store := oidcStore(app)
	demoOn, err := demoInUse(ctx, app)
	if err != nil {
		return nil, err
	}
	cfg := oidc.Config{Issuer: app.Issuer, Keys: app.Keys, Clients: app.Config.Clients, Logger: app.Logger,
		TemplateDir: app.Config.TemplateDir}
	if demoOn {
		cfg.Demo = &oidc.DemoConfig{Room: demoRoomID, AdvanceNote: demoNote()}
	}
	if cfg.SecretKey, err = secretKey(app); err != nil {
		return nil, err
	}
	p, err := oidc.New(ctx, cfg, app.Queue, app.Ephemeral, store)
	if err != nil {
		return nil, fmt.Errorf("openid provider: %w", err)
	}
	app.Go(func(ctx context.Context) { p.RunPurge(ctx, time.Hour) })
	u, _ := url.Parse(app.Issuer) // validated with the config
	r.PathPrefix(u.Path + "/").Handler(p.Handler())
	if app.MountAdmin != nil {
		app.MountAdmin("/v1/clients", p.AdminHandler())
	}
	app.ClientsAPI = p.AdminHandler()
	app.PanelSecret = p.DerivedKey("panel-session")
	links = append(links, "OpenID:      "+app.Issuer+"/.well-known/openid-configuration")
	if demoOn {
		links = append(links, "Demo login:  "+app.Issuer+"/demo/   (a relying party that signs in through the demo room)")
	}
	return links, nil
}

// secretKey is the configured secret_key, or nil for the provider's stored
// key; on the production backend the stored fallback earns one warning.
func secretKey(app *App) ([]byte, error) {
	if app.Config.SecretKey == "" {
		if !app.Config.Embedded() {
			app.Logger.Warn(secretKeyWarning)
		}
		return nil, nil
	}
	key, err := decodeSecretKey(app.Config.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("secret_key: %w", err) // validated already; never the value
	}
	return key, nil
}

// oidcStore keeps API clients and refresh tokens next to the queue data.
func oidcStore(app *App) oidc.Store {
	if app.Backend != nil && app.Backend.DB != nil {
		return pgstore.New(app.Backend.DB)
	}
	return memstore.New()
}

// demoInUse: the demo client and pages come with the demo room (no room
// configured, demo_room on, the room present).
func demoInUse(ctx context.Context, app *App) (bool, error) {
	if !app.Config.DemoRoom || len(app.Config.Rooms) > 0 {
		return false, nil
	}
	_, err := app.Service.Room(ctx, demoRoomID)
	if waitroom.ErrorCode(err) == waitroom.CodeNotFound {
		return false, nil
	}
	return err == nil, err
}

func demoNote() string {
	return fmt.Sprintf("The demo room lets %d visitors a minute in while someone waits (its rate inlet: change it in the control panel, or let visitors in by hand with POST /increment_serving_counter on the admin API).", demoPerMinute)
}

// mountAdminFunc adds a handler under prefix on the admin listener, behind
// the admin-key check.
type mountAdminFunc func(prefix string, h http.Handler)
