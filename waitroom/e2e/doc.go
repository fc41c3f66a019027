// Package e2e holds the browser tests of the waiting-room page and the
// control panel. The Go test builds and starts ./cmd/waitroom on loopback
// ports with the embedded store, then runs the JavaScript tests (Debian's
// chromium driven by playwright-core, accessibility checked with axe-core)
// against it, writing screenshots to a temporary folder (make screenshots
// writes them to docs/screenshots).
//
// Without chromium the test is skipped with a loud message, except under
// CI=true, where it fails.
package e2e
