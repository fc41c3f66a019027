package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

// TestOpenAPIMatchesRoutes checks the served documents against the real
// routers: every route is documented, every documented operation exists
// and answers (not with "no such path" or 405).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	for _, metricsOnPublic := range []bool{false, true} {
		e := newEnv(t, backends[0], func(o *httpapi.Options) {
			o.MetricsOnPublic = metricsOnPublic
			o.MetricsToken = "metrics-token-0123456789"
		})
		e.room("demo")
		for listener, h := range map[string]http.Handler{httpapi.PublicListener: e.public, httpapi.AdminListener: e.admin} {
			doc := fetchSpec(t, e, h)
			documented := specOperations(t, doc)
			var routed []string
			for _, ep := range e.api.Endpoints(listener) {
				routed = append(routed, ep.Method+" "+ep.Path)
			}
			slices.Sort(routed)
			if !slices.Equal(documented, routed) {
				t.Errorf("%s listener (metrics on public: %v):\ndocumented %v\nrouted     %v", listener, metricsOnPublic, documented, routed)
			}
			for _, op := range documented {
				method, path, _ := strings.Cut(op, " ")
				target := strings.ReplaceAll(path, "{id}", "demo") + "?event_id=demo"
				a := e.do(h, method, target, "{}", "Authorization", "Bearer "+testAdminKey)
				if a.Code == http.StatusMethodNotAllowed || strings.Contains(a.Body.String(), "no such path") {
					t.Errorf("%s %s: documented but answers %d %s", listener, op, a.Code, a.Body)
				}
			}
		}
	}
}

func fetchSpec(t *testing.T, e *env, h http.Handler) map[string]any {
	t.Helper()
	a := e.do(h, http.MethodGet, "/openapi.json", "")
	if a.Code != http.StatusOK || a.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %q", a.Code, a.Header().Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(a.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc["openapi"].(string), "3.") {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	return doc
}

func specOperations(t *testing.T, doc map[string]any) []string {
	var ops []string
	for path, item := range doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// TestOpenAPIReferencesResolve catches a $ref to a component that is not
// defined.
func TestOpenAPIReferencesResolve(t *testing.T) {
	e := newEnv(t, backends[0])
	for _, h := range []http.Handler{e.public, e.admin} {
		doc := fetchSpec(t, e, h)
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if ref, ok := v["$ref"].(string); ok {
					resolveRef(t, doc, ref)
				}
				for _, c := range v {
					walk(c)
				}
			case []any:
				for _, c := range v {
					walk(c)
				}
			}
		}
		walk(doc)
	}
}

func resolveRef(t *testing.T, doc map[string]any, ref string) {
	t.Helper()
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok || m[part] == nil {
			t.Errorf("unresolved $ref %q", ref)
			return
		}
		cur = m[part]
	}
}
