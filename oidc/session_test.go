package oidc_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestEndSessionUnregisteredURI: a post_logout_redirect_uri the client did
// not register (WordPress appends ?loggedout=true&wp_lang=…, or drops the
// trailing slash) is not redirected to, but the logout still happens: the
// room session named by the id_token_hint completes (its slot is freed),
// the login's tokens stop working, the browser's room cookies go, and the
// visitor sees the signed-out page with a link to the client's home.
func TestEndSessionUnregisteredURI(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			noLogout := testClient("rp3")
			noLogout.PostLogoutRedirectURIs = nil
			e := newEnv(t, withBackend(be), withClients(testClient("rp1"), noLogout))

			for i, tc := range []struct {
				client, uri, home string
			}{
				{"rp1", rpLogout + "?loggedout=true&wp_lang=en_US", rpLogout},
				{"rp1", "https://elsewhere.test/", rpLogout},
				{"rp3", "https://rp.test", "https://rp.test/"}, // no post-logout URI: origin of the first redirect URI
			} {
				b := e.browser()
				a := e.exchange(tc.client, e.code(b, authParams(tc.client, rpRedirect)), rpRedirect, "")
				if a.status != http.StatusOK {
					t.Fatalf("%d: token: %d %v", i, a.status, a.body)
				}
				before, _ := e.svc.Counters(e.ctx, room1)
				p := b.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {a.str("id_token")},
					"post_logout_redirect_uri": {tc.uri}, "state": {"bye"}}.Encode())
				if p.location != nil || p.status != http.StatusOK {
					t.Fatalf("%d: want the signed-out page, got %d %v", i, p.status, p.location)
				}
				body := html.UnescapeString(p.body)
				if !strings.Contains(body, "You are signed out") || !strings.Contains(body, `href="`+tc.home+`"`) {
					t.Fatalf("%d: signed-out page without a link to %s:\n%s", i, tc.home, body)
				}
				if strings.Contains(body, tc.uri+`"`) && tc.uri != tc.home {
					t.Fatalf("%d: the page links to the unregistered URI", i)
				}
				after, _ := e.svc.Counters(e.ctx, room1)
				if after.Completed != before.Completed+1 {
					t.Fatalf("%d: completed %d -> %d, want one more (slot freed)", i, before.Completed, after.Completed)
				}
				if u := e.call(http.MethodGet, "/userinfo", nil, bearer(a.str("access_token"))); u.status != http.StatusUnauthorized {
					t.Fatalf("%d: userinfo after logout: %d", i, u.status)
				}
				refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.str("refresh_token")}}
				wantOAuthError(t, e.call(http.MethodPost, "/oauth/token", refresh,
					basic(tc.client, tc.client+"-secret-0123456789")), 400, "invalid_grant")
				// The room cookies are gone: the next login queues again.
				p = b.get(e.authorizeURL(authParams(tc.client, rpRedirect)))
				if p.location != nil || p.status != http.StatusOK {
					t.Fatalf("%d: login after logout skipped the queue: %d %v", i, p.status, p.location)
				}
				e.admitAll()
			}

			// A registered URI still redirects, with state.
			b := e.browser()
			a := e.exchange("rp1", e.code(b, authParams("rp1", rpRedirect)), rpRedirect, "")
			p := b.get(e.issuer + "/end_session?" + url.Values{"id_token_hint": {a.str("id_token")},
				"post_logout_redirect_uri": {rpLogout}, "state": {"bye"}}.Encode())
			if p.location == nil || p.location.String() != rpLogout+"?state=bye" {
				t.Fatalf("registered URI: %d %v", p.status, p.location)
			}

			// Without a hint nothing is ended, and the page still shows.
			before, _ := e.svc.Counters(e.ctx, room1)
			p = e.browser().get(e.issuer + "/end_session?" + url.Values{"client_id": {"rp1"},
				"post_logout_redirect_uri": {"https://elsewhere.test/"}}.Encode())
			if p.status != http.StatusOK || p.location != nil || !strings.Contains(p.body, `href="`+rpLogout+`"`) {
				t.Fatalf("no hint: %d %v", p.status, p.location)
			}
			if after, _ := e.svc.Counters(e.ctx, room1); after.Completed != before.Completed {
				t.Fatal("a logout without id_token_hint completed a session")
			}

			// Other faults are still 400: a hint that is not ours, a
			// client_id that is not the hint's azp.
			a = e.exchange("rp1", e.code(e.browser(), authParams("rp1", rpRedirect)), rpRedirect, "")
			for _, v := range []url.Values{
				{"id_token_hint": {"not.a.token"}, "post_logout_redirect_uri": {"https://elsewhere.test/"}},
				{"id_token_hint": {a.str("id_token")}, "client_id": {"rp3"}, "post_logout_redirect_uri": {"https://elsewhere.test/"}},
			} {
				if p := e.browser().get(e.issuer + "/end_session?" + v.Encode()); p.status != http.StatusBadRequest {
					t.Fatalf("%v: %d, want 400", v, p.status)
				}
			}
		})
	}
}
