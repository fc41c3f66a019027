package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// caddyVersion is the Caddy the gate test builds and runs.
const caddyVersion = "v2.11.9"

// caddyBinary returns a Caddy built from the Go module proxy in a
// throwaway module (never in waitroom's go.mod), cached by version under
// the user cache folder so that later runs reuse it. Failing to build
// skips the test, except under CI=true.
func caddyBinary(t *testing.T) string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "waitroom-e2e", "caddy-"+caddyVersion, "caddy")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	src := t.TempDir()
	files := map[string]string{
		"go.mod": "module caddybuild\n\ngo 1.26\n",
		"main.go": `package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() { caddycmd.Main() }
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := bin + ".tmp"
	for _, args := range [][]string{
		{"get", "github.com/caddyserver/caddy/v2@" + caddyVersion},
		{"mod", "tidy"},
		{"build", "-o", tmp, "."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			msg := "GATE TEST NOT RUN with Caddy: building Caddy " + caddyVersion + " failed: " + err.Error() + "\n" + string(out)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
