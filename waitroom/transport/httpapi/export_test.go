package httpapi

import "sort"

// Endpoints lists the routes of a listener (PublicListener or
// AdminListener), for documentation checks.
func (a *API) Endpoints(listener string) []Endpoint {
	if listener == AdminListener {
		return a.admin.endpoints()
	}
	return a.public.endpoints()
}

func (t *routeTable) endpoints() []Endpoint {
	var out []Endpoint
	for path, methods := range t.paths {
		for m := range methods {
			out = append(out, Endpoint{Method: m, Path: path})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}
