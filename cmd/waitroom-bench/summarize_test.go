package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedianAndSpread(t *testing.T) {
	runs := []Result{{AchievedRate: 300}, {AchievedRate: 100}, {AchievedRate: 200}}
	s := spreadOf(runs, func(r Result) float64 { return r.AchievedRate })
	if s != (Spread{Median: 200, Min: 100, Max: 300}) {
		t.Fatalf("spread = %+v", s)
	}
	if got := s.format("%.0f"); got != "200 (100–300)" {
		t.Fatalf("format = %q", got)
	}
	even := spreadOf(runs[:2], func(r Result) float64 { return r.AchievedRate })
	if even.Median != 200 { // mean of 100 and 300
		t.Fatalf("even median = %v", even.Median)
	}
	if got := (Spread{Median: 5, Min: 5, Max: 5}).format("%.1f"); got != "5.0" {
		t.Fatalf("agreeing runs print one value, got %q", got)
	}
}

func sampleRun(label string, rate float64, at time.Time) Result {
	return Result{Scenario: "enqueue", About: "POST /assign_queue_num", Unit: "requests", Label: label, Mode: "closed", Users: 64,
		Started: at, Seconds: 10, Command: "waitroom-bench -scenario enqueue -c 64", AchievedRate: rate, Ops: uint64(rate * 10),
		Latency: Latency{P50: 1, P99: 5, Max: 9}, Host: Host{CPUs: 2, MemBytes: 24 << 30, Go: "go1.26", GeneratorCores: "1"},
		Server: procUsage{PID: 9, CPUPercent: 95, RSSMax: 80 << 20, Cores: "0"}, Generator: procUsage{PID: 10, CPUPercent: 40},
		Steps: []StepResult{{Name: stepAssign, Rate: rate, Latency: Latency{P50: 0.8, P99: 4}}},
		Notes: []string{"target B1: ≥ 10,000/s, p99 ≤ 50 ms"}}
}

func TestGroupRunsKeepsRepeatsTogether(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	groups := groupRuns([]Result{sampleRun("B1", 1, t0), sampleRun("B2", 2, t0), sampleRun("B1", 3, t0)})
	if len(groups) != 2 || len(groups[0].Runs) != 2 || len(groups[1].Runs) != 1 {
		t.Fatalf("groups = %+v", groups)
	}
	if groups[0].Runs[1].AchievedRate != 3 {
		t.Fatal("runs keep their order within a group")
	}
}

func TestSummarizeWritesMarkdown(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	for i, rate := range []float64{9000, 11000, 10000} {
		var buf bytes.Buffer
		r := sampleRun("B1 enqueue", rate, t0.Add(time.Duration(i)*time.Minute))
		r.Notes = append(r.Notes, fmt.Sprintf("load average before the run: 0.%d", i))
		if err := WriteJSON(&buf, []Result{r}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".json"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	intro := filepath.Join(dir, "intro.md")
	os.WriteFile(intro, []byte("How these were measured."), 0o644)
	out := filepath.Join(dir, "benchmarks.md")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var stderr bytes.Buffer
	if err := Main(t.Context(), append([]string{"summarize", "-out", out, "-intro", intro}, files...), &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	doc := string(b)
	for _, want := range []string{
		"How these were measured.",
		"2 cores, 24.0 GiB memory",
		"Runs from 2026-11-21T20:00:00Z to 2026-11-21T20:02:00Z",
		"| [1](#run-1) | B1 enqueue | enqueue | closed loop, 64 users | 3 | 0 | 10000 (9000–11000) | 1.00 | 5.00 | 9.0 | 0 | 95 | 80 | 40 |",
		"waitroom-bench -scenario enqueue -c 64",
		"Cores: server 0, load generator 1",
		"target B1",
		"- load average before the run: 0.0\n",
		"- Run at 20:01:00: load average before the run: 0.1\n",
		"- Run at 20:02:00: load average before the run: 0.2\n",
		"| assign_queue_num | 10000 (9000–11000) | 0.80 | 0.00 | 4.00 | 0.0 |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
}

func TestSummarizeNothing(t *testing.T) {
	doc := RenderMarkdown("", nil)
	if !strings.Contains(doc, "No measured runs yet") {
		t.Fatalf("got %q", doc)
	}
}
