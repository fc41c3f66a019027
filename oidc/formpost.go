package oidc

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/waitroom-idp/waitroom/static"
	"github.com/waitroom-idp/waitroom/templates"
)

// formPostPage is the form_post answer (OAuth 2.0 Form Post Response
// Mode): a form of the response's parameters, sent to the client's
// redirect URI by a script file (the library's own page submits from an
// inline onload handler, which the Content-Security-Policy refuses).
var formPostPage = template.Must(template.ParseFS(templates.FS, "form_post.html"))

type formPostParam struct{ Name, Value string }

// formPost writes the form_post page for resp.
func (p *Provider) formPost(w http.ResponseWriter, redirectURI string, resp any) error {
	values := map[string][]string{}
	if err := p.op.Encoder().Encode(resp, values); err != nil {
		return fmt.Errorf("encoding the form_post response: %w", err)
	}
	var params []formPostParam
	for name, vs := range values {
		for _, v := range vs {
			params = append(params, formPostParam{name, v})
		}
	}
	slices.SortFunc(params, func(a, b formPostParam) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	err := formPostPage.Execute(&buf, map[string]any{
		"RedirectURI": redirectURI, "Params": params, "Static": p.issuer.Path + "/static", "Version": static.Version,
	})
	if err != nil {
		return fmt.Errorf("rendering the form_post page: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = buf.WriteTo(w)
	return err
}
