package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxStatus bounds the status codes a step counts one by one; anything
// outside 100..599 is counted as 0 ("no HTTP answer").
const maxStatus = 600

// Step measures one kind of request (one endpoint) of a scenario.
type Step struct {
	Name     string
	Latency  Histogram
	statuses [maxStatus]atomic.Uint64
}

// Observe records one answer of the step: its status (0 for a transport
// error) and how long it took from sending to the last byte of the body.
func (s *Step) Observe(status int, d time.Duration) {
	if status < 0 || status >= maxStatus {
		status = 0
	}
	s.statuses[status].Add(1)
	s.Latency.Record(d)
}

// Statuses returns the count of every status seen, keyed by its decimal
// code ("0" meaning no HTTP answer).
func (s *Step) Statuses() map[string]uint64 {
	out := map[string]uint64{}
	for code := range s.statuses {
		if n := s.statuses[code].Load(); n > 0 {
			out[fmt.Sprint(code)] = n
		}
	}
	return out
}

// Recorder collects what one measurement window saw: the latency of whole
// operations (one request for a flood, one visitor's journey for a flow),
// each step's answers, and failed operations by cause.
type Recorder struct {
	Ops Histogram
	// Lag is, in open loop, how late each operation started after its due
	// time: the generator's own delay (timer resolution, CPU shared with
	// the server, the in-flight cap), which Ops includes.
	Lag   Histogram
	steps map[string]*Step // fixed before the run: read without locking

	mu     sync.Mutex
	errors map[string]uint64
}

// NewRecorder returns a recorder for the named steps.
func NewRecorder(stepNames []string) *Recorder {
	r := &Recorder{steps: map[string]*Step{}, errors: map[string]uint64{}}
	for _, n := range stepNames {
		r.steps[n] = &Step{Name: n}
	}
	return r
}

// Step returns the named step; a name the scenario did not declare panics,
// since that is a programming error in the scenario.
func (r *Recorder) Step(name string) *Step {
	s, ok := r.steps[name]
	if !ok {
		panic("bench: undeclared step " + name)
	}
	return s
}

// Op records one finished operation that was due at due: its latency
// always (a failure's time counts as much as a success's), and its cause if
// it failed.
func (r *Recorder) Op(due, done time.Time, err error) {
	r.Ops.Record(done.Sub(due))
	if err != nil {
		r.Fail(err)
	}
}

// Fail counts one failed operation under the error's cause.
func (r *Recorder) Fail(err error) {
	key := errorKey(err)
	r.mu.Lock()
	r.errors[key]++
	r.mu.Unlock()
}

// Errors returns a copy of the failure counts by cause.
func (r *Recorder) Errors() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]uint64, len(r.errors))
	for k, v := range r.errors {
		out[k] = v
	}
	return out
}

// ErrorCount is the number of failed operations.
func (r *Recorder) ErrorCount() uint64 {
	var n uint64
	for _, v := range r.Errors() {
		n += v
	}
	return n
}

// StatusError is an answer a step did not expect.
type StatusError struct {
	Step   string
	Status int
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: status %d", e.Step, e.Status) }

// StepError is a failure of a step that has no HTTP status: the transport
// failed, or the body was not what the API promises.
type StepError struct {
	Step  string
	Cause string // "transport", "timeout", "body", ...
	Err   error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Step, e.Cause, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// errorKey turns an error into the key errors are counted under:
// "step status" or "step cause", so the report says where and how.
func errorKey(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s %d", se.Step, se.Status)
	}
	var ste *StepError
	if errors.As(err, &ste) {
		return ste.Step + " " + ste.Cause
	}
	return "other"
}
