package main

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRecorderCountsErrorsByStepAndStatus(t *testing.T) {
	r := NewRecorder([]string{"assign"})
	due := time.Unix(0, 0)
	r.Op(due, due.Add(time.Millisecond), nil)
	r.Op(due, due.Add(2*time.Millisecond), &StatusError{Step: "assign", Status: 503})
	r.Op(due, due.Add(3*time.Millisecond), fmt.Errorf("flow: %w", &StatusError{Step: "assign", Status: 503}))
	r.Op(due, due.Add(time.Millisecond), &StepError{Step: "assign", Cause: "transport", Err: errors.New("reset")})
	r.Op(due, due.Add(time.Millisecond), errors.New("mystery"))

	want := map[string]uint64{"assign 503": 2, "assign transport": 1, "other": 1}
	got := r.Errors()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors = %v, want %v", got, want)
	}
	if r.ErrorCount() != 4 {
		t.Fatalf("ErrorCount = %d", r.ErrorCount())
	}
	if r.Ops.Count() != 5 {
		t.Fatalf("failed operations must still be timed: count %d", r.Ops.Count())
	}
}

func TestStepStatuses(t *testing.T) {
	r := NewRecorder([]string{"poll"})
	s := r.Step("poll")
	s.Observe(200, time.Millisecond)
	s.Observe(200, time.Millisecond)
	s.Observe(202, time.Millisecond)
	s.Observe(0, time.Millisecond)
	s.Observe(999, time.Millisecond) // out of range: counted as no answer
	got := fmt.Sprint(s.Statuses())
	if want := "map[0:2 200:2 202:1]"; got != want {
		t.Fatalf("statuses = %s, want %s", got, want)
	}
}

func TestUndeclaredStepPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("expected a panic")
		}
	}()
	NewRecorder(nil).Step("nope")
}
