// Command waitroom is the waitroom server: a virtual waiting room that is
// also an OpenID Connect provider.
//
//	waitroom [serve] [-config file.yaml] [flags]        run the server (default)
//	waitroom check-config [-config file.yaml] [flags]   check the configuration and exit
//	waitroom migrate [-config file.yaml] [flags]        apply database migrations
//	waitroom healthcheck [-config file.yaml] [flags]    ask the running server for /healthz
//	waitroom hash-key [-]                               make an admin key and its hash
//	waitroom version                                    print the version
//
// Settings come from the YAML file, WAITROOM_* environment variables and
// flags, in increasing order of precedence (see README.md). A
// configuration with problems stops every command but healthcheck with
// exit status 2, each problem named.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run(NewMain(), os.Args[1:])) }

// run runs the command line args with m and returns the exit status.
func run(m *Main, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := m.ParseFlags(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		fmt.Fprintln(m.Stderr, "waitroom:", err)
		return m.ExitCode(err)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "waitroom:", err)
		return m.ExitCode(err)
	}
	if m.Command != "serve" {
		return 0
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-m.Failed():
		fmt.Fprintln(m.Stderr, "waitroom:", err)
		code = exitFailure
	}
	stop() // a second signal now kills the process at once
	if err := m.Close(); err != nil {
		fmt.Fprintln(m.Stderr, "waitroom: shutdown:", err)
		code = exitFailure
	}
	return code
}
