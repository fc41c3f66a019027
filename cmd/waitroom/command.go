package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	// Warnings are things in the configuration worth a word that do not
	// stop the start (an unknown WAITROOM_* variable).
	Warnings []string
	// ConfigFile is the -config file, "" for none.
	ConfigFile string

	Stdout, Stderr io.Writer
	Stdin          io.Reader
	// LookupEnv reads the environment (os.LookupEnv; tests replace it);
	// Environ lists it (os.Environ), to find unknown WAITROOM_* variables.
	LookupEnv func(string) (string, bool)
	Environ   func() []string
	// CertCheckEvery is how often the server looks for renewed TLS
	// certificate files (server.DefaultCertCheckEvery when 0; tests
	// shorten it).
	CertCheckEvery time.Duration

	server *server.Server
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv, Environ: os.Environ}
}

// Exit statuses. A configuration that does not validate is 2, for every
// command but healthcheck (the systemd unit does not restart on 2: a
// configuration will not fix itself); healthcheck, which container
// runtimes read as 0 healthy and 1 unhealthy (2 is reserved there), only
// ever returns 0 or 1.
const (
	exitFailure = 1
	exitConfig  = 2
)

// ExitError carries the process's exit status for an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the exit status for an error of ParseFlags or Run.
func (m *Main) ExitCode(err error) int {
	var ee *ExitError
	var ce *server.ConfigError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.Code
	case m.Command == "healthcheck":
		return exitFailure
	case errors.As(err, &ce):
		return exitConfig
	default:
		return exitFailure
	}
}

type command struct{ name, usage string }

var commands = []command{
	{"serve", "run the server (default)"},
	{"check-config", "check the configuration (file, environment, flags) without starting; exit status 2 on problems"},
	{"migrate", "apply the PostgreSQL migrations and exit"},
	{"healthcheck", "GET /healthz of the server this configuration describes; exit status 0 when it answers 200, else 1"},
	{"hash-key", "print a new admin key and its SHA-256 (or hash the key read from stdin with '-')"},
	{"version", "print the version, VCS revision and build date"},
}

func knownCommand(name string) bool {
	for _, c := range commands {
		if c.name == name {
			return true
		}
	}
	return false
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// ParseFlags picks the command and builds the configuration: defaults, then
// the -config file, then WAITROOM_* variables, then flags. Every problem is
// reported at once (a *server.ConfigError).
func (m *Main) ParseFlags(args []string) error {
	m.Command = "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if !knownCommand(args[0]) {
			return &ExitError{Code: exitConfig, Err: fmt.Errorf("unknown command %q; commands: %s", args[0], commandNames())}
		}
		m.Command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("waitroom "+m.Command, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	configPath := fs.String("config", "", "YAML configuration file (keys as the setting names)")
	given := defineFlags(fs)
	fs.Usage = m.usage
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &ExitError{Code: exitConfig, Err: err}
	}
	m.Args = fs.Args()
	m.ConfigFile = *configPath
	if m.Command == "version" || m.Command == "hash-key" {
		return nil // they read no configuration, so that they always work
	}
	return m.buildConfig(*configPath, fs, given)
}

func (m *Main) buildConfig(path string, fs *flag.FlagSet, given map[string]*string) error {
	m.Config = server.DefaultConfig()
	var problems []string
	if path != "" {
		problems = append(problems, loadFile(&m.Config, path)...)
	}
	var environ []string
	if m.Environ != nil {
		environ = m.Environ()
	}
	envProblems, warnings := applyEnv(&m.Config, m.LookupEnv, environ)
	problems = append(problems, envProblems...)
	m.Warnings = warnings
	problems = append(problems, applyFlags(&m.Config, fs, given)...)
	if m.Config.DataDir == "" && m.Config.Embedded() && (m.Command == "serve" || m.Command == "check-config") {
		dir, err := defaultDataDir(m.LookupEnv)
		if err != nil {
			problems = append(problems, "data_dir: "+err.Error())
		}
		m.Config.DataDir = dir
	}
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

// defaultDataDir is where the embedded store keeps its files when data_dir
// is not set: the user's state directory of the XDG base-directory rules,
// $XDG_STATE_HOME/waitroom, else ~/.local/state/waitroom. It never depends
// on the working directory, so the keys stay put wherever the binary is
// started from.
func defaultDataDir(getenv func(string) (string, bool)) (string, error) {
	if dir, ok := getenv("XDG_STATE_HOME"); ok && filepath.IsAbs(dir) {
		return filepath.Join(dir, "waitroom"), nil
	}
	if home, ok := getenv("HOME"); ok && filepath.IsAbs(home) && home != "/" {
		return filepath.Join(home, ".local", "state", "waitroom"), nil
	}
	return "", errors.New("no default without HOME or XDG_STATE_HOME; set WAITROOM_DATA_DIR (or -data-dir) to a folder this user may write")
}

// usage prints -help: the commands, then every setting by group, one line
// each with its type and default.
func (m *Main) usage() {
	w := m.Stderr
	fmt.Fprintf(w, "usage: waitroom [command] [-config file.yaml] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.usage)
	}
	fmt.Fprint(w, "\nSettings: each flag -some-name is also the environment variable WAITROOM_SOME_NAME\n"+
		"(or WAITROOM_SOME_NAME_FILE, naming a file that holds the value) and the key\n"+
		"some_name of the -config file. Flags win over the environment, which wins over\n"+
		"the file. Secrets have no flag. README.md explains each setting.\n\n")
	line := func(name, typ, def, usage string) {
		fmt.Fprintf(w, "  %-22s %-9s %-24s %s\n", name, typ, def, usage)
	}
	line("-config", "path", "-", "YAML configuration file: settings, rooms, clients")
	defaults := server.DefaultConfig()
	all := settings(&defaults)
	for _, group := range groupOrder {
		fmt.Fprintf(w, "\n%s\n", group)
		for _, s := range all {
			if s.Group != group {
				continue
			}
			name, def := "-"+s.Flag(), s.DefaultText()
			if s.noFlag {
				name = s.Env()
			}
			if def == "" {
				def = "-"
			}
			line(name, s.Type, def, s.Usage)
		}
		if group == groupOpenID {
			line("rooms, clients", "file", "-", "rooms to create at start and OpenID clients (config file only; README.md)")
		}
	}
}

// Run runs the command. For serve it returns once the server is listening;
// call Close to stop it.
func (m *Main) Run(ctx context.Context) error {
	switch m.Command {
	case "version":
		fmt.Fprintln(m.Stdout, versionString(buildInfo()))
		return nil
	case "hash-key":
		return m.hashKey()
	case "migrate":
		return m.migrate(ctx)
	case "check-config":
		m.checkConfig()
		return nil
	case "healthcheck":
		return m.healthcheck(ctx)
	default:
		return m.serve(ctx)
	}
}

// serve opens the server and starts it.
func (m *Main) serve(ctx context.Context) error {
	logger := server.NewLogger(m.Stderr, m.Config)
	for _, w := range m.Warnings {
		logger.Warn("configuration: " + w)
	}
	s, err := server.Open(ctx, m.Config, server.Options{Stdout: m.Stdout, Logger: logger, CertCheckEvery: m.CertCheckEvery})
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
