package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is one invocation of the generator.
type Config struct {
	Target   string // public listener
	Admin    string // admin listener
	AdminKey string
	Room     string
	// CreateRoom creates Room through the admin API first (if missing).
	CreateRoom bool

	Scenarios []string
	Mode      string  // "open" or "closed"
	Rate      float64 // open loop: arrivals per second
	Users     int     // closed loop: concurrent users; open loop: cap on operations in flight
	Duration  time.Duration
	Warmup    time.Duration
	Timeout   time.Duration // per request
	Drain     time.Duration // open loop: how long in-flight operations may finish after the last arrival

	PollInterval time.Duration // queue flow: pause between polls
	WaitingEvery int           // queue flow: every n-th serving poll also asks waiting_num
	AdmitRate    float64       // queue flow: admissions per second; 0 admits everyone as they arrive

	Depth       int64 // tickets waiting in the room before measuring
	PrefillConc int   // concurrent enqueues used to reach Depth
	PoolSize    int   // pre-admitted tickets for the token flood, ids for lookups
	// BulkFill fills the room through the admin API's bulk path (calls of
	// FillBatch tickets each) instead of one public enqueue per ticket.
	BulkFill bool
	// GateDifficulty > 0 runs the queue room behind a proof-of-work gate
	// of that difficulty (set with -create-room); GatePool challenges are
	// solved before the run (gate.go).
	GateDifficulty int
	GatePool       int

	// Provider names the OpenID provider under test: "waitroom" (the
	// default) takes visitors through the client's room; any other name is
	// a plain provider (e.g. dex) whose /authorize redirects straight
	// through to the client, with no room and no admission.
	Provider     string
	OIDCRoom     string // the room the OIDC client names
	Headroom     int64  // serving counter kept this far ahead of the OIDC room's queue
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURI  string
	Scope        string
	// SkipUserinfo stops each login of oidc-flow at the token instead of
	// ending it with a userinfo request.
	SkipUserinfo bool

	// GetURL and GetHeaders are the request of the get scenario.
	GetURL     string
	GetHeaders []string

	ServerPID int
	JSONOut   string
	// WindowCmd is a shell command run with "start" when the measured
	// window opens and with "end" when it closes (e.g. to snapshot the
	// stores' statistics for per-request costs).
	WindowCmd string
	Label     string
	Notes     []string
	Smoke     bool
	Quiet     bool

	// Filled by main, stored with every result.
	Command string
	Host    Host
}

// providerWaitroom is the provider of the room flows; every other -provider
// is a plain OpenID provider.
const providerWaitroom = "waitroom"

// plainProviderScenarios are the scenarios that need nothing of a
// provider but the OpenID endpoints.
var plainProviderScenarios = []string{"oidc-flow", "userinfo"}

// plainProvider says the provider under test has no rooms: the OIDC flow
// follows its redirects to the client and nothing is admitted.
func (c Config) plainProvider() bool { return c.Provider != "" && c.Provider != providerWaitroom }

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// ParseConfig reads the command line. Secrets may come from the
// environment (WAITROOM_BENCH_ADMIN_KEY, WAITROOM_BENCH_CLIENT_SECRET) so
// they do not show in the process list.
func ParseConfig(args []string, stderr io.Writer) (Config, error) {
	var c Config
	var scenarios string
	userinfo := true
	fs := flag.NewFlagSet("waitroom-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Target, "target", "http://127.0.0.1:8080", "public listener `URL`")
	fs.StringVar(&c.Admin, "admin", "http://127.0.0.1:8081", "admin listener `URL`")
	fs.StringVar(&c.AdminKey, "admin-key", os.Getenv("WAITROOM_BENCH_ADMIN_KEY"), "admin bearer key (default $WAITROOM_BENCH_ADMIN_KEY)")
	fs.StringVar(&c.Room, "room", "bench", "room (event_id) to load")
	fs.BoolVar(&c.CreateRoom, "create-room", false, "create the room through the admin API first (if it does not exist)")
	fs.StringVar(&scenarios, "scenario", "queue-flow", "comma-separated `scenarios`: "+strings.Join(scenarioNames(), ", "))
	fs.StringVar(&c.Mode, "mode", "closed", "open (fixed arrival rate) or closed (fixed number of users)")
	fs.Float64Var(&c.Rate, "rate", 1000, "open loop: operations started per second")
	fs.IntVar(&c.Users, "c", 32, "closed loop: concurrent users; open loop: most operations in flight")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "unmeasured time before it")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "open loop: time allowed for in-flight operations after the last arrival")
	fs.DurationVar(&c.PollInterval, "poll-interval", 200*time.Millisecond, "queue-flow: pause between polls")
	fs.IntVar(&c.WaitingEvery, "waiting-every", 5, "queue-flow: every n-th serving_num poll also asks waiting_num (0: never)")
	fs.Float64Var(&c.AdmitRate, "admit-rate", 0, "queue-flow: admissions per second through the admin API (0: admit each visitor as it enqueues)")
	fs.Int64Var(&c.Depth, "depth", 0, "fill the room to this many waiting tickets before measuring")
	fs.IntVar(&c.PrefillConc, "prefill-c", 64, "concurrent enqueues used to fill the room")
	fs.BoolVar(&c.BulkFill, "bulk-fill", false, "fill the room through the admin API's bulk path (POST /v1/rooms/{id}/fill, needs -admin-key) instead of one public enqueue per ticket")
	fs.IntVar(&c.GateDifficulty, "gate-difficulty", 0, "enqueue through the room's proof-of-work gate of this difficulty (bits; -create-room sets it on the room): challenges are solved before the run")
	fs.IntVar(&c.GatePool, "gate-pool", 100000, "with -gate-difficulty: challenges solved before the run (solve enough for every enqueue of the run; more are solved on the spot, inside the timing)")
	fs.IntVar(&c.PoolSize, "pool", 20000, "token: admitted tickets prepared before the run; lookup: ticket ids to look up")
	fs.StringVar(&c.Provider, "provider", providerWaitroom, "the OpenID `provider` under test, stored with the results: waitroom (room and admission), or the name of a plain provider such as dex (redirects from /authorize straight to the client; only "+strings.Join(plainProviderScenarios, " and ")+")")
	fs.StringVar(&c.OIDCRoom, "oidc-room", "bench-oidc", "the room the OIDC client (-client-id) names")
	fs.Int64Var(&c.Headroom, "headroom", 1000000, "oidc-flow: raise the OIDC room's serving counter this far ahead of its queue, so that every visitor is admitted at once")
	fs.StringVar(&c.Issuer, "issuer", "", "OIDC issuer `URL` (default: the target)")
	fs.StringVar(&c.ClientID, "client-id", "bench", "OIDC client id (a client with instant admission)")
	fs.StringVar(&c.ClientSecret, "client-secret", os.Getenv("WAITROOM_BENCH_CLIENT_SECRET"), "OIDC client secret (default $WAITROOM_BENCH_CLIENT_SECRET)")
	fs.StringVar(&c.RedirectURI, "redirect-uri", "http://127.0.0.1:9999/callback", "OIDC redirect URI registered for the client")
	fs.StringVar(&c.Scope, "scope", "openid profile", "OIDC scope")
	fs.BoolVar(&userinfo, "userinfo", true, "oidc-flow: end each login with a userinfo request (-userinfo=false stops at the token, for a provider whose userinfo fails)")
	fs.StringVar(&c.GetURL, "url", "", "get: the `URL` to request")
	fs.Var((*headerList)(&c.GetHeaders), "header", "get: a request header `\"Name: value\"` (repeatable)")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "server process id, to report its CPU and memory")
	fs.StringVar(&c.WindowCmd, "window-cmd", "", "shell `command` run with the argument start when the measured window opens and end when it closes (e.g. to snapshot Redis and PostgreSQL statistics)")
	fs.StringVar(&c.JSONOut, "json", "", "also write the results as JSON to this `file` (- for stdout)")
	fs.StringVar(&c.Label, "label", "", "free text stored with the results (e.g. ES256)")
	fs.Var((*listFlag)(&c.Notes), "note", "a note stored with the results (repeatable)")
	fs.BoolVar(&c.Smoke, "smoke", false, "run every given scenario briefly and fail on any error (CI)")
	fs.BoolVar(&c.Quiet, "q", false, "no table on stdout")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.Scenarios = splitList(scenarios)
	c.SkipUserinfo = !userinfo
	if c.Issuer == "" {
		c.Issuer = c.Target
	}
	return c, c.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	for _, u := range []struct{ name, v string }{{"target", c.Target}, {"admin", c.Admin}, {"issuer", c.Issuer}} {
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("-%s: want an http(s) URL, got %q", u.name, u.v))
		}
	}
	if len(c.Scenarios) == 0 {
		errs = append(errs, errors.New("-scenario: name at least one"))
	}
	for _, s := range c.Scenarios {
		if _, ok := scenarios[s]; !ok {
			errs = append(errs, fmt.Errorf("-scenario: unknown %q (known: %s)", s, strings.Join(scenarioNames(), ", ")))
		}
	}
	if c.plainProvider() {
		for _, s := range c.Scenarios {
			if !slices.Contains(plainProviderScenarios, s) {
				errs = append(errs, fmt.Errorf("-scenario %s: needs a waitroom server; against -provider %s only %s run", s, c.Provider, strings.Join(plainProviderScenarios, ", ")))
			}
		}
		if c.CreateRoom || c.Depth > 0 {
			errs = append(errs, fmt.Errorf("-create-room, -depth: no rooms at -provider %s", c.Provider))
		}
	}
	if slices.Contains(c.Scenarios, "get") {
		if p, err := url.Parse(c.GetURL); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("-url: the get scenario needs an http(s) URL, got %q", c.GetURL))
		}
	}
	if c.Mode != "open" && c.Mode != "closed" {
		errs = append(errs, fmt.Errorf("-mode: open or closed, got %q", c.Mode))
	}
	if c.Mode == "open" && c.Rate <= 0 {
		errs = append(errs, errors.New("-rate: must be > 0 in open loop"))
	}
	if c.Users < 1 {
		errs = append(errs, errors.New("-c: must be >= 1"))
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Timeout <= 0 || c.Drain < 0 {
		errs = append(errs, errors.New("-duration and -timeout must be > 0, -warmup and -drain >= 0"))
	}
	if c.Headroom < 0 || c.Depth < 0 || c.PrefillConc < 1 || c.PoolSize < 1 || c.AdmitRate < 0 || c.WaitingEvery < 0 {
		errs = append(errs, errors.New("-depth, -admit-rate, -waiting-every must be >= 0; -prefill-c, -pool >= 1"))
	}
	if c.GateDifficulty < 0 || c.GateDifficulty > 26 || (c.GateDifficulty > 0 && c.GatePool < 1) {
		errs = append(errs, errors.New("-gate-difficulty: 0 (no gate) to 26 bits; -gate-pool >= 1 with a gate"))
	}
	return errors.Join(errs...)
}
