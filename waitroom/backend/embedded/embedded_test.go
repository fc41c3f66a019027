package embedded_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/backend/embedded"
	"github.com/waitroom-idp/waitroom/waitroom/backend/storetest"
	"github.com/waitroom-idp/waitroom/waitroom/testenv"
)

func open(tb testing.TB) storetest.Instance {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s, err := embedded.New(embedded.Options{KeyFile: filepath.Join(tb.TempDir(), "keys.json"), Clock: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	return storetest.Instance{Store: s, Ephemeral: s, AdvanceEphemeral: clock.Advance}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{Open: func(t *testing.T) storetest.Instance { return open(t) }})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Instance { return open(b) })
}
