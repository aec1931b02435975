// Command wirewatch watches news feeds, matches new items against editors'
// rules and posts each match to Slack, once.
//
//	wirewatch run   -config FILE             the daemon
//	wirewatch once  -config FILE [-dry-run]  one pass over every feed, then exit
//	wirewatch check -config FILE             validate the config and every rule
//	wirewatch try   [-config FILE] [-query RULE | -rule NAME] [-json] SOURCE...
//	wirewatch feeds -config FILE [-json]
//	wirewatch migrate -config FILE
//	wirewatch healthcheck -config FILE
//	wirewatch audit -config FILE [-since 30d] [-json]
//	wirewatch rules export -config FILE [-o OUT.toml]
//	wirewatch version
//
// This package parses flags, loads the configuration, wires the parts
// together and owns signals; the work itself lives in monitor, rules, story,
// store and notify. Each command lives in the file of its name (run.go,
// once.go, check.go, try.go, feeds.go, migrate.go, healthcheck.go);
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

const usage = `wirewatch watches news feeds and posts rule matches to Slack.

Usage:
  wirewatch run   -config FILE                 poll every feed on its schedule until SIGINT/SIGTERM
  wirewatch once  -config FILE [-dry-run]      one pass over every feed, deliver, exit
  wirewatch check -config FILE [-fetch]        validate the config and every rule (-fetch: and every feed)
  wirewatch try   [-config FILE] [-query RULE | -rule NAME] [-json] SOURCE...
                                               show which items of feed files or URLs match
  wirewatch feeds -config FILE [-json]         every feed's health: last success, errors, next due, 304 ratio
  wirewatch migrate -config FILE [-from-sqlite OLD.db]
                                               apply the store's schema migrations (and copy an SQLite state file in)
  wirewatch healthcheck -config FILE           probe the running daemon's /healthz (for containers)
  wirewatch audit -config FILE [-since 30d] [-json]
                                               who changed what from Slack (rules, mutes, not-relevant marks)
  wirewatch rules export -config FILE [-o OUT.toml]
                                               the rules editors keep in the store, as [[rules]] blocks
  wirewatch version                            print the version

Run 'wirewatch COMMAND -h' for a command's flags.
`

// exitError carries an exit status through the command functions.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "once":
		err = cmdOnce(ctx, rest, stdout, stderr)
	case "check":
		err = cmdCheck(ctx, rest, stdout, stderr)
	case "try":
		err = cmdTry(ctx, rest, stdout, stderr)
	case "feeds":
		err = cmdFeeds(ctx, rest, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "healthcheck":
		err = cmdHealthcheck(ctx, rest, stdout, stderr)
	case "audit":
		err = cmdAudit(ctx, rest, stdout, stderr)
	case "rules":
		err = cmdRules(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "wirewatch", buildVersion())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wirewatch: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var code exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintf(stderr, "wirewatch %s: %v\n", cmd, err)
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
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var log *slog.Logger
	switch strings.ToLower(l.format) {
	case "text":
		log = slog.New(slog.NewTextHandler(w, opts))
	case "json":
		log = slog.New(slog.NewJSONHandler(w, opts))
	default:
		return nil, fmt.Errorf("-log-format must be text or json, not %q", l.format)
	}
	// Libraries that log through the default logger use the same format.
	slog.SetDefault(log)
	return log, nil
}

// daemonFlags are the flags run and once share: -config and logging.
type daemonFlags struct {
	config string
	logFlags
}

// parse registers the shared flags on fs, parses args, and returns the
// logger and the loaded configuration.
func (d *daemonFlags) parse(fs *flag.FlagSet, args []string, stderr io.Writer) (*slog.Logger, *loaded, error) {
	fs.StringVar(&d.config, "config", "", "configuration file (TOML)")
	d.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
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

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("wirewatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
