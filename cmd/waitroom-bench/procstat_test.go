package main

import (
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	line := []byte("4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 9 0 100 1000000 300 18446744073709551615")
	got, err := parseStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3.0 { // (250 + 50) ticks / 100
		t.Fatalf("cpu = %v, want 3", got)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Fatal("want an error for a line without a command field")
	}
}

func TestStatusFields(t *testing.T) {
	status := []byte("Name:\tserver\nVmRSS:\t  20480 kB\nCpus_allowed_list:\t0\n")
	v, err := statusField(status, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := parseKB(v); err != nil || n != 20480*1024 {
		t.Fatalf("rss = %d, %v", n, err)
	}
	if v, _ := statusField(status, "Cpus_allowed_list"); v != "0" {
		t.Fatalf("cores = %q", v)
	}
	if _, err := statusField(status, "Missing"); err == nil {
		t.Fatal("want an error for a missing field")
	}
}

func TestWatchSelf(t *testing.T) {
	w := startProcWatch(selfPID())
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) { // burn a little CPU
	}
	u := w.stop()
	if u.Err != "" {
		t.Skipf("no /proc here: %s", u.Err)
	}
	if u.RSSMax <= 0 || u.RSSEnd <= 0 || u.Cores == "" {
		t.Fatalf("usage = %+v", u)
	}
	if u.CPUSeconds < 0 {
		t.Fatalf("negative cpu: %+v", u)
	}
}

func TestWatchNothing(t *testing.T) {
	if u := startProcWatch(0).stop(); u != (procUsage{}) {
		t.Fatalf("pid 0 must report nothing, got %+v", u)
	}
}
