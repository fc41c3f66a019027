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
	doc := RenderMarkdown("", nil, ReportOptions{})
	if !strings.Contains(doc, "No measured runs yet") {
		t.Fatalf("got %q", doc)
	}
}

// oidcRun is one run of the full login against provider, signing alg.
func oidcRun(provider, alg string, rate float64, userinfo bool, errors uint64) Result {
	r := sampleRun("B4 "+provider+" "+alg, rate, time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC))
	r.Scenario, r.Unit, r.Users, r.Provider, r.IDTokenAlg, r.Errors = "oidc-flow", "flows", 32, provider, alg, errors
	r.Steps = []StepResult{{Name: stepAuthorize, Rate: rate}, {Name: stepCallback, Rate: 3 * rate}, {Name: stepOIDCToken, Rate: rate}}
	if userinfo {
		r.Steps = append(r.Steps, StepResult{Name: stepUserinfo, Rate: rate})
	} else {
		r.Label += " no userinfo"
	}
	return r
}

// b4Heading starts the B4 section (its anchor is what the verdict table
// links to).
const b4Heading = "## <a id=\"b4\"></a>"

func TestB4ComparesWithDex(t *testing.T) {
	results := []Result{
		sampleRun("B1 enqueue", 10000, time.Now()),
		oidcRun("waitroom", "RS256", 440, true, 0), oidcRun("waitroom", "RS256", 460, true, 0), oidcRun("waitroom", "RS256", 450, true, 0),
		oidcRun("dex", "RS256", 400, true, 0), oidcRun("dex", "RS256", 380, true, 0), oidcRun("dex", "RS256", 420, true, 0),
		oidcRun("waitroom", "ES256", 1600, true, 0),
		oidcRun("dex", "ES256", 700, true, 0),
	}
	doc := RenderMarkdown("", groupRuns(results), ReportOptions{})
	section := doc[strings.Index(doc, b4Heading):strings.Index(doc, "### <a id=\"run-1\">")]
	for _, want := range []string{
		b4Heading + "B4: full login, waitroom and dex\n",
		"| provider | alg | load | runs | flows /s | p50 ms | p99 ms | errors | server CPU % | waitroom / dex |",
		// ES256 first, waitroom before dex, the ratio on waitroom's row.
		"| [waitroom](#run-4) | ES256 | closed loop, 32 users | 1 | 1600 | 1.00 | 5.00 | 0 | 95 | 2.29 |\n| [dex](#run-5) | ES256 | closed loop, 32 users | 1 | 700 | 1.00 | 5.00 | 0 | 95 |  |\n",
		"| [waitroom](#run-2) | RS256 | closed loop, 32 users | 3 | 450 (440–460) | 1.00 | 5.00 | 0 | 95 | 1.12 |\n| [dex](#run-3) | RS256 | closed loop, 32 users | 3 | 400 (380–420) |",
		"- ES256: waitroom 1600 flows/s — target ≥ 1500/s: met; dex 700 flows/s: waitroom / dex = 2.29, 2 × dex or more: aim met\n",
		"- RS256: waitroom 450 flows/s — target ≥ 500/s: **not met**; dex 400 flows/s: waitroom / dex = 1.12, at least dex, short of the 2 × aim\n",
		"**B4 not met.**",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("B4 section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "enqueue") || strings.Contains(section, "no userinfo") {
		t.Errorf("B4 section shows what it should not:\n%s", section)
	}
	if !strings.Contains(doc, "- OpenID provider: dex; ID tokens signed with ES256\n") {
		t.Errorf("the run's details do not name the provider:\n%s", doc)
	}
}

func TestB4Verdicts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		results []Result
		opts    ReportOptions
		want    []string
	}{{
		name: "met",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1500, true, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		want: []string{"waitroom / dex = 1.07, at least dex", "waitroom / dex = 2.00, 2 × dex or more: aim met", "**B4 met.**"},
	}, {
		name: "below dex",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1700, true, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		want: []string{"waitroom / dex = 0.94, **below dex**", "**B4 not met.**"},
	}, {
		name:    "dex not measured",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("waitroom", "RS256", 600, true, 0)},
		opts:    ReportOptions{B4Notes: []string{"dex not measured (DEX_BIN unset)"}},
		want: []string{"| dex | ES256 | not measured |", "| dex | RS256 | not measured |", "- dex not measured (DEX_BIN unset)\n",
			"dex not measured with ES256: no comparison", "**B4 not fully judged**"},
	}, {
		name: "dex without userinfo",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1800, false, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		want: []string{"| [waitroom](#run-1) | ES256 | closed loop, 32 users | 1 | 1600 | 1.00 | 5.00 | 0 | 95 | ≥ 0.89 |",
			"| [dex (no userinfo)](#run-2) | ES256 |", "- *no userinfo*: those flows stopped at the token",
			"(dex without userinfo: a lower bound), below dex's upper bound: not judged", "**B4 not fully judged**"},
	}, {
		name: "both without userinfo",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("waitroom", "ES256", 2000, false, 0), oidcRun("dex", "ES256", 1800, false, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		want: []string{"| [waitroom](#run-1) | ES256 | closed loop, 32 users | 1 | 1600 | 1.00 | 5.00 | 0 | 95 | – |",
			"| [waitroom (no userinfo)](#run-2) | ES256 | closed loop, 32 users | 1 | 2000 | 1.00 | 5.00 | 0 | 95 | 1.11 |",
			"- ES256: waitroom 1600 flows/s — target ≥ 1500/s: met; both stopped at the token (dex measured so): waitroom 2000, dex 1800 flows/s, waitroom / dex = 1.11, at least dex, short of the 2 × aim\n",
			"**B4 met.**"},
	}, {
		name: "dex at another load",
		results: func() []Result {
			d := oidcRun("dex", "ES256", 700, true, 0)
			d.Users = 64
			return []Result{oidcRun("waitroom", "ES256", 1600, true, 0), d, oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)}
		}(),
		want: []string{"| [waitroom](#run-1) | ES256 | closed loop, 32 users | 1 | 1600 | 1.00 | 5.00 | 0 | 95 | – |",
			"dex not measured with ES256 at this load: no comparison", "**B4 not fully judged**"},
	}, {
		name: "errors",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 3), oidcRun("dex", "ES256", 700, true, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 5)},
		want: []string{"ES256: waitroom 1600 flows/s — 3 errors: **not met**", "the runs compared had 5 errors: no valid comparison with dex", "**B4 not met.**"},
	}, {
		name: "dex on PostgreSQL too: 3 × met and missed",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1500, true, 0), oidcRun("dex-postgres", "ES256", 400, true, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0), oidcRun("dex-postgres", "RS256", 250, true, 0)},
		opts: ReportOptions{Durable: "dex-postgres"},
		want: []string{"| server CPU % | waitroom / dex | waitroom / dex-postgres |",
			"| [waitroom](#run-1) | ES256 | closed loop, 32 users | 1 | 1600 | 1.00 | 5.00 | 0 | 95 | 1.07 | 4.00 |",
			"dex-postgres 400 flows/s: waitroom / dex-postgres = 4.00, at least 3 × dex-postgres\n",
			"dex-postgres 250 flows/s: waitroom / dex-postgres = 2.40, **below 3 × dex-postgres**\n",
			"RS256, 32 users: below 3 × dex-postgres (waitroom / dex-postgres = 2.40)",
			"**B4 not met.**"},
	}, {
		name: "dex on PostgreSQL not measured",
		results: []Result{oidcRun("waitroom", "ES256", 1600, true, 0), oidcRun("dex", "ES256", 1500, true, 0),
			oidcRun("waitroom", "RS256", 600, true, 0), oidcRun("dex", "RS256", 300, true, 0)},
		opts: ReportOptions{Durable: "dex-postgres"},
		want: []string{"| dex-postgres | ES256 | not measured |", "dex-postgres not measured with ES256: no comparison", "**B4 not fully judged**"},
	}, {
		name: "another reference, older results without the alg",
		results: func() []Result {
			w, k := oidcRun("", "", 1600, true, 0), oidcRun("keycloak", "ES256", 400, true, 0)
			w.Label = "B4 OIDC flow ES256"
			return []Result{w, k}
		}(),
		opts: ReportOptions{Reference: "keycloak"},
		want: []string{b4Heading + "B4: full login, waitroom and keycloak", "| [waitroom](#run-1) | ES256 |", "waitroom / keycloak = 4.00",
			"- RS256: waitroom not measured", "**B4 not fully judged**"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			doc := RenderMarkdown("", groupRuns(tc.results), tc.opts)
			for _, want := range tc.want {
				if !strings.Contains(doc, want) {
					t.Errorf("report lacks %q:\n%s", want, doc[strings.Index(doc, b4Heading):])
				}
			}
		})
	}
}

func TestNoB4SectionWithoutLogins(t *testing.T) {
	doc := RenderMarkdown("", groupRuns([]Result{sampleRun("B1", 1, time.Now())}), ReportOptions{B4Notes: []string{"dex not measured"}})
	if strings.Contains(doc, b4Heading) {
		t.Fatalf("a report without oidc-flow runs has a B4 section:\n%s", doc)
	}
}
