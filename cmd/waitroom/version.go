package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time, each winning over what the Go toolchain recorded:
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) \
//	    -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/waitroom
//
// The Dockerfile passes them as build arguments (the image's build has no
// .git to read).
var (
	version string
	commit  string
	date    string
)

func buildInfo() *debug.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return info
}

// versionString says what this binary is: its version (-X main.version,
// else the module version of go install, else "dev"), the VCS revision
// (-X main.commit, else the one go build stamped, with "+modified" for an
// uncommitted tree), the build date (-X main.date; without it, the date of
// the stamped commit) and the toolchain.
func versionString(info *debug.BuildInfo) string {
	v, rev, when := version, commit, "built "+date
	var vcsRev, vcsTime string
	modified := false
	if info != nil {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.time":
				vcsTime = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if rev == "" {
		rev = vcsRev
		if rev != "" && modified {
			rev += "+modified"
		}
	}
	if rev == "" {
		rev = "unknown"
	}
	if date == "" {
		when = "build date unknown"
		if vcsTime != "" {
			when = "committed " + vcsTime
		}
	}
	parts := []string{"commit " + rev, when, runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	return fmt.Sprintf("waitroom %s (%s)", v, strings.Join(parts, ", "))
}
