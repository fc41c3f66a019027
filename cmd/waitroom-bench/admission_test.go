package main

import (
	"testing"
	"time"
)

func TestAdmissionsDueCarriesFractions(t *testing.T) {
	// 25 admissions per second in ticks of 100 ms: 2.5 per tick, so the
	// ticks alternate 2, 3, 2, 3 and ten ticks admit exactly 25.
	var carry float64
	var total int64
	var got []int64
	for range 10 {
		var by int64
		by, carry = admissionsDue(25, 100*time.Millisecond, carry)
		got = append(got, by)
		total += by
	}
	if total != 25 {
		t.Fatalf("ten ticks admitted %d (%v), want 25", total, got)
	}
	if got[0] != 2 || got[1] != 3 {
		t.Fatalf("ticks %v, want 2, 3, ...", got)
	}
	// A rate below one per tick still admits over time.
	carry, total = 0, 0
	for range 50 {
		var by int64
		by, carry = admissionsDue(1, 100*time.Millisecond, carry)
		total += by
	}
	if total < 4 || total > 5 { // 5 s at 1/s, give or take float rounding of the last tenth
		t.Fatalf("50 ticks at 1/s admitted %d, want 5", total)
	}
}
