package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newCertificate writes a self-signed certificate for localhost,
// 127.0.0.1 and ::1 (common name cn) and its key to the two files.
func newCertificate(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tlsGet GETs url on a new connection, trusting roots (nil: trusting
// anything, to look at whatever certificate is served), HTTP/2 offered.
func tlsGet(t *testing.T, url string, roots *x509.CertPool) *http.Response {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil},
		ForceAttemptHTTP2: true, DisableKeepAlives: true,
	}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func servedName(t *testing.T, url string) string {
	t.Helper()
	return tlsGet(t, url, nil).TLS.PeerCertificates[0].Subject.CommonName
}

// TestTLSFromCertificateFiles: both listeners serve https from the files
// named by the settings, with HTTP/2 and HSTS; a replaced certificate is
// served without a restart; a replacement that does not load is logged and
// the previous certificate kept.
func TestTLSFromCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := newCertificate(t, certFile, keyFile, "first")
	m, out := newTestMain(nil)
	logs := &lockedBuffer{}
	m.Stderr, m.CertCheckEvery = logs, 20*time.Millisecond
	if err := m.ParseFlags(localFlags(t, "-log-level", "warn", "-tls-cert-file", certFile, "-tls-key-file", keyFile,
		"-admin-tls-cert-file", certFile, "-admin-tls-key-file", keyFile)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if !strings.HasPrefix(m.publicURL(), "https://127.0.0.1:") || !strings.HasPrefix(m.adminURL(), "https://") ||
		!strings.Contains(out.String(), "Public API:  https://") {
		t.Fatalf("issuer %s, admin %s, banner:\n%s", m.publicURL(), m.adminURL(), out)
	}

	roots := x509.NewCertPool()
	roots.AddCert(first)
	for _, base := range []string{m.publicURL(), m.adminURL()} {
		resp := tlsGet(t, base+"/healthz", roots)
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s/healthz: %s over %s, want 200 over HTTP/2", base, resp.Status, resp.Proto)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
			t.Fatalf("%s: Strict-Transport-Security %q", base, got)
		}
	}
	plain := strings.Replace(m.publicURL(), "https://", "http://", 1)
	if resp, err := http.Get(plain + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain http answered 200 on the TLS listener")
		}
	}

	// A renewal: the files are replaced; new connections get the new pair.
	newCertificate(t, certFile, keyFile, "second")
	waitFor(t, "the renewed certificate", func() bool {
		return servedName(t, m.publicURL()+"/healthz") == "second" && servedName(t, m.adminURL()+"/healthz") == "second"
	})

	// A half-written renewal (a key that does not match): logged, and the
	// previous certificate stays in service.
	other := filepath.Join(dir, "other-key.pem")
	newCertificate(t, filepath.Join(dir, "other-cert.pem"), other, "third")
	raw, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyFile, string(raw))
	waitFor(t, "a log line about the pair that does not load", func() bool {
		return strings.Contains(logs.String(), "do not load; still serving the previous certificate")
	})
	if name := servedName(t, m.publicURL()+"/healthz"); name != "second" {
		t.Fatalf("after a bad pair, serving %q, want the previous certificate", name)
	}
}

// TestHSTSOnlyWithAnHTTPSIssuer: behind a TLS-terminating proxy (https
// issuer, plain listener) the header is sent for the proxy to pass on; with
// an http issuer it is not.
func TestHSTSOnlyWithAnHTTPSIssuer(t *testing.T) {
	for issuer, want := range map[string]string{"https://queue.example.com": "max-age=63072000", "": ""} {
		args := localFlags(t)
		if issuer != "" {
			args = append(args, "-issuer", issuer)
		}
		m, _ := startServer(t, nil, args...)
		resp, err := http.Get(localBase(t, m) + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("issuer %q: Strict-Transport-Security %q, want %q", issuer, got, want)
		}
	}
}

// localBase is the public listener's own address (the issuer may name a
// proxy).
func localBase(t *testing.T, m *Main) string {
	t.Helper()
	return "http://" + m.server.PublicAddr()
}

// TestTLSSettingsAreChecked: half a pair, unreadable files and an http
// issuer on a TLS listener are configuration problems, all at once.
func TestTLSSettingsAreChecked(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	newCertificate(t, certFile, keyFile, "ok")
	m, _ := newTestMain(nil)
	err := m.ParseFlags(localFlags(t, "-tls-cert-file", certFile, "-tls-key-file", filepath.Join(dir, "missing.pem"),
		"-admin-tls-cert-file", certFile, "-issuer", "http://queue.example.com"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"tls_cert_file and tls_key_file: open", "missing.pem", "admin_tls_cert_file and admin_tls_key_file: set both or neither", "issuer: the public listener serves https"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if code := m.ExitCode(err); code != 2 {
		t.Fatalf("exit status %d", code)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hostOf is the host:port of a URL.
func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
