package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The proxies' configurations are the guides' own files
// (docs/integrations/gate), with the example addresses replaced: what the
// test runs is what an operator copies.

// guideConfig reads a guide's configuration and swaps its example values.
func guideConfig(t *testing.T, file, listen, room, site, waitroom string) string {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "docs", "integrations", "gate", file))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for _, swap := range [][2]string{
		{"127.0.0.1:8080", waitroom}, {"127.0.0.1:3000", site}, {"/gate/launch", "/gate/" + room},
	} {
		if !strings.Contains(conf, swap[0]) {
			t.Fatalf("%s no longer mentions %q", file, swap[0])
		}
		conf = strings.ReplaceAll(conf, swap[0], swap[1])
	}
	return conf
}

// startNginx runs Debian's nginx as the test's child (not the system
// service): its own prefix, configuration, pid and temp folders.
func startNginx(t *testing.T, listen, room, site, waitroom string) {
	nginx := requireProgram(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	server := guideConfig(t, "nginx.conf", listen, room, site, waitroom)
	server = strings.Replace(server, "listen 80;", "listen "+listen+";", 1)
	server = strings.Replace(server, "server_name shop.example.com;", "server_name shop.localhost;", 1)
	main := `worker_processes 1;
error_log ` + dir + `/error.log warn;
pid ` + dir + `/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ` + dir + `/body;
    proxy_temp_path ` + dir + `/proxy;
    fastcgi_temp_path ` + dir + `/fastcgi;
    uwsgi_temp_path ` + dir + `/uwsgi;
    scgi_temp_path ` + dir + `/scgi;
` + server + `
}
`
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	runProxy(t, listen, filepath.Join(dir, "stderr.log"), nginx, "-p", dir, "-c", conf, "-g", "daemon off;")
}

// startCaddy runs Caddy, built by the test (caddyBinary), with the
// guide's Caddyfile on plain HTTP.
func startCaddy(t *testing.T, listen, room, site, waitroom string) {
	caddy := caddyBinary(t)
	dir := t.TempDir()
	conf := guideConfig(t, "Caddyfile", listen, room, site, waitroom)
	_, port, _ := strings.Cut(listen, ":")
	conf = "{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n" +
		strings.Replace(conf, "shop.example.com {", "http://shop.localhost:"+port+" {", 1)
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	runProxy(t, listen, filepath.Join(dir, "caddy.log"), caddy, "run", "--config", file, "--adapter", "caddyfile")
}

// TestGateGuidesShowTheirFiles: each gate guide shows its configuration
// file verbatim, so the text an operator copies is the file the browser
// test runs (nginx, Caddy) or the one checked against the proxy's
// reference (Traefik, Envoy).
func TestGateGuidesShowTheirFiles(t *testing.T) {
	docs := filepath.Join(moduleRoot(t), "docs", "integrations")
	for guide, file := range map[string]string{"nginx.md": "nginx.conf", "caddy.md": "Caddyfile", "traefik.md": "traefik.yml", "envoy.md": "envoy.yaml"} {
		g, err := os.ReadFile(filepath.Join(docs, guide))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.ReadFile(filepath.Join(docs, "gate", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(g), string(f)) {
			t.Errorf("%s no longer shows gate/%s as it is", guide, file)
		}
	}
}
