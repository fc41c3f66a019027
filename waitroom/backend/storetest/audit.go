package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func auditTests() []testCase {
	return []testCase{{"AuditTrailPerRoomNewestFirst", true, testAudit}}
}

// testAudit: entries come back per room (or all), newest first, paged by
// seq, with their documents intact.
func testAudit(t *testing.T, b Backend) {
	inst := b.Open(t)
	ctx, a := context.Background(), inst.Audit
	room := fmt.Sprintf("audited-%d", roomSeq.Add(1))
	var seqs []int64
	for i := range 5 {
		r := room
		if i == 2 {
			r = "" // a change that concerns no room
		}
		e, err := a.AppendAudit(ctx, waitroom.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "alice", Room: r,
			Action: "room.update", Target: fmt.Sprint(i), Before: json.RawMessage(`{"per_minute":` + fmt.Sprint(i) + `}`),
			After: json.RawMessage(`{"per_minute":` + fmt.Sprint(i+1) + `}`)})
		noErr(t, err)
		if len(seqs) > 0 && e.Seq <= seqs[len(seqs)-1] {
			t.Fatalf("seq %d after %d: must increase", e.Seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, e.Seq)
	}
	if inst.Another != nil {
		a = inst.Another(t).Audit
	}
	got, err := a.AuditTrail(ctx, room, 0, 10)
	noErr(t, err)
	if len(got) != 4 || got[0].Target != "4" || got[3].Target != "0" {
		t.Fatalf("trail of the room %+v, want targets 4, 3, 1, 0", got)
	}
	var before, after map[string]int
	if json.Unmarshal(got[0].Before, &before) != nil || json.Unmarshal(got[0].After, &after) != nil || before["per_minute"] != 4 || after["per_minute"] != 5 {
		t.Fatalf("documents read back as %s / %s", got[0].Before, got[0].After)
	}
	if got[0].Actor != "alice" || got[0].Action != "room.update" || !got[0].At.Equal(t0.Add(4*time.Second)) {
		t.Fatalf("entry read back as %+v", got[0])
	}
	page, err := a.AuditTrail(ctx, room, got[1].Seq, 2)
	noErr(t, err)
	if len(page) != 2 || page[0].Target != "1" || page[1].Target != "0" {
		t.Fatalf("page before seq %d: %+v", got[1].Seq, page)
	}
	all, err := a.AuditTrail(ctx, "", seqs[4]+1, 10)
	noErr(t, err)
	if len(all) < 5 || all[2].Target != "2" {
		t.Fatalf("trail of everything: %+v", all)
	}
	empty, err := a.AuditTrail(ctx, room, 0, 10)
	noErr(t, err)
	if len(empty) != 4 {
		t.Fatal("reading changed the trail")
	}
}
