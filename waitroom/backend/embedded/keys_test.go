package embedded_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
)

// TestKeyFileSurvivesRestart: keys written to the key file (mode 0600) are
// what a restarted store signs with.
func TestKeyFileSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "keys.json")
	first, err := embedded.Open(embedded.Options{KeyFile: file})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := waitroom.LoadKeys(ctx, first.Store, waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	kid, _, _ := keys.Current()
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	second, err := embedded.Open(embedded.Options{KeyFile: file})
	if err != nil {
		t.Fatal(err)
	}
	again, err := waitroom.LoadKeys(ctx, second.Store, waitroom.KeyOptions{Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := again.Current(); got != kid {
		t.Fatalf("restarted store signs with %s, want %s", got, kid)
	}
}

func TestCorruptKeyFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.Open(embedded.Options{KeyFile: file}); err == nil {
		t.Fatal("a corrupt key file was accepted")
	}
}
