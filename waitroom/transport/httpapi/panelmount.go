package httpapi

import "github.com/gorilla/mux"

// AdminRouter is the router of the admin listener. The control panel and
// its static files mount on it, after the admin REST routes.
func (a *API) AdminRouter() *mux.Router { return a.admin.router }

// VerifyAdminKey reports whether key is one of the configured admin keys,
// comparing in constant time: the control panel's sign-in uses it.
func (a *API) VerifyAdminKey(key string) bool { return a.adminKeys.accepts(key) }
