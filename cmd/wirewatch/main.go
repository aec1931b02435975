// Command wirewatch watches news feeds, matches new items against editors'
// rules and posts each match to Slack, once.
//
//	wirewatch demo                           an offline first look
//	wirewatch run   -config FILE             the daemon
//	wirewatch once  -config FILE [-dry-run]  one pass over every feed, then exit
//	wirewatch check -config FILE             validate the config and every rule
//	wirewatch try   [-config FILE] [-query RULE | -rule NAME] [-against RULE] [-json] SOURCE...
//	wirewatch try   -config FILE -since 7d [-query RULE | -rule NAME] [-against RULE] [-json]
//	wirewatch explain -config FILE LINK_OR_GUID
//	wirewatch feeds -config FILE [-json]
//	wirewatch migrate -config FILE
//	wirewatch healthcheck -config FILE
//	wirewatch audit -config FILE [-since 30d] [-json]
//	wirewatch rules export -config FILE [-o OUT.toml]
//	wirewatch version
//
// This package parses flags, loads the configuration, wires the parts
// together and owns signals; the work itself lives in monitor, rules, story,
// store and notify. The commands are listed once, in main.go (commands),
// with their usage errors (exit status 2); each lives in the file of its
// name (demo.go, run.go, once.go, check.go, try.go, explain.go,
// feeds.go, migrate.go, healthcheck.go, audit.go, rules.go); desk.go wires
// the editors' side (liverules, the Slack app);
// wire.go loads the configuration and builds the parts from it, reloader.go
// applies a changed configuration to the running daemon, ops.go connects
// the operators' endpoint and metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one of wirewatch's commands.
type command struct {
	name     string
	synopsis string // its arguments, after "wirewatch NAME"
	summary  string // one line for the usage text
	run      func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands are wirewatch's commands, in the order the usage text lists them
// (set in init: the commands' flag sets look their synopsis up here).
var commands []command

func init() {
	commands = []command{
		{"demo", "[-dir DIR]", "an offline first look: bundled feeds, the example rules, what a desk would see", cmdDemo},
		{"run", "-config FILE [-grace 10s] [-allow-empty-reload]", "poll every feed on its schedule until SIGINT/SIGTERM", cmdRun},
		{"once", "-config FILE [-dry-run]", "one pass over every feed, deliver, exit (-dry-run: print what would be sent)", cmdOnce},
		{"check", "-config FILE [-fetch]", "validate the config and every rule (-fetch: and every feed)", cmdCheck},
		{"try", "[-config FILE] [-query RULE | -rule NAME] [-against RULE] [-since 7d] [-json] [SOURCE...]", "show which items of feed files or URLs match, and why; -since: of the items the store kept; -against: what an edit changes", cmdTry},
		{"explain", "-config FILE [-json] LINK_OR_GUID", "what became of one stored item: the rules it matched or why it raised no alert, its alerts, stories and posts", cmdExplain},
		{"feeds", "-config FILE [-json]", "every feed's health: last success, errors, next due, 304 ratio", cmdFeeds},
		{"migrate", "-config FILE [-from-sqlite OLD.db]", "apply the store's schema migrations (and copy an SQLite state file in)", cmdMigrate},
		{"healthcheck", "-config FILE", "probe the running daemon's /healthz (for containers)", cmdHealthcheck},
		{"audit", "-config FILE [-since 30d] [-limit 200] [-json]", "who changed what from Slack: rules, mutes, not-relevant marks", cmdAudit},
		{"rules", "export -config FILE [-o OUT.toml]", "the rules editors keep in the store, as [[rules]] blocks check accepts", cmdRules},
		{"version", "", "print the version", nil},
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usageText() string {
	var b strings.Builder
	b.WriteString("wirewatch watches news feeds and posts rule matches to Slack.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  wirewatch %s\n        %s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	}
	b.WriteString("\nRun 'wirewatch COMMAND -h' for a command's flags. Exit status: 0 success,\n1 failure, 2 usage error.\n")
	return b.String()
}

// exitError carries an exit status through the command functions.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// usageError is a mistake in how a command was called: a missing -config,
// an unknown flag, a bad flag value, a missing or unexpected argument. The
// command exits with status 2. reported is set when the flag package has
// already printed the message with the command's flags.
type usageError struct {
	err      error
	reported bool
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "version", "-version", "--version":
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "wirewatch version: unexpected argument %q\nusage: wirewatch version\n", rest[0])
			return 2
		}
		fmt.Fprintln(stdout, "wirewatch", buildVersion())
		return 0
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usageText())
			return 0
		}
		// wirewatch help COMMAND: the command's own flags.
		if c := lookup(rest[0]); c != nil && c.run != nil && len(rest) == 1 {
			return run([]string{c.name, "-h"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "wirewatch help: no command %q\n\n%s", strings.Join(rest, " "), usageText())
		return 2
	}
	c := lookup(name)
	if c == nil || c.run == nil {
		fmt.Fprintf(stderr, "wirewatch: unknown command %q\n\n%s", name, usageText())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, rest, stdout, stderr)
	var code exitError
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		if !ue.reported {
			fmt.Fprintf(stderr, "wirewatch %s: %v\nusage: wirewatch %s %s\nRun 'wirewatch %s -h' for its flags.\n", name, ue.err, name, c.synopsis, name)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "wirewatch %s: %v\n", name, err)
		return 1
	}
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// logFlags are the logging flags every long-running command takes.
type logFlags struct {
	format string
	level  string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, usagef("-log-level must be debug, info, warn or error, not %q", l.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var log *slog.Logger
	switch strings.ToLower(l.format) {
	case "text":
		log = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		log = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return nil, usagef("-log-format must be text or json, not %q", l.format)
	}
	// Libraries that log through the default logger use the same format.
	slog.SetDefault(log)
	return log, nil
}

// daemonFlags are the flags run and once share: -config and logging.
// validate, if set, checks the command's own flags before the config is
// loaded.
type daemonFlags struct {
	config   string
	validate func() error
	logFlags
}

// parse registers the shared flags on fs, parses args, and returns the
// logger and the loaded configuration.
func (d *daemonFlags) parse(fs *flag.FlagSet, args []string, stderr io.Writer) (*slog.Logger, *loaded, error) {
	fs.StringVar(&d.config, "config", "", "configuration file (TOML)")
	d.register(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return nil, nil, err
	}
	if err := requireConfig(d.config); err != nil {
		return nil, nil, err
	}
	if d.validate != nil {
		if err := d.validate(); err != nil {
			return nil, nil, err
		}
	}
	log, err := d.logger(stderr)
	if err != nil {
		return nil, nil, err
	}
	l, err := loadValid(d.config, stderr)
	if err != nil {
		return nil, nil, err
	}
	return log, l, nil
}

// newFlagSet returns the flag set of a command, whose -h prints the
// command's synopsis and flags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wirewatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		if c := lookup(name); c != nil {
			fmt.Fprintf(stderr, "usage: wirewatch %s %s\n  %s\n\nFlags:\n", name, c.synopsis, c.summary)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command's flags. A flag the command does not have,
// or a value its flag cannot take, is a usage error (the flag package has
// printed it, with the command's flags); so is an argument after the flags
// unless the command takes some (positional).
func parseFlags(fs *flag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if !positional && fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags go before arguments; this command takes none)", fs.Arg(0))
	}
	return nil
}

// requireConfig is the usage error of a command run without -config.
func requireConfig(path string) error {
	if path == "" {
		return usagef("-config FILE is required")
	}
	return nil
}
