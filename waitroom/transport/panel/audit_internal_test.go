package panel

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The audit view shows the fields a change changed, nested ones by their
// dotted names, strings without JSON quotes.
func TestAuditDiffShowsChangedFields(t *testing.T) {
	got := auditDiff(json.RawMessage(`{"name":"Sale","inlet":{"strategy":"rate","per_minute":600},"updated_at":"x"}`),
		json.RawMessage(`{"name":"Sale","inlet":{"strategy":"manual"},"updated_at":"y"}`))
	want := []change{{Key: "inlet.per_minute", Old: "600", New: "–"}, {Key: "inlet.strategy", Old: "rate", New: "manual"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("diff %+v, want %+v", got, want)
	}
}
