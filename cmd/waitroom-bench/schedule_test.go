package main

import (
	"testing"
	"time"
)

func TestScheduleDue(t *testing.T) {
	start := time.Unix(1000, 0)
	s := Schedule{Start: start, Rate: 4, End: start.Add(time.Second)}
	for i, want := range []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond} {
		if got := s.Due(int64(i)).Sub(start); got != want {
			t.Errorf("Due(%d) = +%v, want +%v", i, got, want)
		}
	}
	if s.Total() != 4 {
		t.Errorf("Total = %d, want 4", s.Total())
	}
}

func TestScheduleDueBy(t *testing.T) {
	start := time.Unix(1000, 0)
	s := Schedule{Start: start, Rate: 1000, End: start.Add(2 * time.Second)}
	cases := []struct {
		at   time.Duration
		want int64
	}{
		{-time.Millisecond, 0},
		{0, 1}, // arrival 0 is due at Start
		{999 * time.Microsecond, 1},
		{time.Millisecond, 2},
		{time.Second, 1001},
		{2 * time.Second, 2000}, // capped at Total: nothing due at End
		{time.Hour, 2000},
	}
	for _, c := range cases {
		if got := s.DueBy(start.Add(c.at)); got != c.want {
			t.Errorf("DueBy(+%v) = %d, want %d", c.at, got, c.want)
		}
	}
}

func TestScheduleFractionalRate(t *testing.T) {
	start := time.Unix(0, 0)
	s := Schedule{Start: start, Rate: 0.5, End: start.Add(5 * time.Second)}
	if s.Total() != 3 { // due at 0, 2 s, 4 s
		t.Fatalf("Total = %d, want 3", s.Total())
	}
	if got := s.Due(2).Sub(start); got != 4*time.Second {
		t.Fatalf("Due(2) = %v", got)
	}
	if got := s.DueBy(start.Add(3 * time.Second)); got != 2 {
		t.Fatalf("DueBy(3s) = %d, want 2", got)
	}
}

func TestScheduleDueIsMonotonicAndMatchesDueBy(t *testing.T) {
	start := time.Unix(0, 0)
	s := Schedule{Start: start, Rate: 33333, End: start.Add(time.Second)}
	prev := s.Due(0)
	for i := int64(1); i < s.Total(); i++ {
		due := s.Due(i)
		if due.Before(prev) {
			t.Fatalf("Due(%d) before Due(%d)", i, i-1)
		}
		// At its own due time, arrival i is released (DueBy counts it).
		if s.DueBy(due) < i+1 {
			t.Fatalf("DueBy(Due(%d)) = %d", i, s.DueBy(due))
		}
		prev = due
	}
}
