package main

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The "Targets and verdicts" section of the report: one row per target of
// the design's performance plan (B1–B8) with the measured figure and
// whether it meets the target, and when it does not, the measured context
// (CPU of the server and of the generator, ratios, counts) — all from the
// results, so that the verdicts are regenerated with the figures.

// Verdict words.
const (
	verdictMet         = "met"
	verdictNotMet      = "**not met**"
	verdictNotMeasured = "not measured"
)

// verdictRow is one line of the table.
type verdictRow struct {
	id, target, measured, verdict string
}

// floodTarget is a target on one labelled closed-loop flood: a least rate
// and, when maxP99 > 0, a highest p99.
type floodTarget struct {
	id, label, scenario string
	target              string // as the design words it
	minRate, maxP99     float64
	profiles            bool // the miss is explained in docs/profiles.md
}

var floodTargets = []floodTarget{
	{id: "B1", label: "B1 enqueue", scenario: "enqueue", target: "enqueue ≥ 10,000/s, p99 ≤ 50 ms", minRate: 10000, maxP99: 50},
	{id: "B2", label: "B2 poll", scenario: "poll", target: "serving_num poll ≥ 50,000/s, p99 ≤ 20 ms", minRate: 50000, maxP99: 20},
	{id: "B2", label: "B2 room status", scenario: "room-status", target: "room page status poll ≥ 50,000/s, p99 ≤ 20 ms", minRate: 50000, maxP99: 20},
	{id: "B3", label: "B3 token ES256", scenario: "token", target: "first token issue ≥ 5,000/s with ES256", minRate: 5000, profiles: true},
	{id: "B3", label: "B3 token RS256", scenario: "token", target: "first token issue ≥ 1,200/s with RS256", minRate: 1200, profiles: true},
	{id: "B5", label: "B5 userinfo", scenario: "userinfo", target: "userinfo ≥ 10,000/s", minRate: 10000},
}

// B6–B8 thresholds.
const (
	depthRateFloor = 0.90 // B6: throughput at depth ≥ 90 % of depth 0
	depthP99Ceil   = 1.20 // B6: p99 at depth ≤ 120 % of depth 0
	ticketBytesMax = 200  // B7: bytes per waiting ticket, in Redis and in PostgreSQL
	rssFlatCeil    = 1.25 // B7: server RSS at the deepest depth ≤ 125 % of depth 0
	burstRate      = 30000
	burstSeconds   = 30
	drainedShare   = 0.97 // B8: achieved ≥ 97 % of offered counts as keeping up
	cpuBoundShare  = 0.90 // CPU ≥ 90 % of the cores allowed: CPU-bound
)

// writeVerdicts writes the section.
func writeVerdicts(b *strings.Builder, groups []Group, opts ReportOptions) {
	b.WriteString("## Targets and verdicts\n\n")
	b.WriteString("Each target of the design's performance plan against the runs below: the median (lowest–highest run), and for a target not met, what the runs measured around it. ")
	b.WriteString("CPU % is CPU time over wall time (100 = one core busy), of the cores the process was allowed.\n\n")
	b.WriteString("| # | target | measured: median (min–max) | verdict |\n|---|---|---|---|\n")
	for _, r := range targetVerdicts(groups, opts) {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", r.id, r.target, orDash(r.measured), r.verdict)
	}
	b.WriteString("\n")
	fmt.Fprintf(b, "- B6: for each scenario, the ratio of each depth's median to depth 0's; met when throughput stays ≥ %.0f %% and p99 ≤ %.0f %% of depth 0's.\n", 100*depthRateFloor, 100*depthP99Ceil)
	b.WriteString("- B7: bytes per ticket are the growth of Redis `used_memory` (the whole instance: other keys expiring meanwhile can make it shrink) and of the PostgreSQL database size (after a `CHECKPOINT`) over the tickets added while bench.sh filled the room for B6, divided by their number. ")
	fmt.Fprintf(b, "Server memory is its highest RSS over the B6 runs at each depth; flat means the deepest is within %.0f %% of depth 0's.\n", 100*(rssFlatCeil-1))
	fmt.Fprintf(b, "- B8: the generator records no drain time; the backlog counts as drained when the achieved rate is ≥ %.0f %% of the offered one and no operation was still running when the generator's drain time (`-drain`) ran out. Nothing lost: the room's queue grew by at least the enqueues answered 200.\n\n", 100*drainedShare)
}

// targetVerdicts is the rows in the order of the targets.
func targetVerdicts(groups []Group, opts ReportOptions) []verdictRow {
	var rows []verdictRow
	for _, t := range floodTargets {
		if t.id == "B5" {
			rows = append(rows, b4VerdictRow(groups, opts))
		}
		rows = append(rows, floodVerdicts(groups, t)...)
	}
	rows = append(rows, depthVerdicts(groups)...)
	rows = append(rows, memoryVerdicts(groups)...)
	return append(rows, burstVerdict(groups))
}

// numberedGroup is a group and its number in the report (anchor run-n).
type numberedGroup struct {
	n int
	g Group
}

func groupsWhere(groups []Group, keep func(Result) bool) []numberedGroup {
	var out []numberedGroup
	for i, g := range groups {
		if keep(g.Runs[0]) {
			out = append(out, numberedGroup{n: i + 1, g: g})
		}
	}
	return out
}

func rateOf(r Result) float64 { return r.AchievedRate }
func p99Of(r Result) float64  { return r.Latency.P99 }

// judged is the verdict text: met, or not met with the misses and the
// measured context.
func judged(misses []string, context string) string {
	if len(misses) == 0 {
		return verdictMet
	}
	v := verdictNotMet + ": " + strings.Join(misses, "; ")
	if context != "" {
		v += " — " + context
	}
	return v
}

func floodVerdicts(groups []Group, t floodTarget) []verdictRow {
	found := groupsWhere(groups, func(r Result) bool {
		return r.Label == t.label && r.Scenario == t.scenario && cmpOr(r.Provider, providerWaitroom) == providerWaitroom
	})
	if len(found) == 0 {
		return []verdictRow{{id: t.id, target: t.target, verdict: verdictNotMeasured + ": no `" + t.label + "` run in these results"}}
	}
	var rows []verdictRow
	for _, ng := range found {
		runs := ng.g.Runs
		rate, p99 := spreadOf(runs, rateOf), spreadOf(runs, p99Of)
		measured := fmt.Sprintf("[%s/s](#run-%d), p99 %s ms", rate.format("%.0f"), ng.n, p99.format("%.2f"))
		if len(found) > 1 {
			measured = loadText(runs[0]) + ": " + measured
		}
		var misses []string
		if rate.Median < t.minRate {
			misses = append(misses, fmt.Sprintf("%.0f/s, %.1f %% of the target", rate.Median, 100*rate.Median/t.minRate))
		}
		if t.maxP99 > 0 && p99.Median > t.maxP99 {
			misses = append(misses, fmt.Sprintf("p99 %.2f ms", p99.Median))
		}
		if n := totalErrors(runs); n > 0 {
			misses = append(misses, fmt.Sprintf("%d errors", n))
		}
		context := cpuContext(runs)
		if t.profiles {
			context += "; see [profiles](profiles.md)"
		}
		rows = append(rows, verdictRow{id: t.id, target: t.target, measured: measured, verdict: judged(misses, context)})
	}
	return rows
}

// thousands prints a whole number with thousands separated: 10,000.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// cpuContext says how busy the server and the generator were (medians of
// the runs) and whether either was CPU-bound.
func cpuContext(runs []Result) string {
	var parts []string
	for _, p := range []struct {
		who   string
		usage func(Result) procUsage
	}{{"server", func(r Result) procUsage { return r.Server }}, {"generator", func(r Result) procUsage { return r.Generator }}} {
		if slices.ContainsFunc(runs, func(r Result) bool { u := p.usage(r); return u.PID == 0 || u.Err != "" }) {
			continue
		}
		cpu := spreadOf(runs, func(r Result) float64 { return p.usage(r).CPUPercent }).Median
		parts = append(parts, procText(p.who, cpu, countCPUs(p.usage(runs[0]).Cores)))
	}
	return strings.Join(parts, ", ")
}

// procText is e.g. "generator at 81 % of its core" or "server at 185 %
// CPU of 200 % (2 cores): CPU-bound".
func procText(who string, cpu float64, cores int) string {
	var s string
	switch cores {
	case 0:
		return fmt.Sprintf("%s at %.0f %% CPU", who, cpu)
	case 1:
		s = fmt.Sprintf("%s at %.0f %% of its core", who, cpu)
	default:
		s = fmt.Sprintf("%s at %.0f %% CPU of %d %% (%d cores)", who, cpu, 100*cores, cores)
	}
	if cpu >= cpuBoundShare*100*float64(cores) {
		s += ": CPU-bound"
	}
	return s
}

// countCPUs counts the CPUs of a Linux CPU list such as "0-1" or "0,2-3";
// 0 when it cannot be read.
func countCPUs(list string) int {
	n := 0
	for part := range strings.SplitSeq(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}

// b4VerdictRow sums up the B4 section's verdict (judged there) and links
// to it.
func b4VerdictRow(groups []Group, opts ReportOptions) verdictRow {
	ref := opts.reference()
	row := verdictRow{id: "B4", target: fmt.Sprintf("full login ≥ %s flows/s with ES256, ≥ %s/s with RS256, at least %s's rate, aiming for %g ×",
		thousands(b4Targets["ES256"]), thousands(b4Targets["RS256"]), ref, b4Aim)}
	if opts.Durable != "" {
		row.target += fmt.Sprintf("; at least %g × %s's", b4DurableFloor, opts.Durable)
	}
	runs := b4Runs(groups)
	v := judgeB4(runs, opts)
	if len(v.full) == 0 {
		row.verdict = verdictNotMeasured + ": no full login on waitroom in these results"
		return row
	}
	var figures []string
	for _, r := range v.full {
		f := fmt.Sprintf("[%s, %d users: %s flows/s](#run-%d)", r.alg, r.g.Runs[0].Users, r.rate().format("%.0f"), r.n)
		for _, name := range opts.references() {
			if c, ok := b4Compare(runs, r, name); ok {
				how := ""
				if c.w.n != r.n {
					how = "both stopped at the token: "
				}
				f += fmt.Sprintf(" (%s%s / %s %s)", how, providerWaitroom, name, c.ratioText())
			}
		}
		figures = append(figures, f)
	}
	row.measured = strings.Join(figures, "; ")
	switch {
	case len(v.misses) > 0:
		row.verdict = judged(v.misses, "") + "; see [B4](#b4)"
	case !v.judged:
		row.verdict = "not fully judged: see [B4](#b4)"
	default:
		row.verdict = verdictMet + " (see [B4](#b4))"
	}
	return row
}

// depthRun is a B6 group: its depth comes from its label, "B6 depth N".
type depthRun struct {
	numberedGroup
	depth int64
}

func depthRuns(groups []Group) []depthRun {
	var out []depthRun
	for _, ng := range groupsWhere(groups, func(r Result) bool { _, ok := labelDepth(r.Label); return ok }) {
		d, _ := labelDepth(ng.g.Runs[0].Label)
		out = append(out, depthRun{ng, d})
	}
	slices.SortStableFunc(out, func(a, b depthRun) int { return cmp.Compare(a.depth, b.depth) })
	return out
}

func labelDepth(label string) (int64, bool) {
	s, ok := strings.CutPrefix(label, "B6 depth ")
	n, err := strconv.ParseInt(s, 10, 64)
	return n, ok && err == nil && n >= 0
}

// depthText is a depth as people say it: 0, 150k, 1M, 10M.
func depthText(n int64) string {
	switch {
	case n != 0 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n != 0 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.FormatInt(n, 10)
}

// depthVerdicts is a row per scenario of the B6 runs: each depth's
// throughput and p99 over depth 0's.
func depthVerdicts(groups []Group) []verdictRow {
	runs := depthRuns(groups)
	if len(runs) == 0 {
		return []verdictRow{{id: "B6", target: "throughput within 10 %, p99 within 20 % of the empty room at 1M and 10M waiting",
			verdict: verdictNotMeasured + ": no `B6 depth` run in these results"}}
	}
	var scenarios []string
	for _, r := range runs {
		if !slices.Contains(scenarios, r.g.Runs[0].Scenario) {
			scenarios = append(scenarios, r.g.Runs[0].Scenario)
		}
	}
	slices.SortStableFunc(scenarios, func(a, b string) int {
		return cmp.Compare(indexOr(depthScenarios, a), indexOr(depthScenarios, b))
	})
	var rows []verdictRow
	for _, sc := range scenarios {
		row := verdictRow{id: "B6", target: fmt.Sprintf("%s at depth: throughput ≥ %.0f %%, p99 ≤ %.0f %% of depth 0", sc, 100*depthRateFloor, 100*depthP99Ceil)}
		var base *depthRun
		var deeper []depthRun
		for _, r := range runs {
			switch {
			case r.g.Runs[0].Scenario != sc:
			case r.depth == 0 && base == nil:
				base = &r
			case r.depth > 0:
				deeper = append(deeper, r)
			}
		}
		switch {
		case base == nil:
			row.verdict = verdictNotMeasured + ": no depth 0 run to compare with"
		case len(deeper) == 0:
			row.verdict = verdictNotMeasured + ": no run at a depth above 0"
		}
		if row.verdict != "" {
			rows = append(rows, row)
			continue
		}
		rate0, p990 := spreadOf(base.g.Runs, rateOf).Median, spreadOf(base.g.Runs, p99Of).Median
		figures := []string{fmt.Sprintf("[depth 0](#run-%d): %s/s, p99 %s ms", base.n,
			spreadOf(base.g.Runs, rateOf).format("%.0f"), spreadOf(base.g.Runs, p99Of).format("%.2f"))}
		var misses []string
		if n := totalErrors(base.g.Runs); n > 0 {
			misses = append(misses, fmt.Sprintf("%d errors at depth 0", n))
		}
		for _, d := range deeper {
			rateX := ratio(spreadOf(d.g.Runs, rateOf).Median, rate0)
			p99X := ratio(spreadOf(d.g.Runs, p99Of).Median, p990)
			at := depthText(d.depth)
			figures = append(figures, fmt.Sprintf("[%s](#run-%d): rate × %.2f, p99 × %.2f", at, d.n, rateX, p99X))
			if rateX < depthRateFloor {
				misses = append(misses, fmt.Sprintf("throughput × %.2f at %s", rateX, at))
			}
			if p99X > depthP99Ceil {
				misses = append(misses, fmt.Sprintf("p99 × %.2f at %s", p99X, at))
			}
			if n := totalErrors(d.g.Runs); n > 0 {
				misses = append(misses, fmt.Sprintf("%d errors at %s", n, at))
			}
		}
		row.measured = strings.Join(figures, "; ")
		row.verdict = judged(misses, "")
		rows = append(rows, row)
	}
	return rows
}

func indexOr(list []string, s string) int {
	if i := slices.Index(list, s); i >= 0 {
		return i
	}
	return len(list)
}

// ratio is a / b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// memoryFill is what bench.sh measured while filling the room from one
// depth to the next (B7): growth per ticket added, in bytes.
type memoryFill struct {
	from, to        int64
	redis, postgres int64
}

// memoryNoteRE reads the note bench.sh (memory_per_ticket) stores with the
// B6 runs; TestMemoryNoteOfBenchScript keeps the two in step.
var memoryNoteRE = regexp.MustCompile(`^memory per waiting ticket while filling (\d+) → (\d+): Redis (-?\d+) B .*PostgreSQL (-?\d+) B`)

func parseMemoryNote(note string) (memoryFill, bool) {
	m := memoryNoteRE.FindStringSubmatch(note)
	if m == nil {
		return memoryFill{}, false
	}
	var f memoryFill
	for i, p := range []*int64{&f.from, &f.to, &f.redis, &f.postgres} {
		v, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil {
			return memoryFill{}, false
		}
		*p = v
	}
	return f, true
}

// memoryFills is every fill noted with the B6 runs, once each, in order.
func memoryFills(runs []depthRun) []memoryFill {
	seen := map[memoryFill]bool{}
	for _, r := range runs {
		for _, x := range r.g.Runs {
			for _, note := range x.Notes {
				if f, ok := parseMemoryNote(note); ok {
					seen[f] = true
				}
			}
		}
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b memoryFill) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to), cmp.Compare(a.redis, b.redis), cmp.Compare(a.postgres, b.postgres))
	})
}

// memoryVerdicts is B7: bytes per ticket in Redis and in PostgreSQL, and
// the server's memory across depths.
func memoryVerdicts(groups []Group) []verdictRow {
	runs := depthRuns(groups)
	fills := memoryFills(runs)
	stores := []struct {
		name  string
		bytes func(memoryFill) int64
	}{{"Redis", func(f memoryFill) int64 { return f.redis }}, {"PostgreSQL", func(f memoryFill) int64 { return f.postgres }}}
	var rows []verdictRow
	for _, s := range stores {
		row := verdictRow{id: "B7", target: fmt.Sprintf("≤ %d B per waiting ticket in %s", ticketBytesMax, s.name)}
		if len(fills) == 0 {
			row.verdict = verdictNotMeasured + ": no memory figures with the B6 runs (bench.sh notes them while filling the room for a depth above 0)"
			rows = append(rows, row)
			continue
		}
		var figures, misses []string
		for _, f := range fills {
			v := s.bytes(f)
			text := fmt.Sprintf("%d B", v)
			if v < 0 {
				text = "≈ 0 B (instance memory fell)"
			}
			figures = append(figures, fmt.Sprintf("%s → %s: %s", depthText(f.from), depthText(f.to), text))
			if v > ticketBytesMax {
				misses = append(misses, fmt.Sprintf("%d B filling %s → %s", v, depthText(f.from), depthText(f.to)))
			}
		}
		row.measured, row.verdict = strings.Join(figures, "; "), judged(misses, "")
		rows = append(rows, row)
	}
	return append(rows, rssVerdict(runs))
}

// rssVerdict is "server heap flat in queue size", judged on the server's
// highest RSS over the B6 runs at each depth.
func rssVerdict(runs []depthRun) verdictRow {
	row := verdictRow{id: "B7", target: "server memory flat in queue size"}
	peak := map[int64]int64{}
	for _, r := range runs {
		for _, x := range r.g.Runs {
			if x.Server.PID == 0 || x.Server.Err != "" {
				row.verdict = verdictNotMeasured + ": the B6 runs did not watch the server"
				return row
			}
			peak[r.depth] = max(peak[r.depth], x.Server.RSSMax)
		}
	}
	depths := slices.Sorted(maps.Keys(peak))
	if len(depths) < 2 || depths[0] != 0 {
		row.verdict = verdictNotMeasured + ": needs B6 runs at depth 0 and deeper"
		return row
	}
	var figures []string
	for _, d := range depths {
		figures = append(figures, fmt.Sprintf("%s: %.0f MiB", depthText(d), float64(peak[d])/(1<<20)))
	}
	deepest := depths[len(depths)-1]
	x := ratio(float64(peak[deepest]), float64(peak[0]))
	row.measured = fmt.Sprintf("server RSS at depth %s (× %.2f)", strings.Join(figures, ", "), x)
	var misses []string
	if x > rssFlatCeil {
		misses = append(misses, fmt.Sprintf("RSS × %.2f from depth 0 to %s", x, depthText(deepest)))
	}
	row.verdict = judged(misses, "")
	return row
}

// burstVerdict is B8 on the "B8 burst" open-loop runs.
func burstVerdict(groups []Group) verdictRow {
	row := verdictRow{id: "B8", target: fmt.Sprintf("burst at 3 × B1 (%s/s) for %d s: no 5xx, nothing lost, backlog drained within 30 s", thousands(burstRate), burstSeconds)}
	found := groupsWhere(groups, func(r Result) bool { return r.Label == "B8 burst" && r.Mode == "open" })
	if len(found) == 0 {
		row.verdict = verdictNotMeasured + ": no `B8 burst` run in these results (bench.sh runs it when `BURST_RATE` is set)"
		return row
	}
	ng := found[0] // bench.sh runs one burst configuration
	runs := ng.g.Runs
	r0 := runs[0]
	var fives, lost, cutOff, delayed uint64
	unchecked := 0
	for _, r := range runs {
		for _, s := range r.Steps {
			for code, n := range s.Statuses {
				if len(code) == 3 && code[0] == '5' {
					fives += n
				}
			}
		}
		if r.QueueGrowth == nil {
			unchecked++
		} else if g := uint64(max(*r.QueueGrowth, 0)); g < r.Acknowledged {
			lost += r.Acknowledged - g
		}
		cutOff += uint64(max(r.CutOff, 0))
		delayed += uint64(max(r.Delayed, 0))
	}
	rate := spreadOf(runs, rateOf)
	share := ratio(rate.Median, r0.Rate)
	row.measured = fmt.Sprintf("[%s/s achieved of %.0f/s offered](#run-%d) (%.0f %%) for %.0f s; %d × 5xx; %d lost", rate.format("%.0f"), r0.Rate, ng.n, 100*share, r0.Seconds, fives, lost)
	if unchecked > 0 {
		row.measured += fmt.Sprintf(" (%d of %d runs not checked: no admin key)", unchecked, len(runs))
	}
	if r0.Rate < burstRate || r0.Seconds < burstSeconds-0.5 {
		row.verdict = fmt.Sprintf("%s: the burst ran at %.0f/s for %.0f s, short of %s/s for %d s", verdictNotMeasured, r0.Rate, r0.Seconds, thousands(burstRate), burstSeconds)
		return row
	}
	var misses, context []string
	if fives > 0 {
		misses = append(misses, fmt.Sprintf("%d answers with a 5xx status", fives))
	}
	if lost > 0 {
		misses = append(misses, fmt.Sprintf("%d acknowledged enqueues lost", lost))
	}
	if n := totalErrors(runs); n > fives {
		misses = append(misses, fmt.Sprintf("%d enqueues failed otherwise (%s)", n-fives, errorsText(runs)))
	}
	if share < drainedShare || cutOff > 0 {
		why := fmt.Sprintf("backlog not drained: %.0f %% of the offered rate achieved", 100*share)
		if cutOff > 0 {
			why += fmt.Sprintf(", %d operations still running when the drain time ran out", cutOff)
		}
		misses = append(misses, why)
		if delayed > 0 {
			context = append(context, fmt.Sprintf("%d arrivals waited for one of the %d slots in flight", delayed, r0.Users))
		}
		if lag := spreadOf(runs, func(r Result) float64 { return lagP99(r) }); lag.Median >= 1 {
			context = append(context, fmt.Sprintf("generator late by p99 %s ms", lag.format("%.0f")))
		}
		if c := cpuContext(runs); c != "" {
			context = append(context, c)
		}
	}
	row.verdict = judged(misses, strings.Join(context, ", "))
	return row
}

func lagP99(r Result) float64 {
	if r.StartLag == nil {
		return 0
	}
	return r.StartLag.P99
}

// errorsText is the failures of runs by cause, e.g.
// "assign_queue_num canceled ×4934".
func errorsText(runs []Result) string {
	total := map[string]uint64{}
	for _, r := range runs {
		for k, n := range r.ErrorsBy {
			total[k] += n
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(total)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, total[k]))
	}
	return strings.Join(parts, ", ")
}
