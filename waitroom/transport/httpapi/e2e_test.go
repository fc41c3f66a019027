package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// TestAWSLoadTestFlow replays the flow of the AWS solution's load test over
// real HTTP for 1,000 simulated users: assign a position, poll queue_num,
// poll serving_num until the admin (incrementing the serving counter in
// steps, as an inlet would) lets them in, glance at waiting_num, take a
// token and verify it against /public_key.
func TestAWSLoadTestFlow(t *testing.T) {
	const users, step = 1000, 100
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		e.room("demo")
		public := httptest.NewServer(e.public)
		defer public.Close()
		admin := httptest.NewServer(e.admin)
		defer admin.Close()
		c := &flowClient{t: t, http: &http.Client{Transport: &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32}}}

		var jwk jose.JSONWebKey
		c.call(http.MethodGet, public.URL+"/public_key?event_id=demo", "", "", &jwk)

		gate := newServingGate()
		positions := make([]int64, users)
		var wg sync.WaitGroup
		for u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				positions[u] = c.user(public.URL, jwk, gate, u%10 == 0)
				gate.admittedOne()
			}()
		}
		for serving := int64(step); serving <= users; serving += step {
			var out struct {
				ServingNum int64 `json:"serving_num"`
			}
			c.call(http.MethodPost, admin.URL+"/increment_serving_counter", `{"event_id":"demo","increment_by":`+strconv.Itoa(step)+`}`, testAdminKey, &out)
			gate.open(out.ServingNum)
			gate.waitAdmitted(out.ServingNum, users)
		}
		wg.Wait()

		seen := make(map[int64]bool)
		for _, p := range positions {
			if p < 1 || p > users || seen[p] {
				t.Fatalf("position %d handed out twice or out of range", p)
			}
			seen[p] = true
		}
		var counters map[string]any
		c.call(http.MethodGet, admin.URL+"/v1/rooms/demo/counters", "", testAdminKey, &counters)
		if counters["queue"] != float64(users) || counters["tokens"] != float64(users) || counters["waiting"] != 0.0 || counters["active_tokens"] != float64(users) {
			t.Fatalf("counters after the flow: %v", counters)
		}
	})
}

// user is one simulated visitor; it returns its position.
func (c *flowClient) user(base string, jwk jose.JSONWebKey, gate *servingGate, curious bool) int64 {
	var assigned struct {
		ID       string `json:"api_request_id"`
		Position int64  `json:"queue_number"`
	}
	c.call(http.MethodPost, base+"/assign_queue_num", `{"event_id":"demo"}`, "", &assigned)
	var pos struct {
		Position int64 `json:"queue_number"`
	}
	c.call(http.MethodGet, base+"/queue_num?event_id=demo&request_id="+assigned.ID, "", "", &pos)
	if pos.Position != assigned.Position {
		c.t.Errorf("queue_num %d, assign said %d", pos.Position, assigned.Position)
	}
	for {
		var s struct {
			Serving string `json:"serving_counter"`
		}
		c.call(http.MethodGet, base+"/serving_num?event_id=demo", "", "", &s)
		if n, _ := strconv.ParseInt(s.Serving, 10, 64); n >= pos.Position {
			break
		}
		if curious {
			var w map[string]int64
			c.call(http.MethodGet, base+"/waiting_num?event_id=demo", "", "", &w)
		}
		// A real client sleeps between polls; here the user waits until the
		// admin has announced a counter that covers it, then polls again.
		gate.waitFor(pos.Position)
	}
	var tok struct {
		Access string `json:"access_token"`
	}
	c.call(http.MethodPost, base+"/generate_token", `{"event_id":"demo","request_id":"`+assigned.ID+`"}`, "", &tok)
	claims := verifyWithJWK(c.t, jwk, tok.Access)
	if claims["sub"] != assigned.ID || claims["aud"] != "demo" || claims["queue_position"] != float64(assigned.Position) {
		c.t.Errorf("claims %v for %s at %d", claims, assigned.ID, assigned.Position)
	}
	return assigned.Position
}

type flowClient struct {
	t    *testing.T
	http *http.Client
}

// call makes one request that must answer 200 and decodes its body.
func (c *flowClient) call(method, url, body, adminKey string, out any) {
	req, err := http.NewRequest(method, url, bytes.NewBufferString(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if adminKey != "" {
		req.Header.Set("Authorization", "Bearer "+adminKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		panic(fmt.Sprintf("%s %s: %v", method, url, err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		panic(fmt.Sprintf("%s %s: %d %s", method, url, resp.StatusCode, raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		panic(fmt.Sprintf("%s %s: %v", method, url, err))
	}
}

// servingGate lets users wait for the serving counter to reach them, and
// the admin wait until everyone served so far holds a token, without
// sleeping.
type servingGate struct {
	mu       sync.Mutex
	serving  int64
	admitted int64
	progress *sync.Cond
}

func newServingGate() *servingGate {
	g := &servingGate{}
	g.progress = sync.NewCond(&g.mu)
	return g
}

func (g *servingGate) open(serving int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.serving = serving
	g.progress.Broadcast()
}

func (g *servingGate) waitFor(position int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.serving < position {
		g.progress.Wait()
	}
}

func (g *servingGate) admittedOne() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.admitted++
	g.progress.Broadcast()
}

func (g *servingGate) waitAdmitted(serving, users int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.admitted < min(serving, users) {
		g.progress.Wait()
	}
}
