package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/reload"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// cmdRun is the daemon: the monitor polls feeds as they fall due and the
// notifier delivers the outbox, until SIGINT or SIGTERM. On a signal it
// stops claiming new work, lets fetches and deliveries in flight finish (or
// hands them back) within the grace period, closes the store and exits 0.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	grace := fs.Duration("grace", 10*time.Second, "on SIGTERM/SIGINT, how long work in flight may take to finish before the process exits")
	allowEmpty := fs.Bool("allow-empty-reload", false, "accept a config reload that removes every feed or every rule (refused otherwise)")
	var cf daemonFlags
	log, l, err := cf.parse(fs, args, stderr)
	if err != nil {
		return err
	}
	// Watch for reloads from the start, so that an early SIGHUP does not
	// kill the process.
	watcher, err := reload.New(l.cfg.Path, reload.Options{Logger: log, Also: l.cfg.Slack.SecretFiles})
	if err != nil {
		return fmt.Errorf("watching %s: %w", l.cfg.Path, err)
	}
	defer watcher.Close()
	// The store outlives the signal: in-flight work still commits to it.
	st, err := openStore(context.WithoutCancel(ctx), l.cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New()
	m.SetBuildInfo(buildVersion())
	m.SetRules(ruleNames(l))
	m.SetFeeds(len(l.feeds))
	m.ConfigLoaded(time.Now())
	m.WatchFeeds(st.Feeds, nil)
	owner := ownerID()
	mon, err := newMonitor(l, st, log, owner, *grace, m)
	if err != nil {
		return err
	}
	n, err := newNotifier(l.cfg, st, stdout, log, owner, m)
	if err != nil {
		return err
	}
	// A wrong token is refused before any alert is claimed; Slack being
	// unreachable right now is not a reason not to start.
	cctx, ccancel := context.WithTimeout(ctx, 15*time.Second)
	err = n.Check(cctx)
	ccancel()
	if errors.Is(err, notify.ErrAuth) {
		return err
	} else if err != nil {
		log.Warn("cannot reach Slack now; alerts wait in the outbox", "err", err)
	}
	var srv *opsserver.Server
	if l.cfg.HTTP.Listen != "" {
		srv = opsserver.New(opsserver.Options{Addr: l.cfg.HTTP.Listen, Metrics: m, Source: st, Ready: opsserver.StoreReady(st), Version: buildVersion(), Logger: log})
		srv.SetConfig(configInfo(l, time.Now()))
		if err := srv.Start(ctx); err != nil {
			return fmt.Errorf("[http] listen: %w", err)
		}
		log.Info("operator endpoint listening", "addr", srv.Addr())
		if w := listenExposure(l.cfg.HTTP.Listen); w != "" {
			log.Warn("operator endpoint exposed: " + w)
		}
	}
	rl := &reloader{path: l.cfg.Path, current: l, mon: mon, st: st, m: m, srv: srv, log: log, now: time.Now, allowEmpty: *allowEmpty}
	go func() {
		if err := watcher.Run(ctx, func() { rl.reload(ctx) }); err != nil {
			log.Error("config watcher stopped", "err", err)
		}
	}()

	log.Info("wirewatch running", "version", buildVersion(), "feeds", len(l.feeds), "rules", len(l.rules), "alerts_to", slackTarget(l.cfg), "owner", owner)
	errc := make(chan error, 2)
	go func() { errc <- mon.Run(ctx) }()
	go func() { errc <- n.Run(ctx) }()
	<-ctx.Done()
	log.Info("shutting down", "grace", *grace)
	if srv != nil {
		srv.SetDraining()
	}
	// The monitor and the notifier end their own work within the grace
	// period; this bound only guards against a part that does not.
	var errs []error
	limit := time.After(*grace + 2*time.Second)
wait:
	for range 2 {
		select {
		case err := <-errc:
			errs = append(errs, err)
		case <-limit:
			log.Warn("shutdown: grace period over; leases of unfinished work expire and it is taken over")
			break wait
		}
	}
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(sctx)
		scancel()
	}
	log.Info("wirewatch stopped")
	return errors.Join(errs...)
}

// dryRunAlert is one line of `once -dry-run` output.
type dryRunAlert struct {
	Rule      string    `json:"rule"`
	Channel   string    `json:"channel"`
	Feed      string    `json:"feed"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	GUID      string    `json:"guid"`
	Published time.Time `json:"published"`
	Snippet   string    `json:"snippet"`
	Digest    string    `json:"digest,omitempty"`
}

// cmdOnce polls every feed once, delivers what it queued, and exits. With
// -dry-run nothing is posted or recorded; the alerts that would be sent are
// printed as JSON lines.
func cmdOnce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("once", stderr)
	dryRun := fs.Bool("dry-run", false, "post and record nothing; print the alerts that would be sent as JSON lines")
	var cf daemonFlags
	log, l, err := cf.parse(fs, args, stderr)
	if err != nil {
		return err
	}
	cfg := l.cfg
	if *dryRun && cfg.Store.Postgres == "" {
		// Read what is already seen, but never write to the real state:
		// work on a copy (or on nothing, for a new installation).
		tmp, err := os.MkdirTemp("", "wirewatch-dry-run-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		c := *cfg
		c.Store.Path = filepath.Join(tmp, "dry-run.db")
		if err := copySQLite(ctx, cfg.Store.Path, c.Store.Path); err != nil {
			return err
		}
		cfg = &c
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	owner := ownerID()
	mon, err := newMonitor(l, st, log, owner, 0, nil)
	if err != nil {
		return err
	}
	if !*dryRun {
		if err := mon.Sync(ctx); err != nil {
			return err
		}
	}
	results := mon.PollAll(ctx, *dryRun)
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if *dryRun {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			for _, a := range r.Alerts {
				if err := enc.Encode(dryRunAlert{Rule: a.Rule, Channel: a.Channel, Feed: a.FeedName, Title: a.Title, Link: a.Link, GUID: a.GUID, Published: a.Published, Snippet: a.Snippet, Digest: a.Digest}); err != nil {
					return err
				}
			}
		}
	} else {
		n, err := newNotifier(cfg, st, stdout, log, owner, nil)
		if err != nil {
			return err
		}
		if err := n.Drain(ctx); err != nil {
			return fmt.Errorf("delivering alerts: %w", err)
		}
	}
	if failed > 0 {
		log.Warn("some feeds failed", "failed", failed, "feeds", len(results))
		if failed == len(results) {
			return fmt.Errorf("all %d feeds failed", failed)
		}
	}
	return nil
}

// copySQLite copies an SQLite state file for a dry run, as one consistent
// snapshot even while a daemon writes to it (VACUUM INTO); a missing source
// is not an error (a new installation).
func copySQLite(ctx context.Context, from, to string) error {
	if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	src, err := sqlite.Open(from, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("dry run: reading state: %w", err)
	}
	defer src.Close()
	if err := src.Backup(ctx, to); err != nil {
		return fmt.Errorf("dry run: copying state: %w", err)
	}
	return nil
}

// cmdCheck validates the config and every rule, and runs the rules' own
// examples. Each problem is printed as FILE:LINE:COL: message, in file
// order; warnings do not fail the check. SIGINT or SIGTERM (ctx) stops it.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	fetchFeeds := fs.Bool("fetch", false, "also fetch and parse every feed once, and suggest the feeds an HTML page advertises")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("-config FILE is required")
	}
	l, err := loadContext(ctx, *path)
	if err == nil && l.cfg != nil {
		var ex config.Problems
		ex, err = checkExamples(ctx, l)
		l.problems = append(l.problems, ex...)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: interrupted", *path)
		}
		return err
	}
	problems := l.problems
	if l.cfg != nil {
		if p, ok := listenProblem(l.cfg); ok {
			problems = append(problems, p)
		}
		if *fetchFeeds {
			problems = append(problems, checkFeeds(ctx, l)...)
		}
	}
	slices.SortStableFunc(problems, func(a, b config.Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	errs := 0
	for _, p := range problems {
		fmt.Fprintln(stdout, redact.Text(p.Error()))
		if !p.Warning {
			errs++
		}
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", *path, errs)
		return exitError(1)
	}
	nf, nr := 0, 0
	if l.cfg != nil {
		nf, nr = len(l.cfg.Feeds), len(l.cfg.Rules)
	}
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d rules)\n", *path, nf, nr)
	return nil
}

// checkFeeds fetches and parses every feed once (concurrently, with the
// configured limits) and reports each failure at the feed's line. For an
// HTML page, the message lists the feeds the page advertises.
func checkFeeds(ctx context.Context, l *loaded) config.Problems {
	f := newFetcher(l.cfg, slog.New(slog.DiscardHandler))
	out := make([]config.Problems, len(l.cfg.Feeds))
	var wg sync.WaitGroup
	for i, fc := range l.cfg.Feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.Fetch(ctx, fetch.Request{URL: fc.URL})
			if err == nil {
				_, err = parse.Parse(res.Body, res.ContentType, res.URL)
			}
			if err == nil {
				return
			}
			msg := fmt.Sprintf("feed %q: %v", fc.Name, err)
			var nf *parse.NotFeedError
			if errors.As(err, &nf) && len(nf.Alternates) > 0 {
				msg += "; did you mean url = \"" + nf.Alternates[0] + "\"?"
			}
			out[i] = config.Problems{{File: l.cfg.Path, Line: fc.Line, Col: 1, Msg: msg}}
		}()
	}
	wg.Wait()
	var all config.Problems
	for _, ps := range out {
		all = append(all, ps...)
	}
	return all
}

// checkExamples runs each rule's examples (must match) and counterexamples
// (must not). It stops with ctx's error when ctx is done.
func checkExamples(ctx context.Context, l *loaded) (config.Problems, error) {
	byName := map[string]*rules.Rule{}
	for _, r := range l.rules {
		byName[r.Name()] = r
	}
	var out config.Problems
	for i, rc := range l.cfg.Rules {
		if i%1024 == 1023 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r := byName[rc.Name]
		if r == nil {
			continue
		}
		for _, p := range rules.CheckExamples(r, rc.Examples, rc.Counterexamples) {
			out = append(out, config.Problem{File: l.cfg.Path, Line: rc.Line, Col: 1, Msg: fmt.Sprintf("rule %q: %s", rc.Name, p)})
		}
	}
	return out, nil
}
