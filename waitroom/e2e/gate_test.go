package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGateBehindProxies puts waitroom's gate in front of a small site with
// Debian's nginx and with Caddy, and drives a browser through it (see
// gate.test.mjs): the room page, admission, the exact URL with its query,
// a second visit without waiting, an asset let through, an API answered
// 503 with Retry-After. The site is shop.localhost (Chromium resolves
// *.localhost to loopback), waitroom is 127.0.0.1: two hosts, as in a
// deployment.
func TestGateBehindProxies(t *testing.T) {
	chromium, dir, bin := prepareBrowserTest(t)
	srv := startServer(t, bin, "-http-addr", freeAddr(t), "-admin-addr", freeAddr(t))
	site := httptest.NewServer(http.HandlerFunc(shop))
	t.Cleanup(site.Close)
	siteAddr := strings.TrimPrefix(site.URL, "http://")
	waitroomAddr := strings.TrimPrefix(srv.publicURL, "http://")

	for _, p := range []struct {
		name  string
		start func(t *testing.T, listen, room, site, waitroom string)
	}{
		{"nginx", startNginx},
		{"caddy", startCaddy},
	} {
		t.Run(p.name, func(t *testing.T) {
			room := "shop-" + p.name
			createGateRoom(t, srv, room)
			listen := freeAddr(t)
			p.start(t, listen, room, siteAddr, waitroomAddr)
			_, port, _ := net.SplitHostPort(listen)
			runSuite(t, dir, "gate", srv, chromium,
				"WR_ROOM="+room, "WR_SITE_URL=http://shop.localhost:"+port, "WR_PROXY="+p.name)
		})
	}
}

// shop is the protected site: it shows what it was asked for and what the
// gate told it about the visitor.
func shop(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/static/app.css":
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "body{font-family:sans-serif}")
	case strings.HasPrefix(r.URL.Path, "/api/"):
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[]}`)
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Shop</title><main><h1>Shop</h1>
<p id="uri">%s</p><p id="position">%s</p><p id="visitor">%s</p></main></html>`,
			html.EscapeString(r.URL.RequestURI()), html.EscapeString(r.Header.Get("X-Waitroom-Position")),
			html.EscapeString(r.Header.Get("X-Waitroom-Visitor")))
	}
}

// createGateRoom creates a room (manual inlet) whose gate protects
// shop.localhost: assets and health checks pass, /api/ is busy.
func createGateRoom(t *testing.T, srv server, room string) {
	body, _ := json.Marshal(map[string]any{
		"id": room, "name": "Shop launch",
		"gate": map[string]any{"hosts": []string{"shop.localhost"}, "pass": []string{"/static/", "/healthz"},
			"busy": []string{"/api/**"}, "retry_after": "15s"},
	})
	req, _ := http.NewRequest(http.MethodPost, srv.adminURL+"/v1/rooms", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("creating room %s: status %d", room, resp.StatusCode)
	}
}

// runSuite runs one JavaScript suite against the server.
func runSuite(t *testing.T, dir, suite string, srv server, chromium string, extra ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "run.mjs", suite)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(),
		"WR_PUBLIC_URL="+srv.publicURL, "WR_ADMIN_URL="+srv.adminURL, "WR_ADMIN_KEY="+srv.adminKey,
		"WR_CHROMIUM="+chromium, "WR_SCREENSHOTS="+screenshotDir(t)), extra...)
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// requireProgram returns the path of a program, or skips (fails under CI).
func requireProgram(t *testing.T, name string, paths ...string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := "GATE TEST NOT RUN: need " + name + " (apt-get install -y " + name + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("\n\n*** " + msg + " ***\n")
	return ""
}

// runProxy starts a proxy as a child of the test and waits until it
// accepts connections on listen; it is stopped (SIGTERM) at cleanup.
func runProxy(t *testing.T, listen string, logFile string, name string, args ...string) {
	cmd := exec.Command(name, args...)
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, cmd, logFile, filepath.Base(name))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("%s does not listen on %s:\n%s", name, listen, b)
}
