package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The host names of docs/integrations/oauth2-proxy.md, replaced by the
// test's own addresses.
const (
	guideIssuer = "https://queue.example.com"
	guideApp    = "https://app.example.com"
)

// TestOAuth2Proxy keeps docs/integrations/oauth2-proxy.md honest: it runs
// the pinned oauth2-proxy (waitroom/e2e/oauth2proxy/tool) with the client
// block and the command line read from the guide, and drives Chromium
// through a queued login, a session refresh and a sign-out. Only host
// names, ports and secrets are substituted, and --cookie-refresh is
// shortened so that a refresh happens within the test.
func TestOAuth2Proxy(t *testing.T) {
	chromium := requireChromium(t)
	root := moduleRoot(t)
	dir := filepath.Join(root, "waitroom", "e2e")
	installNodeModules(t, dir)
	proxyBin := buildOAuth2Proxy(t, filepath.Join(dir, "oauth2proxy", "tool"))
	client, flags := readGuide(t, filepath.Join(root, "docs", "integrations", "oauth2-proxy.md"))

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"path": r.URL.Path, "user": r.Header.Get("X-Forwarded-User"),
			"email": r.Header.Get("X-Forwarded-Email"), "preferred_username": r.Header.Get("X-Forwarded-Preferred-Username"),
		})
	}))
	t.Cleanup(upstream.Close)

	// waitroom on localhost, oauth2-proxy on 127.0.0.1: two host names, so
	// that neither sees the other's cookies (cookies ignore the port).
	wrAddr, proxyAddr := freeAddr(t), freeAddr(t)
	issuer := "http://localhost:" + portOf(wrAddr)
	app := "http://" + proxyAddr
	replace := strings.NewReplacer(guideIssuer, issuer, guideApp, app)

	room, _ := client["room"].(string)
	if room == "" {
		t.Fatal("the guide's client names no room")
	}
	secret, _ := client["secret"].(string)
	client = substitute(client, replace).(map[string]any)
	conf, err := yaml.Marshal(map[string]any{
		"issuer": issuer, "demo": false,
		"rooms":   []map[string]any{{"id": room, "name": "oauth2-proxy test room"}},
		"clients": []any{client},
	})
	if err != nil {
		t.Fatal(err)
	}
	confFile := filepath.Join(t.TempDir(), "waitroom.yaml")
	if err := os.WriteFile(confFile, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, buildServer(t, root), "-config", confFile, "-http-addr", wrAddr, "-admin-addr", freeAddr(t))

	cookieSecret := make([]byte, 32)
	_, _ = rand.Read(cookieSecret)
	args := proxyArgs(t, flags, replace, map[string]string{
		"$SECRET": secret, "$COOKIE_SECRET": base64.RawURLEncoding.EncodeToString(cookieSecret),
	}, map[string]string{
		"--upstream":       upstream.URL + "/",
		"--cookie-refresh": "4s",
	})
	// Test-environment flags the guide does not carry: the listen address
	// and cookies without the Secure flag (the test runs over http).
	args = append(args, "--http-address="+proxyAddr, "--cookie-secure=false")
	proxyLog := startOAuth2Proxy(t, proxyBin, args, app)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "oauth2proxy.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"WR_PUBLIC_URL="+srv.publicURL, "WR_ADMIN_URL="+srv.adminURL, "WR_ADMIN_KEY="+srv.adminKey,
		"WR_ROOM="+room, "WR_CHROMIUM="+chromium, "WR_PROXY_URL="+app, "WR_SCREENSHOTS="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("oauth2-proxy browser test:\n%s", out)
	logText := proxyLog.String()
	if err != nil || t.Failed() {
		t.Logf("oauth2-proxy log:\n%s", logText)
	}
	if err != nil {
		t.Fatalf("oauth2-proxy browser test failed: %v", err)
	}
	for _, want := range []string{"Refreshing session", "AuthSuccess"} {
		if !strings.Contains(logText, want) {
			t.Errorf("the oauth2-proxy log has no %q", want)
		}
	}
	for _, bad := range []string{"error refreshing access token", "Error redeeming code", "Error creating session", "backend logout"} {
		if strings.Contains(logText, bad) {
			t.Errorf("the oauth2-proxy log has %q", bad)
		}
	}
}

// buildOAuth2Proxy builds the oauth2-proxy pinned by the tool module into
// the user's cache (keyed by the module's go.mod and go.sum, so reruns take
// no time). A failed build skips the test outside CI, and fails it under
// CI=true.
func buildOAuth2Proxy(t *testing.T, toolDir string) string {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(toolDir, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "waitroom-e2e", "oauth2-proxy-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := bin + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "github.com/oauth2-proxy/oauth2-proxy/v7")
	cmd.Dir = toolDir
	cmd.Env = append(cleanEnv(), "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := fmt.Sprintf("OAUTH2-PROXY TEST NOT RUN: building the pinned oauth2-proxy failed: %v\n%s", err, out)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("\n\n*** " + msg + " ***\n")
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

var fence = regexp.MustCompile("(?s)```(\\w*)\\n(.*?)```")

// readGuide returns the client of the guide's YAML block and the flags of
// its `oauth2-proxy \` command block.
func readGuide(t *testing.T, path string) (map[string]any, []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var client map[string]any
	var flags []string
	for _, m := range fence.FindAllStringSubmatch(string(b), -1) {
		lang, body := m[1], m[2]
		switch {
		case lang == "yaml" && strings.HasPrefix(body, "clients:"):
			var doc struct {
				Clients []map[string]any `yaml:"clients"`
			}
			if err := yaml.Unmarshal([]byte(body), &doc); err != nil || len(doc.Clients) != 1 {
				t.Fatalf("%s: the clients block does not hold one client: %v", path, err)
			}
			client = doc.Clients[0]
		case lang == "sh" && strings.HasPrefix(body, "oauth2-proxy "):
			words, err := shellWords(strings.ReplaceAll(body, "\\\n", " "))
			if err != nil {
				t.Fatalf("%s: the command block: %v", path, err)
			}
			flags = words[1:]
		}
	}
	if client == nil || flags == nil {
		t.Fatalf("%s: no `clients:` yaml block or no `oauth2-proxy \\` sh block", path)
	}
	return client, flags
}

// proxyArgs substitutes the guide's hosts and secrets in its flags and
// overrides the values of the given flags. Anything left that looks like a
// placeholder fails the test: the guide and the test must agree.
func proxyArgs(t *testing.T, flags []string, hosts *strings.Replacer, secrets, override map[string]string) []string {
	var args []string
	seen := map[string]bool{}
	for _, f := range flags {
		name, value, _ := strings.Cut(f, "=")
		if v, ok := override[name]; ok {
			value, seen[name] = v, true
		}
		value = hosts.Replace(value)
		for k, v := range secrets {
			value = strings.ReplaceAll(value, k, v)
		}
		if strings.Contains(value, "$") || strings.Contains(value, "example.com") {
			t.Fatalf("flag %s: %q is not substituted by the test", name, value)
		}
		if value == "" && !strings.Contains(f, "=") {
			args = append(args, name)
		} else {
			args = append(args, name+"="+value)
		}
	}
	for name := range override {
		if !seen[name] {
			t.Fatalf("the guide's command has no %s", name)
		}
	}
	return args
}

// substitute applies the host replacer to every string of a YAML value.
func substitute(v any, r *strings.Replacer) any {
	switch x := v.(type) {
	case string:
		return r.Replace(x)
	case []any:
		for i := range x {
			x[i] = substitute(x[i], r)
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = substitute(x[k], r)
		}
		return x
	}
	return v
}

// shellWords splits a command line as sh would for the guide's simple
// quoting: single and double quotes, no expansions.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced %c", quote)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startOAuth2Proxy runs oauth2-proxy and waits until /ping answers.
func startOAuth2Proxy(t *testing.T, bin string, args []string, base string) *lockedBuffer {
	t.Logf("oauth2-proxy %s", strings.Join(args, " "))
	var out lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("oauth2-proxy stopped:\n%s", out.String())
		default:
		}
		if resp, err := http.Get(base + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy does not answer /ping:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func portOf(addr string) string {
	i := strings.LastIndex(addr, ":")
	return addr[i+1:]
}
