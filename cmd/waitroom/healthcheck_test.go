package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthcheck: the command asks the server its configuration names
// (plain and TLS) and exits 0; 1 when nothing answers, and 1, never 2 (a
// container runtime's reserved status), for a configuration problem.
func TestHealthcheck(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newCertificate(t, certFile, keyFile, "health")
	plain, _ := startServer(t, nil, localFlags(t)...)
	secure, _ := startServer(t, nil, localFlags(t, "-tls-cert-file", certFile, "-tls-key-file", keyFile)...)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"plain", []string{"healthcheck", "-http-addr", hostOf(t, plain.publicURL())}},
		{"TLS", []string{"healthcheck", "-http-addr", hostOf(t, secure.publicURL()), "-tls-cert-file", certFile, "-tls-key-file", keyFile}},
		{"wildcard address", []string{"healthcheck", "-http-addr", ":" + strings.Split(hostOf(t, plain.publicURL()), ":")[1]}},
	} {
		m, out := newTestMain(nil)
		if code := run(m, c.args); code != 0 || !strings.Contains(out.String(), "healthy") {
			t.Errorf("%s: status %d, %q", c.name, code, out)
		}
	}
	addr := hostOf(t, plain.publicURL())
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	m, _ := newTestMain(nil)
	if code := run(m, []string{"healthcheck", "-http-addr", addr}); code != 1 {
		t.Errorf("server stopped: status %d, want 1", code)
	}
	m, _ = newTestMain(nil)
	if code := run(m, []string{"healthcheck", "-http-addr", "nonsense"}); code != 1 {
		t.Errorf("bad configuration: status %d, want 1", code)
	}
}
