package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Main is the program, kept out of func main so that tests can run it:
// ParseFlags reads the command line, Run starts the command (for serve, it
// returns once both listeners are up), Close stops a running server.
type Main struct {
	Command string
	Config  Config
	// Args are the arguments left after the flags (hash-key reads one).
	Args []string

	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// LookupEnv reads the environment (os.LookupEnv; tests replace it).
	LookupEnv func(string) (string, bool)

	logger *slog.Logger
	server *server
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv}
}

var commands = map[string]string{
	"serve":    "run the server (default)",
	"migrate":  "apply the PostgreSQL migrations and exit",
	"hash-key": "print a new admin key and its SHA-256 (or hash the key read from stdin with '-')",
	"version":  "print the version and exit",
}

// ParseFlags picks the command and builds the configuration: defaults, then
// the -config file, then WAITROOM_* variables, then flags. Every problem is
// reported at once.
func (m *Main) ParseFlags(args []string) error {
	m.Command = "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if _, ok := commands[args[0]]; !ok {
			return fmt.Errorf("unknown command %q; commands: serve, migrate, hash-key, version", args[0])
		}
		m.Command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("waitroom "+m.Command, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	configPath := fs.String("config", "", "YAML configuration file (keys as the setting names)")
	given := defineFlags(fs)
	fs.Usage = func() { m.usage(fs) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	m.Args = fs.Args()
	return m.buildConfig(*configPath, fs, given)
}

func (m *Main) buildConfig(path string, fs *flag.FlagSet, given map[string]*string) error {
	m.Config = DefaultConfig()
	var problems []string
	if path != "" {
		if err := m.Config.loadFile(path); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, applyEnv(&m.Config, m.LookupEnv)...)
	problems = append(problems, applyFlags(&m.Config, fs, given)...)
	if err := m.Config.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			problems = append(problems, ce.Problems...)
		}
	}
	if len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

func (m *Main) usage(fs *flag.FlagSet) {
	fmt.Fprintf(m.Stderr, "usage: waitroom [command] [-config file.yaml] [flags]\n\ncommands:\n")
	for _, name := range []string{"serve", "migrate", "hash-key", "version"} {
		fmt.Fprintf(m.Stderr, "  %-9s %s\n", name, commands[name])
	}
	fmt.Fprintf(m.Stderr, "\nflags (each also a WAITROOM_* variable and a key of the config file):\n")
	fs.PrintDefaults()
}

// Run runs the command. For serve it returns once the server is listening;
// call Close to stop it.
func (m *Main) Run(ctx context.Context) error {
	switch m.Command {
	case "version":
		fmt.Fprintln(m.Stdout, versionString())
		return nil
	case "hash-key":
		return m.hashKey()
	case "migrate":
		return m.migrate(ctx)
	default:
		return m.serve(ctx)
	}
}

// Close stops a running server gracefully (see server.shutdown).
func (m *Main) Close() error {
	if m.server == nil {
		return nil
	}
	return m.server.shutdown()
}
