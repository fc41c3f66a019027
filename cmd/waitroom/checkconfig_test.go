package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkConfig runs "waitroom check-config" over a file with env and
// returns the exit status and everything printed.
func checkConfig(t *testing.T, env map[string]string, file string, args ...string) (int, string) {
	t.Helper()
	m, out := newTestMain(env)
	errs := &bytes.Buffer{}
	m.Stderr = errs
	argv := []string{"check-config"}
	if file != "" {
		path := filepath.Join(t.TempDir(), "waitroom.yaml")
		writeFile(t, path, file)
		argv = append(argv, "-config", path)
	}
	code := run(m, append(argv, args...))
	return code, out.String() + errs.String()
}

func wantAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

// TestCheckConfigNamesEveryProblem: the case (a client naming a
// room that is not there, a short secret) and the other client mistakes,
// all reported at once with exit status 2, each with its path.
func TestCheckConfigNamesEveryProblem(t *testing.T) {
	code, out := checkConfig(t, nil, `
rooms:
  - id: sale
clients:
  - id: shop
    secret: short
    room: tickets
    redirect_uris: ["https://shop.example.com/cb"]
  - id: shop
    secret: "long-enough-secret-0123"
    room: sale
    redirect_uris: ["http://shop.example.com/cb", "http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8/cb"]
`)
	if code != 2 {
		t.Fatalf("exit status %d, want 2:\n%s", code, out)
	}
	wantAll(t, out,
		`clients[0].secret: at least 16 characters`,
		`clients[0].room: no room "tickets" in this configuration (rooms: sale)`,
		`clients[1].id: "shop" is defined twice (also clients[0])`,
		`clients[1].redirect_uris: "http://shop.example.com/cb" must use https`)
	for _, loopback := range []string{"localhost:3000", "127.0.0.1/cb", "[::1]:8"} {
		if strings.Contains(out, loopback) {
			t.Errorf("loopback http redirect URI %s refused:\n%s", loopback, out)
		}
	}
	if strings.Contains(out, "configuration OK") {
		t.Fatal("said OK")
	}
}

// TestCheckConfigDemoAndClients: a file client may name the demo room, but
// not take the demo client's id, only while the demo is on.
func TestCheckConfigDemoAndClients(t *testing.T) {
	client := `
clients:
  - id: demo
    secret: "long-enough-secret-0123"
    room: demo
    redirect_uris: ["https://shop.example.com/cb"]
`
	_, out := checkConfig(t, nil, client)
	wantAll(t, out, `clients[0].id: "demo" is the demo client's id`)
	code, out := checkConfig(t, nil, "demo: false\n"+client)
	if code != 2 || strings.Contains(out, "demo client's id") {
		t.Fatalf("status %d:\n%s", code, out)
	}
	wantAll(t, out, `clients[0].room: no room "demo" in this configuration (no rooms are configured)`)
}

func TestCheckConfigOK(t *testing.T) {
	code, out := checkConfig(t, map[string]string{"WAITROOM_HTTP_ADR": ":9000", "WAITROOM_TEST_ANYTHING": "x"}, `
issuer: https://queue.example.com
rooms:
  - {id: sale, name: Sale, expiry_period: 10m}
clients:
  - id: shop
    secret: "long-enough-secret-0123"
    room: sale
    redirect_uris: ["https://shop.example.com/cb"]
`, "-data-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit status %d:\n%s", code, out)
	}
	wantAll(t, out, "configuration OK", "issuer https://queue.example.com", "rooms:    sale", "clients:  shop (room sale)",
		"demo:     off (rooms are configured", "warning: WAITROOM_HTTP_ADR is not a setting; did you mean WAITROOM_HTTP_ADDR?")
	if strings.Contains(out, "WAITROOM_TEST_ANYTHING") {
		t.Errorf("the test suite's variables are warned about:\n%s", out)
	}
}

// TestConfigMistakesInWords: unknown keys name the nearest known key, type
// and duration errors name the field and say what is wanted in words, and
// settings of earlier versions say what replaced them.
func TestConfigMistakesInWords(t *testing.T) {
	code, out := checkConfig(t, map[string]string{"WAITROOM_DEMO_ROOM": "false", "WAITROOM_KEY_FILE": "/x/keys.json"}, `
http_adr: ":9000"
assign_rate_window: soon
max_body_bytes: lots
pprof: yes
cors_origins: {a: b}
key_file: keys.json
tls_cert: x.pem
rooms:
  - id: sale
    token_validity: soon
    expiry_period: 0s
    inlet: {strategy: rate, per_minut: 5}
    tokn_validity: 1h
  - just-a-name
clients:
  - id: shop
    secret: "long-enough-secret-0123"
    room: sale
    redirect_uri: ["https://shop.example.com/cb"]
    max_hold: a while
    grant_types: authorization_code
`)
	if code != 2 {
		t.Fatalf("exit status %d:\n%s", code, out)
	}
	wantAll(t, out,
		"http_adr (line 2): unknown setting; did you mean http_addr?",
		`assign_rate_window (line 3): want a duration such as 90s, 15m or 1h, got "soon"`,
		`max_body_bytes (line 4): want a whole number, got "lots"`,
		`pprof (line 5): want true or false, got "yes"`,
		"cors_origins (line 6): want a list or a comma-separated text, got a mapping",
		"key_file (line 7): no longer read: the embedded store keeps its keys in <data_dir>/keys.json",
		"tls_cert (line 8): unknown setting; did you mean tls_cert_file?",
		`rooms[0].token_validity: want a duration such as "90s" or "15m", got "soon"`,
		"rooms[0].inlet.per_minut: unknown field; did you mean per_minute?",
		"rooms[0].tokn_validity: unknown field; did you mean token_validity?",
		"rooms[1] (line 15): want a mapping of fields, got a value",
		"clients[0].redirect_uri: unknown field; did you mean redirect_uris?",
		`clients[0].max_hold: want a duration such as "90s" or "15m", got "a while"`,
		`clients[0].grant_types: want a list of text, got "authorization_code"`,
		"WAITROOM_DEMO_ROOM: renamed demo",
		"WAITROOM_KEY_FILE: no longer read")
	for _, leak := range []string{"!!", "Go struct", "waitroom.Duration", "unmarshal"} {
		if strings.Contains(out, leak) {
			t.Errorf("output speaks of %q:\n%s", leak, out)
		}
	}
	// The room's zero period is its own problem once the rest is fixed.
	_, out = checkConfig(t, nil, "rooms:\n  - {id: sale, expiry_period: 0s}\n")
	wantAll(t, out, "rooms[0].expiry_period: between 1s and 744h (expiry_enabled: false turns expiry off)")
}

// TestDataDir: the embedded store's keys live in data_dir, by default the
// user's state directory whatever the working directory, and a start with
// no home to derive it from says what to set.
func TestDataDir(t *testing.T) {
	for env, want := range map[[2]string]string{
		{"/state", "/home/u"}: "/state/waitroom",
		{"", "/home/u"}:       "/home/u/.local/state/waitroom",
		{"relative", "/h"}:    "/h/.local/state/waitroom",
	} {
		lookup := func(k string) (string, bool) {
			v := map[string]string{"XDG_STATE_HOME": env[0], "HOME": env[1]}[k]
			return v, v != ""
		}
		if got, err := defaultDataDir(lookup); err != nil || got != want {
			t.Errorf("XDG_STATE_HOME=%q HOME=%q: %q %v, want %q", env[0], env[1], got, err, want)
		}
	}
	m, _ := newTestMain(map[string]string{"XDG_STATE_HOME": ""})
	err := m.ParseFlags(nil)
	if err == nil || !strings.Contains(err.Error(), "data_dir: no default without HOME or XDG_STATE_HOME; set WAITROOM_DATA_DIR") {
		t.Fatalf("no home: %v", err)
	}

	state := t.TempDir()
	m, _ = startServer(t, map[string]string{"XDG_STATE_HOME": state},
		"-http-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0", "-log-level", "error", "-signing-algorithm", "ES256")
	if info, err := os.Stat(filepath.Join(state, "waitroom", "keys.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("keys in the default data_dir: %v %v", info, err)
	}
	_ = m.Close()
}

// TestDemoOnlyWhereExpected: the embedded store with no rooms has the demo
// and says why; rooms in the file turn it off unless demo: true.
func TestDemoOnlyWhereExpected(t *testing.T) {
	withRooms := filepath.Join(t.TempDir(), "rooms.yaml")
	writeFile(t, withRooms, "rooms:\n  - {id: sale}\n")
	for _, c := range []struct {
		args   []string
		on     bool
		banner string
	}{
		{nil, true, "Demo:        on (embedded store, no rooms configured; demo: false turns it off)"},
		{[]string{"-demo=false"}, false, "Demo:        off (demo: false)"},
		{[]string{"-config", withRooms}, false, "Demo:        off (rooms are configured; demo: true adds it)"},
		{[]string{"-config", withRooms, "-demo"}, true, "Demo:        on (demo: true)"},
	} {
		m, out := startServer(t, nil, localFlags(t, c.args...)...)
		if !strings.Contains(out.String(), c.banner) {
			t.Errorf("%v: banner lacks %q:\n%s", c.args, c.banner, out)
		}
		resp, err := http.Get(m.publicURL() + "/demo/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		code, _ := call(t, http.MethodGet, m.publicURL()+"/serving_num?event_id=demo", "", "")
		if (resp.StatusCode == 200) != c.on || (code == 200) != c.on {
			t.Errorf("%v: /demo/ %d, demo room %d; want the demo %v", c.args, resp.StatusCode, code, c.on)
		}
	}
}
