package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/reload"
	"github.com/wirewatch/wirewatch/storewatch"
)

// cmdRun is the daemon: the monitor polls feeds as they fall due and the
// notifier delivers the outbox, until SIGINT or SIGTERM. On a signal it
// stops claiming new work, lets fetches and deliveries in flight finish (or
// hands them back) within the grace period, closes the store and exits 0.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	grace := fs.Duration("grace", 10*time.Second, "on SIGTERM/SIGINT, how long work in flight may take to finish before the process exits")
	allowEmpty := fs.Bool("allow-empty-reload", false, "accept a config reload that removes every feed or every rule (refused otherwise)")
	cf := daemonFlags{validate: func() error {
		if *grace <= 0 {
			return usagef("-grace must be a positive duration, such as 10s, not %s", *grace)
		}
		return nil
	}}
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
	owner := notify.DefaultOwner()
	mon, err := newMonitor(l, st, log, owner, *grace, m)
	if err != nil {
		return err
	}
	if err := nameClash(ctx, st, l); err != nil {
		return err
	}
	dk := newDesk(ctx, st, l, mon, log)
	n, err := newNotifier(l.cfg, st, stdout, log, owner, m, dk.live)
	if err != nil {
		return err
	}
	if err := dk.startApp(l, st, n, log); err != nil {
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
		srv = opsserver.New(opsserver.Options{Addr: l.cfg.HTTP.Listen, Metrics: m, Source: st, Ready: opsserver.StoreReady(st, owner), Version: buildVersion(), Logger: log,
			Texts: st, TextWindow: l.cfg.Store.KeepText})
		srv.SetConfig(configInfo(l, time.Now()))
		if err := srv.Start(ctx); err != nil {
			return fmt.Errorf("[http] listen: %w", err)
		}
		if w := listenExposure(l.cfg.HTTP.Listen); w != "" {
			log.Warn("operator endpoint exposed: " + w)
		}
	}
	rl := &reloader{path: l.cfg.Path, current: l, mon: mon, desk: dk, st: st, m: m, srv: srv, log: log, now: time.Now, allowEmpty: *allowEmpty}
	go func() {
		if err := watcher.Run(ctx, func() { rl.reload(ctx) }); err != nil {
			log.Error("config watcher stopped", "err", err)
		}
	}()

	log.Info("wirewatch running", "version", buildVersion(), "feeds", len(l.feeds), "rules", len(l.rules), "alerts_to", slackTarget(l.cfg), "owner", owner)
	sw := storewatch.New(storewatch.Options{Store: st, Owner: owner, What: storeName(l.cfg), OpsChannel: l.cfg.Slack.OpsChannel,
		After: l.cfg.Store.OutageAfter, Metrics: m, Logger: log})
	parts := 4
	errc := make(chan error, 5)
	go func() { errc <- sw.Run(ctx) }()
	go func() { errc <- mon.Run(ctx) }()
	go func() { errc <- n.Run(ctx) }()
	go func() { errc <- dk.live.Run(ctx) }()
	if dk.app != nil {
		parts++
		go func() { errc <- dk.app.Run(ctx) }()
		log.Info("slack app on: buttons on alerts, /wirewatch, the Home tab (Socket Mode)", "editors", len(l.cfg.Slack.Editors))
	}
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
	for range parts {
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
