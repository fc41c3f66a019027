package main

import (
	"time"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/waitroom/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/panel"
)

// panelSampleEvery is how often the control panel's chart samples every
// room's counters.
const panelSampleEvery = 10 * time.Second

// mountAdmin adds the control panel (under /panel/) and the static files
// it needs to the admin listener. Its sampler runs until shutdown.
func mountAdmin(api *httpapi.API, app *App, adminURL string) (links []string, err error) {
	sampler := panel.NewSampler(app.Service, panelSampleEvery, time.Now, app.Logger)
	p, err := panel.New(panel.Options{
		Service:       app.Service,
		VerifyKey:     api.VerifyAdminKey,
		Sampler:       sampler,
		Clients:       app.ClientsAPI,
		SessionSecret: app.PanelSecret,
		TemplateDir:   app.Config.TemplateDir,
		Logger:        app.Logger,
	})
	if err != nil {
		return nil, err
	}
	r := api.AdminRouter()
	r.PathPrefix("/panel").Handler(p)
	r.PathPrefix("/static/").Handler(static.Handler("/static/"))
	app.Go(sampler.Run)
	return []string{"Control panel: " + adminURL + "/panel/"}, nil
}
