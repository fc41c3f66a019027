package main

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
	"github.com/waitroom-idp/waitroom/waitroom/transport/panel"
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
	if app.Config.Pprof {
		api.MountAdmin("/debug/pprof", profiles())
		links = append(links, "Profiles:      "+adminURL+"/debug/pprof/ (admin key)")
	}
	return append([]string{"Control panel: " + adminURL + "/panel/"}, links...), nil
}

// profiles serves the runtime profiles of net/http/pprof. Its handlers are
// mounted explicitly (not through the package's DefaultServeMux side
// effect) so that nothing reaches them without the admin key.
func profiles() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}
