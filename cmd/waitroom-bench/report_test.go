package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixtureWindow is a measured window of 2 s with 1000 operations of 1..1000 µs
// on the assign step, 3 of which failed.
func fixtureWindow() window {
	rec := NewRecorder([]string{stepAssign, stepQueueNum, stepChallenge})
	due := time.Unix(100, 0)
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		status := 200
		var err error
		if i%400 == 0 || i == 999 {
			status, err = 503, &StatusError{Step: stepAssign, Status: 503}
		}
		rec.Step(stepAssign).Observe(status, d)
		rec.Op(due, due.Add(d), err)
	}
	return window{rec: rec, start: due, elapsed: 2 * time.Second, completed: 1000,
		server: procUsage{PID: 42, CPUPercent: 150, RSSMax: 64 << 20}}
}

func TestResultFromWindow(t *testing.T) {
	b := &Bench{cfg: Config{Mode: "closed", Users: 8, Label: "ES256", Command: "waitroom-bench -scenario enqueue"}}
	r := b.result("enqueue", scenarios["enqueue"], fixtureWindow(), 1234)
	if r.Ops != 1000 || r.Errors != 3 || r.AchievedRate != 500 || r.Seconds != 2 {
		t.Fatalf("ops %d errors %d rate %v seconds %v", r.Ops, r.Errors, r.AchievedRate, r.Seconds)
	}
	if !reflect.DeepEqual(r.ErrorsBy, map[string]uint64{"assign_queue_num 503": 3}) {
		t.Fatalf("errors by = %v", r.ErrorsBy)
	}
	// Quantiles are the upper edge of their bucket (2 µs wide here).
	if r.Latency.P50 != 0.501 || r.Latency.P99 != 0.991 || r.Latency.Max != 1 {
		t.Fatalf("latency = %+v", r.Latency)
	}
	// Only steps that saw requests are reported.
	if len(r.Steps) != 1 || r.Steps[0].Name != stepAssign || r.Steps[0].Rate != 500 {
		t.Fatalf("steps = %+v", r.Steps)
	}
	if !reflect.DeepEqual(r.Steps[0].Statuses, map[string]uint64{"200": 997, "503": 3}) {
		t.Fatalf("statuses = %v", r.Steps[0].Statuses)
	}
	if r.Waiting != 1234 || r.Label != "ES256" || r.Rate != 0 || r.StartLag != nil {
		t.Fatalf("waiting %d label %q rate %v lag %v", r.Waiting, r.Label, r.Rate, r.StartLag)
	}
}

func TestTableFormat(t *testing.T) {
	b := &Bench{cfg: Config{Mode: "open", Rate: 600, Users: 100}}
	r := b.result("enqueue", scenarios["enqueue"], fixtureWindow(), 0)
	var out bytes.Buffer
	if err := WriteTable(&out, []Result{r}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	wantFields := [][]string{
		{"scenario", "mode", "rate/s", "count", "errors", "p50", "ms", "p95", "ms", "p99", "ms", "max", "ms", "server", "cpu%", "server", "rss", "MiB", "statuses"},
		{"enqueue", "open", "600/s", "500", "1000", "3", "0.50", "0.95", "0.99", "1.00", "150", "64.0"},
		{"assign_queue_num", "500", "1000", "0.50", "0.95", "0.99", "1.00", "200:997", "503:3"},
		{"enqueue:", "errors:", "assign_queue_num", "503", "×3"},
		{"enqueue:", "achieved", "500/s", "of", "600/s", "offered"},
	}
	if len(lines) != len(wantFields) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(wantFields), out.String())
	}
	for i, want := range wantFields {
		if got := strings.Fields(lines[i]); !reflect.DeepEqual(got, want) {
			t.Errorf("line %d = %q, want %q", i, got, want)
		}
	}
	if !strings.HasPrefix(lines[2], "  assign_queue_num") {
		t.Errorf("steps are indented under their scenario: %q", lines[2])
	}
}

func TestJSONRoundTrip(t *testing.T) {
	b := &Bench{cfg: Config{Mode: "open", Rate: 500, Users: 10, Host: Host{CPUs: 2, MemBytes: 24 << 30, Go: "go1.26"}}}
	in := []Result{b.result("enqueue", scenarios["enqueue"], fixtureWindow(), 7)}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"p99_ms"`, `"achieved_rate"`, `"errors_by"`, `"rss_max_bytes"`, `"offered_rate"`, `"start_lag"`, `"waiting_at_start"`} {
		if !strings.Contains(buf.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	var out []Result
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the result:\n%+v\n%+v", in[0], out[0])
	}
}

func TestEmptyResultsAreAnEmptyArray(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(buf.String()) != "[]" {
		t.Fatalf("got %q", buf.String())
	}
}

func TestNotesFlagUntrustworthyRuns(t *testing.T) {
	lost := int64(5)
	r := Result{Scenario: "token", Rate: 100, Acknowledged: 7, QueueGrowth: &lost, AchievedRate: 99, Users: 5, Delayed: 3, CutOff: 2, StoppedEarly: true,
		StartLag: &Latency{P50: 0.4, P99: 2.5}, Server: procUsage{PID: 1, Err: "no such process"}}
	notes := strings.Join(resultNotes(r), "\n")
	for _, want := range []string{"started late", "3 arrivals waited", "2 operations", "pool was used up", "server figures unavailable", "LOST: 7 enqueues acknowledged but the queue grew by only 5"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "offered") {
		t.Errorf("99 of 100/s is within 5%%, no note expected:\n%s", notes)
	}
}

func TestCommandLineQuotesWhatAShellWouldSplit(t *testing.T) {
	got := commandLine([]string{"-label", "B3 token RS256", "-note", "it's", "-c", "32"})
	want := `waitroom-bench -label 'B3 token RS256' -note 'it'\''s' -c 32`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestCommandLineRedactsSecrets(t *testing.T) {
	got := commandLine([]string{"-admin-key", "s3cret", "-client-secret=hush", "-fill-database-url",
		"postgresql://postgres:pw@127.0.0.1:5432/db", "-target", "http://127.0.0.1:8080"})
	for _, secret := range []string{"s3cret", "hush", ":pw@"} {
		if strings.Contains(got, secret) {
			t.Fatalf("command line shows %q: %s", secret, got)
		}
	}
	want := "waitroom-bench -admin-key REDACTED -client-secret=REDACTED -fill-database-url postgresql://postgres:REDACTED@127.0.0.1:5432/db -target http://127.0.0.1:8080"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
