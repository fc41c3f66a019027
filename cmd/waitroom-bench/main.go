// Command waitroom-bench is the load generator of waitroom's benchmark
// suite. It drives the public queue API (the AWS-style visitor flow and
// single-endpoint floods), the OIDC browser flow and userinfo, in open loop
// (a fixed arrival rate, latency counted from each arrival's due time) or
// closed loop (a fixed number of users), and reports the achieved rate,
// latency percentiles, errors by step and status, and the server's CPU and
// memory. `waitroom-bench summarize` turns saved JSON results into
// docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "waitroom-bench:", err)
		os.Exit(1)
	}
}

// Main runs the command with args; it is main without the process exits,
// so tests can drive it.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "summarize" {
		return Summarize(args[1:], stdout, stderr)
	}
	cfg, err := ParseConfig(args, stderr)
	if err != nil {
		return err
	}
	if cfg.Smoke {
		cfg = cfg.smoke()
	}
	cfg.Command = commandLine(args)
	cfg.Host = currentHost()
	b := NewBench(cfg, stderr)
	defer b.Close()
	results, runErr := b.Run(ctx)
	if err := writeResults(cfg, results, stdout); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	if cfg.Smoke {
		return smokeVerdict(results)
	}
	return nil
}

func writeResults(cfg Config, results []Result, stdout io.Writer) error {
	if !cfg.Quiet {
		if err := WriteTable(stdout, results); err != nil {
			return err
		}
	}
	switch cfg.JSONOut {
	case "":
		return nil
	case "-":
		return WriteJSON(stdout, results)
	}
	f, err := os.Create(cfg.JSONOut)
	if err != nil {
		return err
	}
	if err := WriteJSON(f, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// smoke shortens a run to a check that every scenario works: at most a
// second of closed-loop load by two users, small pools, quick polls.
func (c Config) smoke() Config {
	c.Mode = "closed"
	c.Users = 2
	c.Warmup = 0
	c.Duration = min(c.Duration, time.Second)
	c.Drain = 30 * time.Second // only waited for as long as an operation runs
	c.PoolSize = min(c.PoolSize, 200)
	c.PrefillConc = min(c.PrefillConc, 8)
	c.Depth = min(c.Depth, 200)
	c.PollInterval = min(c.PollInterval, 20*time.Millisecond)
	return c
}

// smokeVerdict fails unless every scenario completed operations without a
// single error. It never looks at timings.
func smokeVerdict(results []Result) error {
	var errs []error
	for _, r := range results {
		switch {
		case r.Ops == 0:
			errs = append(errs, fmt.Errorf("%s: no operation completed", r.Scenario))
		case r.Errors > 0:
			errs = append(errs, fmt.Errorf("%s: %d errors: %v", r.Scenario, r.Errors, r.ErrorsBy))
		case r.QueueGrowth != nil && *r.QueueGrowth < int64(r.Acknowledged):
			errs = append(errs, fmt.Errorf("%s: %d enqueues acknowledged, queue grew by %d", r.Scenario, r.Acknowledged, *r.QueueGrowth))
		}
	}
	return errors.Join(errs...)
}

// commandLine is the invocation as a shell would take it back, for the
// report: arguments with spaces or shell characters are single-quoted,
// secrets (-admin-key, -client-secret, passwords in URLs) are redacted.
func commandLine(args []string) string {
	parts := []string{"waitroom-bench"}
	secretNext := false
	for _, a := range args {
		switch {
		case secretNext:
			a, secretNext = "REDACTED", false
		case isSecretFlag(a):
			secretNext = !strings.Contains(a, "=")
			if name, _, ok := strings.Cut(a, "="); ok {
				a = name + "=REDACTED"
			}
		default:
			a = redactURL(a)
		}
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func isSecretFlag(a string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return strings.HasPrefix(a, "-") && (name == "admin-key" || name == "client-secret")
}

// redactURL hides the password of a URL argument.
func redactURL(a string) string {
	u, err := url.Parse(a)
	if err != nil || u.User == nil {
		return a
	}
	if _, ok := u.User.Password(); !ok {
		return a
	}
	u.User = url.UserPassword(u.User.Username(), "REDACTED")
	return u.String()
}

func shellQuote(a string) string {
	if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return a
}
