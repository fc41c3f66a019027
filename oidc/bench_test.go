package oidc_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// The benchmarks drive the provider over HTTP on loopback, the client in
// the same process, with b.RunParallel (16 goroutines per core): ns/op is
// the inverse of the throughput of provider, client and stores together,
// not the latency of one flow. The embedded backend shows the CPU of the
// provider itself; redispg adds the round trips to Redis and PostgreSQL
// (each run in its own schema and key prefix).

var benchBackends = []backend{embeddedBackend(), redispgBackend()}

// benchClient is a client of room1 with the given access-token format
// (empty: the default).
func benchClient(format string) waitroom.Client {
	c := testClient("bench")
	c.AccessTokenFormat = format
	return c
}

// BenchmarkFlow measures whole logins with instant admission, as B4 does:
// authorize → room (admitted) → code → token (PKCE, secret_basic) →
// userinfo, scope "openid profile" (no refresh token).
func BenchmarkFlow(b *testing.B) {
	for _, be := range benchBackends {
		for _, alg := range []string{"RS256", "ES256"} {
			for _, format := range []string{waitroom.TokenFormatJWT, waitroom.TokenFormatOpaque} {
				b.Run(be.Name+"/"+alg+"/"+format, func(b *testing.B) {
					e := newEnv(b, withBackend(be), withClients(benchClient(format)), func(c *envConfig) { c.alg = alg })
					if _, err := e.svc.SetServing(e.ctx, room1, 1<<40); err != nil {
						b.Fatal(err)
					}
					b.SetParallelism(16)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := benchLogin(e.issuer); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}

// BenchmarkUserinfo measures userinfo alone (B5) with one access token per
// goroutine, used again and again.
func BenchmarkUserinfo(b *testing.B) {
	for _, be := range benchBackends {
		for _, v := range []struct{ name, alg, format string }{
			{"jwt-RS256", "RS256", waitroom.TokenFormatJWT},
			{"jwt-ES256", "ES256", waitroom.TokenFormatJWT},
			{"opaque", "ES256", waitroom.TokenFormatOpaque},
		} {
			b.Run(be.Name+"/"+v.name, func(b *testing.B) {
				e := newEnv(b, withBackend(be), withClients(benchClient(v.format)), func(c *envConfig) { c.alg = v.alg })
				if _, err := e.svc.SetServing(e.ctx, room1, 1<<40); err != nil {
					b.Fatal(err)
				}
				tokens := make(chan string, 64)
				for range cap(tokens) {
					a := e.exchange("bench", e.code(e.browser(), authParams("bench", rpRedirect)), rpRedirect, "")
					tokens <- a.str("access_token")
				}
				b.SetParallelism(16)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					token := <-tokens
					for pb.Next() {
						if err := benchUserinfo(e.issuer, token); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

var benchHTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// benchLogin runs one login as a browser and a relying party would.
func benchLogin(issuer string) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: benchHTTP.Transport, Jar: jar,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), issuer) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	verifier := randomString() + randomString() + randomString() + randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"bench"}, "redirect_uri": {rpRedirect}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {randomString()}, "nonce": {randomString()},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := browser.Get(issuer + "/authorize?" + q.Encode())
	if err != nil {
		return err
	}
	drain(resp)
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("no redirect to the relying party: %d", resp.StatusCode)
	}
	code := loc.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("bench", "bench-secret-0123456789")
	resp, err = benchHTTP.Do(req)
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	drain(resp)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return benchUserinfo(issuer, tok.AccessToken)
}

func benchUserinfo(issuer, token string) error {
	req, _ := http.NewRequest(http.MethodGet, issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return err
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		return errors.New("userinfo: " + resp.Status)
	}
	return nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
