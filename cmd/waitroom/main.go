// Command waitroom is the waitroom server: a virtual waiting room that is
// also an OpenID Connect provider.
//
//	waitroom [serve] [-config file.yaml] [flags]   run the server (default)
//	waitroom migrate [-config file.yaml] [flags]   apply database migrations
//	waitroom hash-key [-]                          make an admin key and its hash
//	waitroom version                               print the version
//
// Settings come from the YAML file, WAITROOM_* environment variables and
// flags, in increasing order of precedence (see README.md).
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "waitroom:", err)
		os.Exit(1)
	}
	if m.Command != "serve" {
		return
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-m.Failed():
		fmt.Fprintln(os.Stderr, "waitroom:", err)
		code = 1
	}
	stop() // a second signal now kills the process at once
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "waitroom: shutdown:", err)
		code = 1
	}
	os.Exit(code)
}
