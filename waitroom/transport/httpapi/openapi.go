package httpapi

import (
	"embed"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// The OpenAPI documents are kept as YAML (readable, reviewable) and served
// as JSON. A test checks them against the real routes.
//
//go:embed openapi/*.yaml
var specFS embed.FS

// metricsPath is the description of /metrics, added to the document of the
// listener that serves it.
var metricsPath = map[string]any{
	"get": map[string]any{
		"summary": "Prometheus metrics (waitroom_* plus Go runtime and process).",
		"description": "With WAITROOM_METRICS_TOKEN set, requires Authorization: Bearer <metrics token> " +
			"(on the admin listener an admin key does too); it is always set when /metrics is on the public listener. " +
			"Without it, /metrics on the admin listener is open.",
		"security": []any{},
		"responses": map[string]any{
			"200": map[string]any{"description": "Prometheus text exposition format.",
				"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}},
			"401": map[string]any{"description": "A metrics token is configured and the request has neither it nor an admin key."},
		},
	},
}

// loadSpecs converts both documents to JSON, with the issuer as the server
// of the public API and /metrics where it is served.
func loadSpecs(issuer string, metricsOnPublic bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, listener := range []string{PublicListener, AdminListener} {
		doc, err := readSpec(listener)
		if err != nil {
			return nil, err
		}
		if listener == PublicListener && issuer != "" {
			doc["servers"] = []any{map[string]any{"url": issuer}}
		}
		if (listener == PublicListener) == metricsOnPublic {
			doc["paths"].(map[string]any)["/metrics"] = metricsPath
		}
		if out[listener], err = json.MarshalIndent(doc, "", "  "); err != nil {
			return nil, fmt.Errorf("openapi %s: %w", listener, err)
		}
	}
	return out, nil
}

func readSpec(listener string) (map[string]any, error) {
	raw, err := specFS.ReadFile("openapi/" + listener + ".yaml")
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("openapi %s: %w", listener, err)
	}
	if _, ok := doc["paths"].(map[string]any); !ok {
		return nil, fmt.Errorf("openapi %s: no paths", listener)
	}
	return doc, nil
}
