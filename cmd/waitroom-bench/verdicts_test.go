package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// flood is one run of a labelled flood on a 2-core machine: the server may
// use both cores, the generator one.
func flood(label, scenario string, rate, p99, serverCPU, generatorCPU float64) Result {
	r := sampleRun(label, rate, time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC))
	r.Scenario, r.Latency.P99 = scenario, p99
	r.Server.CPUPercent, r.Server.Cores = serverCPU, "0-1"
	r.Generator.CPUPercent, r.Generator.Cores = generatorCPU, "1"
	return r
}

// depthRunAt is one B6 run of scenario at depth, with the server's RSS.
func depthRunAt(depth int64, scenario string, rate, p99 float64, rssMiB int64, notes ...string) Result {
	r := flood(fmt.Sprintf("B6 depth %d", depth), scenario, rate, p99, 100, 50)
	r.Waiting, r.Server.RSSMax, r.Notes = depth, rssMiB<<20, notes
	return r
}

func memoryNote(from, to, redis, postgres int64) string {
	return fmt.Sprintf("memory per waiting ticket while filling %d → %d: Redis %d B (used_memory, whole instance), PostgreSQL %d B (database size)", from, to, redis, postgres)
}

// burst is one B8 run: offered rate, achieved rate, statuses of its
// enqueues, acknowledged enqueues against the queue's growth.
func burst(offered, achieved float64, statuses map[string]uint64, acknowledged uint64, growth int64) Result {
	r := flood("B8 burst", "enqueue", achieved, 30, 150, 80)
	r.Mode, r.Rate, r.Users, r.Seconds = "open", offered, 5000, 30
	r.Steps = []StepResult{{Name: stepAssign, Rate: achieved, Statuses: statuses}}
	r.Acknowledged, r.QueueGrowth = acknowledged, &growth
	r.StartLag = &Latency{P50: 0.1, P99: 0.5}
	return r
}

// verdictLines renders the rows as the table does: "id | target | measured | verdict".
func verdictLines(results []Result) []string {
	var out []string
	for _, r := range targetVerdicts(groupRuns(results), ReportOptions{}) {
		out = append(out, strings.Join([]string{r.id, r.target, orDash(r.measured), r.verdict}, " | "))
	}
	return out
}

// lineOf is the first line of id whose text contains about.
func lineOf(lines []string, id, about string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, id+" | ") && strings.Contains(l, about) {
			return l
		}
	}
	return ""
}

func TestTargetVerdicts(t *testing.T) {
	depths := func(rate1M, p991M, rate10M, p9910M float64) []Result {
		return []Result{
			depthRunAt(0, "enqueue", 10000, 10, 60), depthRunAt(0, "enqueue", 10400, 12, 62),
			depthRunAt(1_000_000, "enqueue", rate1M, p991M, 61, memoryNote(2000, 1_000_000, -15, 170)),
			depthRunAt(10_000_000, "enqueue", rate10M, p9910M, 63, memoryNote(1_003_000, 10_000_000, 3, 180)),
		}
	}
	for _, tc := range []struct {
		name    string
		results []Result
		id      string
		about   string // picks the row among those of id
		want    []string
	}{{
		name:    "B1 met",
		results: []Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50), flood("B1 enqueue", "enqueue", 11000, 7, 80, 50), flood("B1 enqueue", "enqueue", 13000, 6, 80, 50)},
		id:      "B1", about: "enqueue",
		want: []string{"[12000 (11000–13000)/s](#run-1), p99 6.00 (5.00–7.00) ms | met"},
	}, {
		name:    "B1 p99 missed",
		results: []Result{flood("B1 enqueue", "enqueue", 12000, 60, 80, 50)},
		id:      "B1", about: "enqueue",
		want: []string{"| **not met**: p99 60.00 ms — server at 80 % CPU of 200 % (2 cores), generator at 50 % of its core"},
	}, {
		name:    "B2 poll missed, generator bound",
		results: []Result{flood("B2 poll", "poll", 40000, 5, 120, 95)},
		id:      "B2", about: "serving_num",
		want: []string{"| **not met**: 40000/s, 80.0 % of the target — server at 120 % CPU of 200 % (2 cores), generator at 95 % of its core: CPU-bound"},
	}, {
		name:    "B2 room status not measured",
		results: []Result{flood("B2 poll", "poll", 60000, 5, 120, 95)},
		id:      "B2", about: "room page",
		want: []string{"| – | not measured: no `B2 room status` run in these results"},
	}, {
		name:    "B3 RS256 missed, server CPU-bound",
		results: []Result{flood("B3 token RS256", "token", 760, 70, 185, 5)},
		id:      "B3", about: "RS256",
		want: []string{"**not met**: 760/s, 63.3 % of the target — server at 185 % CPU of 200 % (2 cores): CPU-bound, generator at 5 % of its core; see [profiles](profiles.md)"},
	}, {
		name: "B3 errors",
		results: func() []Result {
			r := flood("B3 token ES256", "token", 6000, 10, 100, 20)
			r.Errors = 4
			return []Result{r}
		}(),
		id: "B3", about: "ES256",
		want: []string{"**not met**: 4 errors —"},
	}, {
		name:    "B5 missing",
		results: []Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50)},
		id:      "B5", about: "userinfo",
		want: []string{"| – | not measured: no `B5 userinfo` run"},
	}, {
		name:    "B4 met",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 700, true, 0), oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 500, true, 0)},
		id:      "B4", about: "full login",
		want: []string{"full login ≥ 1,500 flows/s with ES256, ≥ 500/s with RS256, at least dex's rate, aiming for 2 ×",
			"[ES256, 32 users: 1600 flows/s](#run-1) (waitroom / dex 2.29); [RS256, 32 users: 600 flows/s](#run-3) (waitroom / dex 1.20) | met (see [B4](#b4))"},
	}, {
		name:    "B4 not met, as the B4 section judges",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1700, true, 0), oidcRun("waitroom", "RS256", 450, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		id:      "B4", about: "full login",
		want: []string{"| **not met**: ES256, 32 users: below dex (waitroom / dex = 0.94); RS256, 32 users: 450 flows/s, below 500/s; see [B4](#b4)"},
	}, {
		name:    "B4 without dex",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("waitroom", "RS256", 600, true, 0)},
		id:      "B4", about: "full login",
		want: []string{"| not fully judged: see [B4](#b4)"},
	}, {
		name:    "B4 missing",
		results: []Result{oidcRun("dex", "ES256", 1700, true, 0)},
		id:      "B4", about: "full login",
		want: []string{"| – | not measured: no full login on waitroom"},
	}, {
		name:    "B6 ratios met",
		results: depths(10000, 12, 9500, 13),
		id:      "B6", about: "enqueue",
		want: []string{"[depth 0](#run-1): 10200 (10000–10400)/s, p99 11.00 (10.00–12.00) ms; [1M](#run-2): rate × 0.98, p99 × 1.09; [10M](#run-3): rate × 0.93, p99 × 1.18 | met"},
	}, {
		name:    "B6 ratios missed",
		results: depths(10000, 12, 8500, 14),
		id:      "B6", about: "enqueue",
		want: []string{"| **not met**: throughput × 0.83 at 10M; p99 × 1.27 at 10M"},
	}, {
		name:    "B6 without depth 0",
		results: []Result{depthRunAt(1_000_000, "poll", 40000, 5, 60)},
		id:      "B6", about: "poll",
		want: []string{"not measured: no depth 0 run to compare with"},
	}, {
		name:    "B6 missing",
		results: []Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50)},
		id:      "B6", about: "",
		want: []string{"not measured: no `B6 depth` run"},
	}, {
		name:    "B7 Redis: instance memory fell",
		results: depths(10000, 12, 9500, 13),
		id:      "B7", about: "Redis",
		want: []string{"| 2k → 1M: ≈ 0 B (instance memory fell); 1003k → 10M: 3 B | met"},
	}, {
		name:    "B7 PostgreSQL met",
		results: depths(10000, 12, 9500, 13),
		id:      "B7", about: "PostgreSQL",
		want: []string{"| 2k → 1M: 170 B; 1003k → 10M: 180 B | met"},
	}, {
		name: "B7 PostgreSQL missed",
		results: []Result{depthRunAt(0, "enqueue", 10000, 10, 60),
			depthRunAt(150000, "enqueue", 10000, 10, 60, memoryNote(45787, 150000, -15, 217)), depthRunAt(150000, "enqueue", 10000, 10, 60, memoryNote(45787, 150000, -15, 217))},
		id: "B7", about: "PostgreSQL",
		want: []string{"| 45787 → 150k: 217 B | **not met**: 217 B filling 45787 → 150k"},
	}, {
		name:    "B7 server memory flat",
		results: depths(10000, 12, 9500, 13),
		id:      "B7", about: "flat",
		want: []string{"| server RSS at depth 0: 62 MiB, 1M: 61 MiB, 10M: 63 MiB (× 1.02) | met"},
	}, {
		name:    "B7 server memory grows",
		results: []Result{depthRunAt(0, "enqueue", 10000, 10, 60), depthRunAt(10_000_000, "enqueue", 10000, 10, 80)},
		id:      "B7", about: "flat",
		want: []string{"(× 1.33) | **not met**: RSS × 1.33 from depth 0 to 10M"},
	}, {
		name:    "B7 without memory notes",
		results: []Result{depthRunAt(0, "enqueue", 10000, 10, 60)},
		id:      "B7", about: "Redis",
		want: []string{"not measured: no memory figures with the B6 runs"},
	}, {
		name:    "B8 met",
		results: []Result{burst(30000, 29500, map[string]uint64{"200": 885000}, 900000, 900000), burst(30000, 29800, map[string]uint64{"200": 894000}, 910000, 910001)},
		id:      "B8", about: "burst",
		want: []string{"[29650 (29500–29800)/s achieved of 30000/s offered](#run-1) (99 %) for 30 s; 0 × 5xx; 0 lost | met"},
	}, {
		name: "B8 with a 5xx",
		results: func() []Result {
			r := burst(30000, 29500, map[string]uint64{"200": 885000, "503": 1}, 900000, 900000)
			r.Errors, r.ErrorsBy = 1, map[string]uint64{"assign_queue_num 503": 1}
			return []Result{r}
		}(),
		id: "B8", about: "burst",
		want: []string{"1 × 5xx; 0 lost | **not met**: 1 answers with a 5xx status"},
	}, {
		name: "B8 lost and not drained",
		results: func() []Result {
			r := burst(30000, 18000, map[string]uint64{"200": 540000}, 600000, 599990)
			r.CutOff, r.Delayed, r.StartLag.P99 = 5000, 980000, 22000
			r.Errors, r.ErrorsBy = 5000, map[string]uint64{"assign_queue_num canceled": 5000}
			return []Result{r}
		}(),
		id: "B8", about: "burst",
		want: []string{"(60 %) for 30 s; 0 × 5xx; 10 lost | **not met**: 10 acknowledged enqueues lost; 5000 enqueues failed otherwise (assign_queue_num canceled ×5000); backlog not drained: 60 % of the offered rate achieved, 5000 operations still running when the drain time ran out — 980000 arrivals waited for one of the 5000 slots in flight, generator late by p99 22000 ms, server at 150 % CPU of 200 % (2 cores), generator at 80 % of its core"},
	}, {
		name:    "B8 lighter than the target",
		results: []Result{burst(20000, 20000, map[string]uint64{"200": 600000}, 600000, 600000)},
		id:      "B8", about: "burst",
		want: []string{"not measured: the burst ran at 20000/s for 30 s, short of 30,000/s for 30 s"},
	}, {
		name:    "B8 missing",
		results: []Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50)},
		id:      "B8", about: "burst",
		want: []string{"| – | not measured: no `B8 burst` run in these results"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			lines := verdictLines(tc.results)
			line := lineOf(lines, tc.id, tc.about)
			if line == "" {
				t.Fatalf("no %s row about %q in\n%s", tc.id, tc.about, strings.Join(lines, "\n"))
			}
			for _, want := range tc.want {
				if !strings.Contains(line, want) {
					t.Errorf("row\n%s\nlacks\n%s", line, want)
				}
			}
		})
	}
}

func TestEveryTargetHasARow(t *testing.T) {
	lines := verdictLines([]Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50)})
	var ids []string
	for _, l := range lines {
		id, _, _ := strings.Cut(l, " | ")
		if len(ids) == 0 || ids[len(ids)-1] != id {
			ids = append(ids, id)
		}
	}
	if got := strings.Join(ids, " "); got != "B1 B2 B3 B4 B5 B6 B7 B8" {
		t.Fatalf("targets in order = %s\n%s", got, strings.Join(lines, "\n"))
	}
}

func TestVerdictsSectionPlace(t *testing.T) {
	doc := RenderMarkdown("", groupRuns([]Result{flood("B1 enqueue", "enqueue", 12000, 5, 80, 50)}), ReportOptions{})
	machine, verdicts, summary := strings.Index(doc, "## Machine and dates"), strings.Index(doc, "## Targets and verdicts"), strings.Index(doc, "## Summary")
	if machine < 0 || verdicts < machine || summary < verdicts {
		t.Fatalf("sections at %d, %d, %d:\n%s", machine, verdicts, summary, doc)
	}
	if !strings.Contains(doc, "| B1 | enqueue ≥ 10,000/s, p99 ≤ 50 ms | [12000/s](#run-1), p99 5.00 ms | met |\n") {
		t.Errorf("no B1 row:\n%s", doc)
	}
}

func TestParseMemoryNote(t *testing.T) {
	for _, tc := range []struct {
		note string
		want memoryFill
		ok   bool
	}{
		{memoryNote(589533, 1000000, 0, 213), memoryFill{589533, 1000000, 0, 213}, true},
		{memoryNote(45787, 150000, -15, 217), memoryFill{45787, 150000, -15, 217}, true},
		{"room filled through the backend's bulk path", memoryFill{}, false},
		{"memory per waiting ticket while filling 1 → 2: Redis x B", memoryFill{}, false},
	} {
		got, ok := parseMemoryNote(tc.note)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseMemoryNote(%q) = %+v, %v; want %+v, %v", tc.note, got, ok, tc.want, tc.ok)
		}
	}
}

// TestMemoryNoteOfBenchScript keeps bench.sh's B7 note readable by
// parseMemoryNote: the note as the script writes it, with its shell
// expansions replaced by numbers, must parse.
func TestMemoryNoteOfBenchScript(t *testing.T) {
	script, err := os.ReadFile("bench.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*MEMORY_NOTE="(memory per waiting ticket[^"]*)"$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("bench.sh no longer sets MEMORY_NOTE to a memory per waiting ticket note")
	}
	// $waiting0 → 589533, $depth → 1000000; then the two $((...)) → -15, 213.
	vars := []string{"589533", "1000000"}
	note := regexp.MustCompile(`\$[a-z0-9_]+`).ReplaceAllStringFunc(string(m[1]), func(string) string {
		v := vars[0]
		vars = vars[1:]
		return v
	})
	sums := []string{"-15", "213"}
	note = regexp.MustCompile(`\$\(\(\(\w+ - \w+\) / \w+\)\)`).ReplaceAllStringFunc(note, func(string) string {
		v := sums[0]
		sums = sums[1:]
		return v
	})
	if got, ok := parseMemoryNote(note); !ok || got != (memoryFill{589533, 1000000, -15, 213}) {
		t.Fatalf("bench.sh's note %q reads as %+v, %v", note, got, ok)
	}
}

func TestCountCPUs(t *testing.T) {
	for list, want := range map[string]int{"0": 1, "1": 1, "0-1": 2, "0,2-3": 3, " 0-3\n": 4, "": 0, "x": 0, "3-1": 0} {
		if got := countCPUs(list); got != want {
			t.Errorf("countCPUs(%q) = %d, want %d", list, got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 500: "500", 1500: "1,500", 30000: "30,000", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}
