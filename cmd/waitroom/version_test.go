package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	installed := &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}
	for _, c := range []struct {
		name                  string
		version, commit, date string
		info                  *debug.BuildInfo
		want                  []string
	}{
		{"go build in a checkout", "", "", "", stamped,
			[]string{"waitroom dev (", "commit 0123456789abcdef0123456789abcdef01234567+modified", "committed 2026-12-01T10:00:00Z"}},
		{"go install of a module version", "", "", "", installed, []string{"waitroom v0.4.0 (", "commit unknown", "build date unknown"}},
		{"-ldflags win", "v1.2.3", "abc1234", "2026-12-02T08:00:00Z", stamped,
			[]string{"waitroom v1.2.3 (", "commit abc1234,", "built 2026-12-02T08:00:00Z"}},
		{"no build information", "", "", "", nil, []string{"waitroom dev (commit unknown, build date unknown, go"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := [3]string{version, commit, date}
			version, commit, date = c.version, c.commit, c.date
			defer func() { version, commit, date = old[0], old[1], old[2] }()
			got := versionString(c.info)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
		})
	}
}

// TestVersionNeedsNoConfiguration: version and hash-key work whatever the
// environment holds.
func TestVersionNeedsNoConfiguration(t *testing.T) {
	m, out := newTestMain(map[string]string{"WAITROOM_HTTP_ADDR": "nonsense"})
	if code := run(m, []string{"version"}); code != 0 || !strings.HasPrefix(out.String(), "waitroom ") {
		t.Fatalf("version: status %d, %q", code, out)
	}
}
