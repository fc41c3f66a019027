package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// Main is the program, kept out of func main so that tests can run it:
// ParseFlags reads the command line and the configuration, Run starts the
// command (for serve, it returns once both listeners are up), Close stops
// a running server. The server itself is package server's.
type Main struct {
	Command string
	Config  server.Config
	// Args are the arguments left after the flags (hash-key reads one).
	Args []string

	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// LookupEnv reads the environment (os.LookupEnv; tests replace it).
	LookupEnv func(string) (string, bool)

	server *server.Server
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
	m.Config = server.DefaultConfig()
	var problems []string
	if path != "" {
		if err := loadFile(&m.Config, path); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, applyEnv(&m.Config, m.LookupEnv)...)
	problems = append(problems, applyFlags(&m.Config, fs, given)...)
	if err := m.Config.Validate(); err != nil {
		var ce *server.ConfigError
		if errors.As(err, &ce) {
			problems = append(problems, ce.Problems...)
		}
	}
	if len(problems) > 0 {
		return &server.ConfigError{Problems: problems}
	}
	return nil
}

// loadFile reads a YAML configuration file over c. Unknown keys are errors:
// a misspelt setting must not be silently ignored.
func loadFile(c *server.Config, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file (io.EOF) sets nothing.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
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
	fmt.Fprintf(m.Stderr, "\nsecrets (environment or config file only, never a flag):\n")
	var none server.Config
	for _, s := range settings(&none) {
		if s.noFlag {
			fmt.Fprintf(m.Stderr, "  %s / %s\n    \t%s\n", s.Env(), s.Name, s.Usage)
		}
	}
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

// serve opens the server and starts it.
func (m *Main) serve(ctx context.Context) error {
	s, err := server.Open(ctx, m.Config, server.Options{Stdout: m.Stdout, Logger: server.NewLogger(m.Stderr, m.Config)})
	if err != nil {
		return err
	}
	m.server = s
	s.Start()
	return nil
}

// Failed delivers an error if a listener stops on its own.
func (m *Main) Failed() <-chan error {
	if m.server == nil {
		return nil
	}
	return m.server.Failed()
}

// Close stops a running server gracefully (see server.Server.Close).
func (m *Main) Close() error {
	if m.server == nil {
		return nil
	}
	return m.server.Close()
}

// migrateTimeout bounds the migrate command, lock wait included.
const migrateTimeout = 5 * time.Minute

// migrate applies the pending migrations and lists them.
func (m *Main) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	names, err := server.Migrate(ctx, m.Config)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "database schema is up to date (%d migrations: %s … %s)\n", len(names), names[0], names[len(names)-1])
	return nil
}
