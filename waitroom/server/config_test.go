package server

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func TestDecodeSecretKey(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789abcdef")
	for _, text := range []string{
		strings.Repeat("ab", 32),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(append(raw, 0xfb, 0xff)),
		"  " + strings.Repeat("00", 40) + "\n",
	} {
		if b, err := decodeSecretKey(text); err != nil || len(b) < 32 {
			t.Errorf("decodeSecretKey(%q) = %d bytes, %v", text, len(b), err)
		}
	}
	for _, text := range []string{strings.Repeat("ab", 31), base64.StdEncoding.EncodeToString(raw[:31]), "not a key at all, though long enough to be one"} {
		if _, err := decodeSecretKey(text); err == nil {
			t.Errorf("decodeSecretKey(%q) accepted", text)
		}
	}
}

// TestSecretKeyNeverShown: a bad key is reported without its value, the
// key has no flag, and -help does not print it.
func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{":8080": "http://localhost:8080", "0.0.0.0:80": "http://localhost",
		"127.0.0.1:9": "http://127.0.0.1:9", "[::]:8080": "http://localhost:8080", "[::1]:8080": "http://[::1]:8080"} {
		if got := LocalURL(addr, false); got != want {
			t.Errorf("LocalURL(%q) = %q, want %q", addr, got, want)
		}
	}
	for addr, want := range map[string]string{":8443": "https://localhost:8443", "0.0.0.0:443": "https://localhost", "127.0.0.1:80": "https://127.0.0.1:80"} {
		if got := LocalURL(addr, true); got != want {
			t.Errorf("LocalURL(%q, tls) = %q, want %q", addr, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, raw := range []string{"postgres://u:topsecret@h/db", "redis://:topsecret@h:6379/0"} {
		if got := redactURL(raw); strings.Contains(got, "topsecret") {
			t.Fatal(got)
		}
	}
	if got := redactURL("host=h password=topsecret dbname=d"); strings.Contains(got, "topsecret") {
		t.Fatal(got)
	}
}

// TestReadTimeoutsAreBounded: a header timeout from 1s to 1m, and a read
// timeout no shorter than it (else the header one means nothing).
func TestReadTimeoutsAreBounded(t *testing.T) {
	for _, c := range []struct {
		header, read time.Duration
		want         string
	}{
		{5 * time.Second, 10 * time.Second, ""},
		{5 * time.Second, 5 * time.Second, ""},
		{500 * time.Millisecond, 10 * time.Second, "read_header_timeout: between 1s and 1m"},
		{5 * time.Second, 2 * time.Second, "read_timeout: between read_header_timeout and 10m"},
		{5 * time.Second, time.Hour, "read_timeout: between read_header_timeout and 10m"},
	} {
		cfg := DefaultConfig()
		cfg.ReadHeaderTimeout, cfg.ReadTimeout = waitroom.Duration(c.header), waitroom.Duration(c.read)
		got := strings.Join(cfg.limitProblems(), "; ")
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("header %s, read %s: problems %q, want %q", c.header, c.read, got, c.want)
		}
	}
}
