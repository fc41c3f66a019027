package embedded_test

import (
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/backend/backendtest"
	"github.com/waitroom-idp/waitroom/waitroom/backend/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, backendtest.Factory{Name: "embedded", Open: backendtest.Embedded}.Suite())
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) storetest.Instance { return backendtest.Embedded(b, time.Now) })
}
