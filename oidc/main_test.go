package oidc_test

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the protocol library's request logs (it logs through
// the default logger); failures are reported by the tests themselves.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
