package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// readyTimeout bounds /readyz: a load balancer must get an answer even when
// a store hangs.
const readyTimeout = 2 * time.Second

// opsRoutes adds the operational endpoints every listener has; /metrics only
// on the listener chosen for it.
func (a *API) opsRoutes(t *routeTable, listener string, metrics bool) {
	t.add(http.MethodGet, "/healthz", a.handle(a.healthz))
	t.add(http.MethodGet, "/readyz", a.handle(a.readyz))
	t.add(http.MethodGet, "/openapi.json", a.handle(a.openAPI(listener)))
	if metrics {
		t.add(http.MethodGet, "/metrics", a.metricsAuth(listener, a.metrics.Handler()))
	}
}

// metricsAuth guards /metrics: with a metrics token, a request must present
// it (Authorization: Bearer <token>, compared in constant time) or, on the
// admin listener, an admin key; without one (admin listener only: New
// refuses a public /metrics without a token) it is open, as the admin
// listener is private.
func (a *API) metricsAuth(listener string, next http.Handler) http.Handler {
	if a.opts.MetricsToken == "" {
		return next
	}
	want := sha256.Sum256([]byte(a.opts.MetricsToken))
	orAdminKey := a.requireAdmin(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if presented, ok := bearerToken(r); ok {
			got := sha256.Sum256([]byte(presented))
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		if listener == AdminListener {
			orAdminKey.ServeHTTP(w, r)
			return
		}
		web.Error(w, r, &web.Problem{Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: "the metrics token is required: Authorization: Bearer <metrics_token>",
			Header:  http.Header{"Www-Authenticate": {`Bearer realm="waitroom-metrics"`}}})
	})
}

// healthz says the process is up and serving; it checks nothing else, so
// that a store outage does not get every replica restarted.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) error {
	web.JSON(w, http.StatusOK, web.NoStore, map[string]string{"status": "ok"})
	return nil
}

// readyz says whether the backing stores answer.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := a.opts.Ready(ctx); err != nil {
			if waitroom.ErrorCode(err) != waitroom.CodeUnavailable {
				err = waitroom.Wrap(waitroom.CodeUnavailable, err, "store not ready")
			}
			return err
		}
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string]string{"status": "ready"})
	return nil
}

func (a *API) openAPI(listener string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", web.MaxAge(5*time.Minute))
		_, _ = w.Write(a.specs[listener])
		return nil
	}
}
