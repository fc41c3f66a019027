package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one measured scenario run, as written to JSON.
type Result struct {
	Scenario string `json:"scenario"`
	About    string `json:"about"`
	Unit     string `json:"unit"`
	Label    string `json:"label,omitempty"`
	// Provider is the OpenID provider the OIDC scenarios ran against
	// (-provider); IDTokenAlg the "alg" of the ID tokens it issued.
	Provider   string    `json:"provider,omitempty"`
	IDTokenAlg string    `json:"id_token_alg,omitempty"`
	Mode       string    `json:"mode"`
	Rate       float64   `json:"offered_rate,omitempty"` // open loop
	Users      int       `json:"users"`                  // closed loop: users; open loop: cap in flight
	Started    time.Time `json:"started"`
	Seconds    float64   `json:"seconds"`
	Waiting    int64     `json:"waiting_at_start"`
	Command    string    `json:"command"`
	Host       Host      `json:"host"`
	Notes      []string  `json:"notes,omitempty"`

	Ops          uint64            `json:"ops"`       // operations due in the window, all timed
	Completed    int64             `json:"completed"` // operations that ended in the window: the rate
	Errors       uint64            `json:"errors"`
	AchievedRate float64           `json:"achieved_rate"`
	Latency      Latency           `json:"latency"`
	StartLag     *Latency          `json:"start_lag,omitempty"` // open loop: start − due time
	ErrorsBy     map[string]uint64 `json:"errors_by,omitempty"`
	Steps        []StepResult      `json:"steps"`
	Delayed      int64             `json:"delayed_arrivals,omitempty"`
	CutOff       int64             `json:"cut_off,omitempty"`
	StoppedEarly bool              `json:"stopped_early,omitempty"`
	// Acknowledged is the enqueues answered 200 over the whole run
	// (warm-up included); QueueGrowth how far the room's queue counter
	// moved meanwhile (admin API). Fewer positions than acknowledgements
	// would mean a lost place in line.
	Acknowledged uint64 `json:"acknowledged_enqueues,omitempty"`
	QueueGrowth  *int64 `json:"queue_growth,omitempty"`

	Server    procUsage `json:"server"`
	Generator procUsage `json:"generator"`
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// StepResult is one step (endpoint) of a scenario.
type StepResult struct {
	Name     string            `json:"name"`
	Count    uint64            `json:"count"`
	Rate     float64           `json:"rate"`
	Latency  Latency           `json:"latency"`
	Statuses map[string]uint64 `json:"statuses"`
}

func summarize(h *Histogram) Latency {
	ms := func(us uint64) float64 { return float64(us) / 1000 }
	return Latency{P50: ms(h.Quantile(0.50)), P95: ms(h.Quantile(0.95)), P99: ms(h.Quantile(0.99)),
		Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

// result turns a measured window into a Result.
func (b *Bench) result(name string, sc Scenario, w window, waiting int64) Result {
	secs := w.elapsed.Seconds()
	r := Result{
		Scenario: name, About: sc.About, Unit: sc.Unit, Label: b.cfg.Label, Mode: b.cfg.Mode,
		Users: b.cfg.Users, Started: w.start.UTC().Truncate(time.Second), Seconds: round3(secs),
		Waiting: waiting, Command: b.cfg.Command, Host: b.cfg.Host, Notes: b.cfg.Notes,
		Ops: w.rec.Ops.Count(), Completed: w.completed, Errors: w.rec.ErrorCount(), ErrorsBy: w.rec.Errors(),
		Latency: summarize(&w.rec.Ops), Delayed: w.delayed, CutOff: w.inFlight, StoppedEarly: w.stopped,
		Server: w.server, Generator: w.self, Acknowledged: w.acknowledged,
	}
	if slices.Contains(sc.Steps, stepOIDCToken) || slices.Contains(sc.Steps, stepUserinfo) {
		r.Provider, r.IDTokenAlg = b.cfg.Provider, b.oidc.idTokenAlg()
	}
	if b.queue != nil && b.queue.gate != nil && slices.Contains(sc.Steps, stepChallenge) {
		g := b.queue.gate
		r.Notes = append(slices.Clone(r.Notes), fmt.Sprintf("bot gate: difficulty %d; %d enqueues used challenges solved before the run (the rest were solved inside the timing)",
			b.cfg.GateDifficulty, g.used.Swap(0)))
	}
	if b.cfg.plainProvider() && sc.PlainAbout != "" {
		r.About = sc.PlainAbout
	}
	if b.cfg.Mode == "open" {
		r.Rate = b.cfg.Rate
		lag := summarize(&w.rec.Lag)
		r.StartLag = &lag
	}
	r.AchievedRate = round3(float64(w.completed) / secs)
	for _, st := range sc.Steps {
		s := w.rec.Step(st)
		if s.Latency.Count() == 0 {
			continue
		}
		r.Steps = append(r.Steps, StepResult{Name: st, Count: s.Latency.Count(),
			Rate: round3(float64(s.Latency.Count()) / secs), Latency: summarize(&s.Latency), Statuses: s.Statuses()})
	}
	return r
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// WriteJSON writes the results as an indented JSON array.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if results == nil {
		results = []Result{}
	}
	return enc.Encode(results)
}

// WriteTable writes the results as a plain-text table: one line per
// scenario, then one indented line per step with the statuses it saw.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tmode\trate/s\tcount\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tserver cpu%\tserver rss MiB\tstatuses")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%s\t\n",
			r.Scenario, modeText(r), r.AchievedRate, r.Ops, r.Errors,
			r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max, cpuText(r.Server), rssText(r.Server))
		for _, s := range r.Steps {
			fmt.Fprintf(tw, "  %s\t\t%.0f\t%d\t\t%.2f\t%.2f\t%.2f\t%.2f\t\t\t%s\n",
				s.Name, s.Rate, s.Count, s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, statusText(s.Statuses))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, line := range resultNotes(r) {
			fmt.Fprintf(w, "%s: %s\n", r.Scenario, line)
		}
	}
	return nil
}

func modeText(r Result) string {
	if r.Mode == "open" {
		return fmt.Sprintf("open %.0f/s", r.Rate)
	}
	return fmt.Sprintf("closed c=%d", r.Users)
}

func cpuText(u procUsage) string {
	if u.PID == 0 || u.Err != "" {
		return "-"
	}
	return fmt.Sprintf("%.0f", u.CPUPercent)
}

func rssText(u procUsage) string {
	if u.PID == 0 || u.Err != "" {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(u.RSSMax)/(1<<20))
}

// statusText lists the statuses a step saw, e.g. "200:9981 202:19".
func statusText(statuses map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(statuses)) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, statuses[k]))
	}
	return strings.Join(parts, " ")
}

// resultNotes are the facts a reader needs to trust (or distrust) a line.
func resultNotes(r Result) []string {
	var out []string
	if len(r.ErrorsBy) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.ErrorsBy)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, r.ErrorsBy[k]))
		}
		out = append(out, "errors: "+strings.Join(parts, ", "))
	}
	if r.StartLag != nil && r.StartLag.P99 >= 1 {
		out = append(out, fmt.Sprintf("operations started late by the generator: p50 %.2f ms, p99 %.2f ms (included in the latency)", r.StartLag.P50, r.StartLag.P99))
	}
	if r.Delayed > 0 {
		out = append(out, fmt.Sprintf("%d arrivals waited for a free slot (-c %d reached); their wait is in the latency", r.Delayed, r.Users))
	}
	if r.Rate > 0 && r.AchievedRate < 0.95*r.Rate {
		out = append(out, fmt.Sprintf("achieved %.0f/s of %.0f/s offered", r.AchievedRate, r.Rate))
	}
	if r.CutOff > 0 {
		out = append(out, fmt.Sprintf("%d operations still running at the end of the drain time were canceled", r.CutOff))
	}
	if r.QueueGrowth != nil && uint64(max(*r.QueueGrowth, 0)) < r.Acknowledged {
		out = append(out, fmt.Sprintf("LOST: %d enqueues acknowledged but the queue grew by only %d", r.Acknowledged, *r.QueueGrowth))
	}
	if r.StoppedEarly {
		out = append(out, "stopped early: the prepared pool was used up (raise -pool)")
	}
	if r.Server.Err != "" {
		out = append(out, "server figures unavailable: "+r.Server.Err)
	}
	return out
}
