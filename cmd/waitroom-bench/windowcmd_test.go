package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The window command runs once with start and once with end, in that
// order, also when the run is cut short before the planned end; a window
// that never opened runs neither.
func TestWindowCmd(t *testing.T) {
	read := func(log string) string {
		got, _ := os.ReadFile(log)
		return strings.ReplaceAll(string(got), " ", "")
	}
	for _, tc := range []struct {
		name             string
		warmup, duration time.Duration
		wait             string // wait until the log reads this before finishing
		want             string
	}{
		{"full window", time.Millisecond, 20 * time.Millisecond, "start\nend\n", "start\nend\n"},
		{"cut short", time.Millisecond, time.Hour, "start\n", "start\nend\n"},
		{"never opened", time.Hour, time.Hour, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "log")
			b := &Bench{cfg: Config{Warmup: tc.warmup, Duration: tc.duration, WindowCmd: "echo >>" + log}}
			h := b.windowHooks()
			for deadline := time.Now().Add(30 * time.Second); read(log) != tc.wait && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			h.finish()
			h.finish() // a second call changes nothing
			if got := read(log); got != tc.want {
				t.Errorf("commands ran as %q, want %q", got, tc.want)
			}
		})
	}
}
