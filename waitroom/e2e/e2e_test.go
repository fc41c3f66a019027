package e2e

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const defaultChromium = "/usr/bin/chromium"

func TestBrowser(t *testing.T) {
	chromium, dir, bin := prepareBrowserTest(t)
	srv := startServer(t, bin, "-http-addr", freeAddr(t), "-admin-addr", freeAddr(t), "-demo")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// WAITROOM_E2E_ONLY names the suites to run (comma-separated), for
	// working on one; all by default.
	args := []string{"run.mjs"}
	if only := os.Getenv("WAITROOM_E2E_ONLY"); only != "" {
		args = append(args, strings.Split(only, ",")...)
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"WR_PUBLIC_URL="+srv.publicURL, "WR_ADMIN_URL="+srv.adminURL, "WR_ADMIN_KEY="+srv.adminKey,
		"WR_ROOM=demo", "WR_CHROMIUM="+chromium, "WR_SCREENSHOTS="+screenshotDir(t))
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// prepareBrowserTest returns the browser, the folder of the JavaScript
// tests (their node modules installed) and a freshly built server binary.
func prepareBrowserTest(t *testing.T) (chromium, dir, bin string) {
	chromium = requireChromium(t)
	root := moduleRoot(t)
	dir = filepath.Join(root, "waitroom", "e2e")
	installNodeModules(t, dir)
	return chromium, dir, buildServer(t, root)
}

// requireChromium returns the browser's path, or skips (fails under CI).
func requireChromium(t *testing.T) string {
	path := os.Getenv("WR_CHROMIUM")
	if path == "" {
		path = defaultChromium
	}
	_, err := os.Stat(path)
	_, nodeErr := exec.LookPath("node")
	if err == nil && nodeErr == nil {
		return path
	}
	msg := "BROWSER TESTS NOT RUN: need " + path + " (apt-get install -y chromium) and node"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("\n\n*** " + msg + " ***\n")
	return ""
}

func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// installNodeModules runs npm ci when the test dependencies are missing.
func installNodeModules(t *testing.T, dir string) {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
}

func buildServer(t *testing.T, root string) string {
	bin := filepath.Join(t.TempDir(), "waitroom")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/waitroom")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type server struct {
	publicURL, adminURL, adminKey string
}

var (
	publicLine = regexp.MustCompile(`Public API:\s+(http://\S+)`)
	adminLine  = regexp.MustCompile(`Admin API:\s+(http://\S+)`)
	keyLine    = regexp.MustCompile(`Admin key for this run[^:]*:\s+(\S+)`)
)

// startServer runs the binary with the embedded store and the given flags
// (listen addresses, rooms), and reads the URLs and the generated admin key
// from its start-up banner.
func startServer(t *testing.T, bin string, args ...string) server {
	args = append([]string{"serve", "-expiry-interval", "1s", "-assign-rate-limit", "0", "-log-level", "warn", "-data-dir", t.TempDir()}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, cmd, logs.Name(), "server")
	var s server
	found := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := publicLine.FindStringSubmatch(line); m != nil {
				s.publicURL = m[1]
			}
			if m := adminLine.FindStringSubmatch(line); m != nil {
				s.adminURL = m[1]
			}
			if m := keyLine.FindStringSubmatch(line); m != nil {
				s.adminKey = m[1]
				close(found)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(exited)
	}()
	select {
	case <-found:
	case <-exited:
		t.Fatal("the server stopped before printing its banner")
	case <-time.After(60 * time.Second):
		t.Fatal("the server printed no banner with URLs and an admin key")
	}
	return s
}

// stopAtCleanup stops a started child (SIGTERM) when the test ends and,
// if the test failed, logs what the child wrote to logPath.
func stopAtCleanup(t *testing.T, cmd *exec.Cmd, logPath, label string) {
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", label, b)
		}
	})
}

// freeAddr returns a loopback address with a port free right now (the
// server refuses ":0" twice, as both listeners would look the same).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv drops WAITROOM_* settings of the caller's environment, so the
// test always runs the embedded store with a generated admin key.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAITROOM_") {
			env = append(env, kv)
		}
	}
	return env
}

// screenshotDir is where the browser tests write their screenshots: a
// temporary folder, so that a test run changes nothing in the checkout, or
// WAITROOM_SCREENSHOTS (make screenshots points it at docs/screenshots).
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("WAITROOM_SCREENSHOTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}
