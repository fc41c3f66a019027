package memstore_test

import (
	"testing"

	"github.com/waitroom-idp/waitroom/oidc"
	"github.com/waitroom-idp/waitroom/oidc/memstore"
	"github.com/waitroom-idp/waitroom/oidc/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) oidc.Store { return memstore.New() })
}
