package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestGetScenario: get sends -url with every -header, and counts any
// status but 200 as an error.
func TestGetScenario(t *testing.T) {
	var withCookie, without atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("waitroom_launch"); err == nil && c.Value == "token" && r.Header.Get("X-Extra") == "1" {
			withCookie.Add(1)
			return
		}
		without.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	b := NewBench(Config{Scenarios: []string{"get"}, GetURL: srv.URL + "/product?id=1",
		GetHeaders: []string{"Cookie: waitroom_launch=token", "X-Extra: 1"}, Users: 1, PrefillConc: 1, Timeout: 5e9}, io.Discard)
	defer b.Close()
	rec := NewRecorder([]string{stepGet})
	if err := getOne(context.Background(), b, rec); err != nil || withCookie.Load() != 1 {
		t.Fatalf("get with the headers: %v (%d seen)", err, withCookie.Load())
	}
	b.cfg.GetHeaders = nil
	if err := getOne(context.Background(), b, rec); err == nil || !strings.Contains(err.Error(), "503") || without.Load() != 1 {
		t.Fatalf("get answered 503: %v, want a status error", err)
	}
}

func TestGetNeedsAURL(t *testing.T) {
	c := Config{Target: "http://127.0.0.1:1", Admin: "http://127.0.0.1:2", Issuer: "http://127.0.0.1:1", Scenarios: []string{"get"},
		Mode: "closed", Users: 1, Duration: 1, Timeout: 1, PrefillConc: 1, PoolSize: 1}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "-url") {
		t.Fatalf("Validate = %v, want -url named", err)
	}
	c.GetURL = "http://127.0.0.1:3/"
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}
