package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The window command runs once with start and once with end, in that
// order, also when the run is cut short before the planned end.
func TestWindowCmd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		finishAt time.Duration
		want     string
	}{
		{"full window", 400 * time.Millisecond, "start\nend\n"},
		{"cut short", 150 * time.Millisecond, "start\nend\n"},
		{"never opened", 10 * time.Millisecond, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "log")
			b := &Bench{cfg: Config{Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
				WindowCmd: "echo >>" + log}}
			h := b.windowHooks()
			time.Sleep(tc.finishAt)
			h.finish()
			h.finish() // a second call changes nothing
			got, _ := os.ReadFile(log)
			if strings.ReplaceAll(string(got), " ", "") != tc.want {
				t.Errorf("commands ran as %q, want %q", got, tc.want)
			}
		})
	}
}
