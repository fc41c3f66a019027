package main

import (
	"fmt"
	"slices"
	"strings"
)

// The B4 section of the report: the full login on waitroom next to the
// same flow on a reference provider (dex) measured in the same session,
// per signing algorithm, with the verdict against the absolute target and
// against the reference.

// b4Targets are the absolute targets of B4 in flows per second.
var b4Targets = map[string]float64{"ES256": 1500, "RS256": 500}

// b4Aim is how many times the reference's rate B4 aims at; 1 is the floor.
const b4Aim = 2.0

// b4DurableFloor is how many times the durable reference's rate (dex on
// PostgreSQL: both keep every login durably) waitroom must reach.
const b4DurableFloor = 3.0

// b4Algs is the order the algorithms are reported in.
var b4Algs = []string{"ES256", "RS256"}

// b4Run is one configuration of the full login: its group and where it
// appears in the report.
type b4Run struct {
	n        int // 1-based position in the report (anchor run-n)
	g        Group
	provider string
	alg      string
}

func (r b4Run) rate() Spread {
	return spreadOf(r.g.Runs, func(x Result) float64 { return x.AchievedRate })
}

func (r b4Run) errors() uint64 { return totalErrors(r.g.Runs) }

// withoutUserinfo says the flows stopped at the token (-userinfo=false).
func (r b4Run) withoutUserinfo() bool {
	for _, x := range r.g.Runs {
		if slices.ContainsFunc(x.Steps, func(s StepResult) bool { return s.Name == stepUserinfo }) {
			return false
		}
	}
	return true
}

// load is what must match for two runs to be compared.
func (r b4Run) load() string { return loadText(r.g.Runs[0]) }

// b4Runs picks the oidc-flow groups out of the report.
func b4Runs(groups []Group) []b4Run {
	var out []b4Run
	for i, g := range groups {
		r0 := g.Runs[0]
		if r0.Scenario != "oidc-flow" {
			continue
		}
		out = append(out, b4Run{n: i + 1, g: g, provider: cmpOr(r0.Provider, providerWaitroom), alg: runAlg(r0)})
	}
	return out
}

// runAlg is the ID tokens' algorithm; results written before the
// generator recorded it name it in their label.
func runAlg(r Result) string {
	if r.IDTokenAlg != "" {
		return r.IDTokenAlg
	}
	for _, alg := range b4Algs {
		if strings.Contains(r.Label, alg) {
			return alg
		}
	}
	return "?"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeB4 writes the B4 section when the report has full-login runs.
func writeB4(b *strings.Builder, groups []Group, opts ReportOptions) {
	runs := b4Runs(groups)
	if len(runs) == 0 {
		return
	}
	ref := opts.reference()
	fmt.Fprintf(b, "## <a id=\"b4\"></a>B4: full login, waitroom and %s\n\n", ref)
	fmt.Fprintf(b, "The same browser login (authorize → … → callback → token with PKCE → userinfo) against waitroom (with its room, every visitor admitted at once) and against %s, on the same machine in the same session, with the same load and pinning. ", ref)
	fmt.Fprintf(b, "Target: ≥ %.0f flows/s with ES256, ≥ %.0f/s with RS256, and at least %s's rate, aiming for %g ×.\n\n", b4Targets["ES256"], b4Targets["RS256"], ref, b4Aim)
	refs := opts.references()
	b.WriteString("| provider | alg | load | runs | flows /s | p50 ms | p99 ms | errors | server CPU % |")
	for _, r := range refs {
		fmt.Fprintf(b, " waitroom / %s |", r)
	}
	b.WriteString("\n|---|---|---|---|---|---|---|---|---|" + strings.Repeat("---|", len(refs)) + "\n")
	for _, alg := range b4AlgsOf(runs) {
		for _, r := range b4Rows(runs, alg, ref) {
			writeB4Row(b, r, runs, refs)
		}
		for _, name := range refs {
			if !slices.ContainsFunc(runs, func(r b4Run) bool { return r.provider == name && r.alg == alg }) {
				fmt.Fprintf(b, "| %s | %s | not measured | | | | | | |%s\n", name, alg, strings.Repeat(" |", len(refs)))
			}
		}
	}
	b.WriteString("\n")
	for _, note := range opts.B4Notes {
		fmt.Fprintf(b, "- %s\n", note)
	}
	if slices.ContainsFunc(runs, func(r b4Run) bool { return r.withoutUserinfo() }) {
		b.WriteString("- *no userinfo*: those flows stopped at the token, one request short of the full login. Waitroom's full flow is compared with such a run of the reference through waitroom's own run stopped at the token (like for like); without one, the ratio against the shorter flow is a lower bound (≥).\n")
	}
	b.WriteString("\n")
	writeB4Verdict(b, runs, opts)
}

// b4AlgsOf is ES256, RS256, then any other algorithm measured.
func b4AlgsOf(runs []b4Run) []string {
	algs := slices.Clone(b4Algs)
	for _, r := range runs {
		if !slices.Contains(algs, r.alg) {
			algs = append(algs, r.alg)
		}
	}
	return algs
}

// b4Rows is waitroom's runs with alg, then the reference's, then any
// other provider's.
func b4Rows(runs []b4Run, alg, ref string) []b4Run {
	rank := func(r b4Run) int {
		switch r.provider {
		case providerWaitroom:
			return 0
		case ref:
			return 1
		}
		return 2
	}
	var out []b4Run
	for _, r := range runs {
		if r.alg == alg {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b b4Run) int { return rank(a) - rank(b) })
	return out
}

func writeB4Row(b *strings.Builder, r b4Run, runs []b4Run, refs []string) {
	name := r.provider
	if r.withoutUserinfo() {
		name += " (no userinfo)"
	}
	fmt.Fprintf(b, "| [%s](#run-%d) | %s | %s | %d | %s | %s | %s | %d | %s |",
		name, r.n, r.alg, r.load(), len(r.g.Runs), r.rate().format("%.0f"),
		spreadOf(r.g.Runs, func(x Result) float64 { return x.Latency.P50 }).format("%.2f"),
		spreadOf(r.g.Runs, func(x Result) float64 { return x.Latency.P99 }).format("%.2f"),
		r.errors(), serverText(r.g.Runs, func(u procUsage) float64 { return u.CPUPercent }, "%.0f"))
	for _, ref := range refs {
		ratio := ""
		if r.provider == providerWaitroom {
			ratio = "–"
			// A full flow compared through waitroom's run stopped at the
			// token shows its ratio on that run's row.
			if c, ok := b4Compare(runs, r, ref); ok && c.w.n == r.n {
				ratio = c.ratioText()
			}
		}
		fmt.Fprintf(b, " %s |", ratio)
	}
	b.WriteString("\n")
}

// b4Comparison is a waitroom run set against the reference's.
type b4Comparison struct {
	w, ref b4Run
	// lowerBound: w made the full flow, ref stopped at the token, so
	// w / ref is at most too low.
	lowerBound bool
}

func (c b4Comparison) ratio() float64 { return c.w.rate().Median / c.ref.rate().Median }

func (c b4Comparison) ratioText() string {
	if c.lowerBound {
		return fmt.Sprintf("≥ %.2f", c.ratio())
	}
	return fmt.Sprintf("%.2f", c.ratio())
}

// b4Compare finds what the waitroom run r is compared with: the
// reference's run with the same algorithm, load and flow (with or without
// userinfo); for a full flow, when the reference only stopped at the
// token, waitroom's own run stopped at the token if there is one, else
// the reference's shorter flow as a lower bound.
func b4Compare(runs []b4Run, r b4Run, ref string) (b4Comparison, bool) {
	find := func(provider string, withoutUserinfo bool) (b4Run, bool) {
		i := slices.IndexFunc(runs, func(o b4Run) bool {
			return o.provider == provider && o.alg == r.alg && o.load() == r.load() && o.withoutUserinfo() == withoutUserinfo && o.rate().Median > 0
		})
		if i < 0 {
			return b4Run{}, false
		}
		return runs[i], true
	}
	if same, ok := find(ref, r.withoutUserinfo()); ok {
		return b4Comparison{w: r, ref: same}, true
	}
	short, ok := find(ref, true)
	if !ok {
		return b4Comparison{}, false
	}
	if w, ok := find(providerWaitroom, true); ok {
		return b4Comparison{w: w, ref: short}, true
	}
	return b4Comparison{w: r, ref: short, lowerBound: true}, true
}

// b4Verdict is B4 judged as a whole: a line per full waitroom run (or
// per algorithm waitroom was not measured with), what missed the targets,
// and whether everything could be judged.
type b4Verdict struct {
	lines  []string
	misses []string
	judged bool
	full   []b4Run // waitroom's full logins, in the order of the lines
}

// judgeB4 judges each algorithm waitroom was measured with against the
// absolute target and against the reference.
func judgeB4(runs []b4Run, opts ReportOptions) b4Verdict {
	v := b4Verdict{judged: true}
	for _, alg := range b4AlgsOf(runs) {
		full := func(r b4Run) bool { return r.provider == providerWaitroom && r.alg == alg && !r.withoutUserinfo() }
		if !slices.ContainsFunc(runs, full) {
			if slices.Contains(b4Algs, alg) {
				v.lines = append(v.lines, alg+": waitroom not measured")
				v.judged = false
			}
			continue
		}
		for _, r := range runs {
			if full(r) {
				line, misses, complete := b4Judge(r, runs, opts)
				v.lines, v.misses, v.full = append(v.lines, line), append(v.misses, misses...), append(v.full, r)
				v.judged = v.judged && complete
			}
		}
	}
	return v
}

// writeB4Verdict writes judgeB4's lines, then B4 as a whole.
func writeB4Verdict(b *strings.Builder, runs []b4Run, opts ReportOptions) {
	ref := opts.reference()
	v := judgeB4(runs, opts)
	b.WriteString("Verdict:\n\n")
	for _, line := range v.lines {
		fmt.Fprintf(b, "- %s\n", line)
	}
	switch {
	case len(v.misses) > 0:
		b.WriteString("\n**B4 not met.**\n\n")
	case !v.judged:
		fmt.Fprintf(b, "\n**B4 not fully judged**: a target or the comparison with %s is missing above.\n\n", ref)
	default:
		b.WriteString("\n**B4 met.**\n\n")
	}
}

// b4Judge is the verdict line of one full waitroom run, with what missed
// a target (none: met); complete is false when something could not be
// judged.
func b4Judge(r b4Run, runs []b4Run, opts ReportOptions) (line string, misses []string, complete bool) {
	ref := opts.reference()
	rate := r.rate().Median
	complete = true
	which := fmt.Sprintf("%s, %d users", r.alg, r.g.Runs[0].Users)
	var parts []string
	if r.errors() > 0 {
		parts = append(parts, fmt.Sprintf("%d errors: **not met**", r.errors()))
		misses = append(misses, fmt.Sprintf("%s: %d errors", which, r.errors()))
	}
	if target, known := b4Targets[r.alg]; known {
		verdict := "met"
		if rate < target {
			verdict = "**not met**"
			misses = append(misses, fmt.Sprintf("%s: %.0f flows/s, below %.0f/s", which, rate, target))
		}
		parts = append(parts, fmt.Sprintf("target ≥ %.0f/s: %s", target, verdict))
	} else {
		parts = append(parts, "no target for this algorithm")
		complete = false
	}
	for _, name := range opts.references() {
		floor, aim := 1.0, b4Aim
		if name != ref {
			floor, aim = b4DurableFloor, 0
		}
		part, miss, ok := b4JudgeAgainst(r, runs, name, floor, aim)
		parts = append(parts, part)
		if miss != "" {
			misses = append(misses, which+": "+miss)
		}
		complete = complete && ok
	}
	return fmt.Sprintf("%s: waitroom %.0f flows/s — %s", r.alg, rate, strings.Join(parts, "; ")), misses, complete
}

// b4JudgeAgainst compares the waitroom run r with one reference: the part
// of the verdict line, what missed (empty: nothing), and whether it could
// be judged.
func b4JudgeAgainst(r b4Run, runs []b4Run, ref string, floor, aim float64) (part, miss string, complete bool) {
	c, found := b4Compare(runs, r, ref)
	switch {
	case !found:
		where := ""
		if slices.ContainsFunc(runs, func(o b4Run) bool { return o.provider == ref && o.alg == r.alg }) {
			where = " at this load"
		}
		return fmt.Sprintf("%s not measured with %s%s: no comparison", ref, r.alg, where), "", false
	case c.ref.errors()+c.w.errors() > 0:
		return fmt.Sprintf("the runs compared had %d errors: no valid comparison with %s", c.ref.errors()+c.w.errors(), ref), "", false
	}
	part, ok, complete := c.judge(ref, floor, aim)
	if !ok {
		miss = fmt.Sprintf("below %s (waitroom / %s = %s)", floorText(ref, floor), ref, c.ratioText())
	}
	return part, miss, complete
}

// floorText names a floor: "dex" for 1 ×, "3 × dex-postgres" otherwise.
func floorText(ref string, floor float64) string {
	if floor == 1 {
		return ref
	}
	return fmt.Sprintf("%g × %s", floor, ref)
}

// judge says how the comparison stands against "at least floor × the
// reference", aiming for aim × it (0: no aim beyond the floor).
func (c b4Comparison) judge(ref string, floor, aim float64) (line string, ok, complete bool) {
	x := c.ratio()
	ok, complete = true, true
	verdict := fmt.Sprintf("at least %s", floorText(ref, floor))
	if aim > floor {
		verdict += fmt.Sprintf(", short of the %g × aim", aim)
	}
	switch {
	case x < floor && c.lowerBound:
		verdict, complete = fmt.Sprintf("below %s's upper bound: not judged", floorText(ref, floor)), false
	case x < floor:
		verdict, ok = fmt.Sprintf("**below %s**", floorText(ref, floor)), false
	case aim > floor && x >= aim:
		verdict = fmt.Sprintf("%g × %s or more: aim met", aim, ref)
	}
	how := fmt.Sprintf("%s %.0f flows/s: waitroom / %s = %.2f", ref, c.ref.rate().Median, ref, x)
	switch {
	case c.lowerBound:
		how += fmt.Sprintf(" (%s without userinfo: a lower bound)", ref)
	case c.w.withoutUserinfo():
		how = fmt.Sprintf("both stopped at the token (%s measured so): waitroom %.0f, %s %.0f flows/s, waitroom / %s = %.2f",
			ref, c.w.rate().Median, ref, c.ref.rate().Median, ref, x)
	}
	return how + ", " + verdict, ok, complete
}
