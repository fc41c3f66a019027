package oidc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Notices are rendered from the message catalogues in the visitor's
// language, like the room page.
func TestNoticesInTheVisitorsLanguage(t *testing.T) {
	e := newEnv(t)
	for lang, want := range map[string]string{"fr-FR,fr;q=0.9": "Cette connexion a expiré", "en": "This sign-in has expired"} {
		req, _ := http.NewRequest("GET", e.issuer+"/login/no-such-login", nil)
		req.Header.Set("Accept-Language", lang)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusGone || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want 410 with %q", lang, res.StatusCode, want)
		}
	}
}
