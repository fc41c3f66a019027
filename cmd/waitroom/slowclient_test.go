package main

import (
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// TestSlowClientsAreCutOff: a client that never finishes its headers, or
// sends less body than it announced, holds a connection no longer than
// read_header_timeout and read_timeout (1s and 2s here), on both
// listeners; the margin allows for a loaded machine but stays far below
// the 30 s such a client could hold before.
func TestSlowClientsAreCutOff(t *testing.T) {
	m, _ := startServer(t, nil, localFlags(t, "-read-header-timeout", "1s", "-read-timeout", "2s")...)
	for _, base := range []string{m.publicURL(), m.adminURL()} {
		u, _ := url.Parse(base)
		t.Run(u.Host, func(t *testing.T) {
			slowHeaders := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
			shortBody := "POST /assign_queue_num HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"event_id\":"
			for name, sent := range map[string]string{"slow headers": slowHeaders, "short body": shortBody} {
				if held := heldFor(t, u.Host, sent); held > 6*time.Second {
					t.Errorf("%s: connection held %s, want about the configured timeout", name, held)
				}
			}
		})
	}
}

// heldFor sends a partial request, then waits for the server to close the
// connection (reading whatever answer comes first) and says how long that
// took. It gives up after 20 s.
func heldFor(t *testing.T, addr, partial string) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, partial); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(start.Add(20 * time.Second))
	_, err = io.Copy(io.Discard, conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server still held the connection after 20 s")
	}
	return time.Since(start)
}
