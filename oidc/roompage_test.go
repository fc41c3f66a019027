package oidc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
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

// The room page names the site the visitor queues for and links back to
// it, shows the organiser's message in the visitor's language, and, when
// the room lets people in at a set rate, the time their turn is expected.
func TestRoomPageNamesTheSite(t *testing.T) {
	shop := testClient("shop")
	shop.Name = "Ticket shop"
	e := newEnv(t, withClients(shop))
	if _, err := e.svc.UpdateRoom(e.ctx, room1, func(r *waitroom.Room) error {
		r.Inlet = waitroom.Inlet{Strategy: waitroom.StrategyRate, PerMinute: 60}
		r.Branding.Messages = map[string]string{"en": "Doors open at noon.", "fr": "Ouverture à midi."}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := e.svc.Enqueue(e.ctx, room1, ""); err != nil {
			t.Fatal(err)
		}
	}
	for lang, want := range map[string][]string{
		"en": {"You are in line for Ticket shop", "Doors open at noon.", `href="https://rp.test/"`, `id="expected" datetime="2`},
		"fr": {"Ticket shop", "Ouverture à midi.", `href="https://rp.test/"`},
	} {
		b := e.browser()
		b.lang = lang
		p := b.get(e.authorizeURL(authParams("shop", rpRedirect)))
		if p.status != http.StatusOK {
			t.Fatalf("%s: room page %d", lang, p.status)
		}
		for _, w := range want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s: room page lacks %q", lang, w)
			}
		}
		if lang == "fr" && strings.Contains(p.body, "Doors open") {
			t.Errorf("fr: English message shown to a French visitor")
		}
	}
}
