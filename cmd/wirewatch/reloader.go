package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/store"
)

// reloader re-reads the config on SIGHUP or when the file changes. A valid
// config replaces the running feeds and rules at once (queued alerts are
// untouched: they live in the outbox); an invalid one is refused, each
// problem logged with its line, and reported once to the ops channel,
// while the running config goes on.
type reloader struct {
	path    string
	current *loaded
	mon     *monitor.Monitor
	desk    *desk // nil in tests of the reloader alone
	st      store.Store
	m       *metrics.Set
	srv     *opsserver.Server // nil without [http] listen
	log     *slog.Logger
	now     func() time.Time
	// allowEmpty accepts a reload that removes every feed or every rule
	// (run -allow-empty-reload); otherwise it is refused (see emptiedBy).
	allowEmpty bool
}

func (r *reloader) reload(ctx context.Context) {
	now := r.now()
	l, err := load(r.path)
	if err == nil {
		if errs := l.errors(); len(errs) > 0 {
			err = errs
		}
	}
	var emptied error
	if err == nil {
		emptied = emptiedBy(r.path, r.current, l)
	}
	if err == nil && !r.allowEmpty {
		err = emptied
	}
	if err == nil {
		err = nameClash(ctx, r.st, l)
	}
	if err != nil {
		r.refuse(ctx, err, now)
		return
	}
	if emptied != nil {
		r.log.Warn("config reload removes every feed or every rule (allowed by -allow-empty-reload)", "reason", emptied.Error())
	}
	if r.desk != nil {
		r.desk.setConfig(l) // the config's rules with the editors'
	} else {
		r.mon.SetRules(l.ruleSet)
	}
	r.mon.SetFeeds(l.feeds)
	if err := r.mon.Sync(ctx); err != nil {
		r.log.Error("config reload: registering feeds", "err", err)
	}
	r.m.SetRules(ruleNames(l))
	r.m.SetFeeds(len(l.feeds))
	r.m.Reload(true, now)
	if r.srv != nil {
		r.srv.SetConfig(configInfo(l, now))
	}
	for _, key := range restartOnly(r.current.cfg, l.cfg) {
		r.log.Warn("config reload: this setting changes only after a restart", "key", key)
	}
	r.current = l
	r.log.Info("config reloaded", "path", r.path, "feeds", len(l.feeds), "rules", len(l.rules))
}

func (r *reloader) refuse(ctx context.Context, err error, now time.Time) {
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			r.log.Error("config reload refused", "problem", redact.Text(p.Error()))
		}
	} else {
		r.log.Error("config reload refused", "err", redact.Text(err.Error()))
	}
	r.m.Reload(false, now)
	if r.srv != nil {
		r.srv.ReloadFailed(err, now)
	}
	ops := r.current.cfg.Slack.OpsChannel
	if ops == "" {
		return
	}
	// One message per distinct broken file: the id is the problems' hash.
	sum := sha256.Sum256([]byte(err.Error()))
	text := fmt.Sprintf("Wirewatch refused to reload %s; the previous configuration keeps running.\n%s", r.path, truncate(redact.Text(err.Error()), 2500))
	a := store.Alert{
		ID:          "reload-" + hex.EncodeToString(sum[:12]),
		Kind:        store.KindOps,
		Channel:     ops,
		Text:        text,
		CreatedAt:   now,
		NextAttempt: now,
	}
	q, qerr := r.st.Enqueue(ctx, []store.Alert{a})
	if qerr != nil {
		r.log.Error("config reload: queueing the ops message", "err", qerr)
	}
	r.m.AlertQueued(q)
}

// restartOnly lists settings that a reload reads but the running process
// keeps until it restarts.
func restartOnly(old, cur *config.Config) []string {
	var keys []string
	if old.Store != cur.Store {
		keys = append(keys, "store")
	}
	if old.HTTP != cur.HTTP {
		keys = append(keys, "http.listen")
	}
	if old.Slack.Token != cur.Slack.Token || old.Slack.WebhookURL != cur.Slack.WebhookURL || old.Slack.APIURL != cur.Slack.APIURL ||
		old.Slack.OpsChannel != cur.Slack.OpsChannel || old.Slack.Unfurl != cur.Slack.Unfurl || old.Slack.Interval != cur.Slack.Interval ||
		old.Slack.Burst != cur.Slack.Burst || old.Slack.GroupAfter != cur.Slack.GroupAfter || old.Slack.RetryFor != cur.Slack.RetryFor || old.Slack.Lease != cur.Slack.Lease ||
		old.Slack.AppToken != cur.Slack.AppToken {
		keys = append(keys, "slack (except channel)")
	}
	if fmt.Sprint(old.Fetch) != fmt.Sprint(cur.Fetch) {
		keys = append(keys, "fetch")
	}
	if old.Monitor != cur.Monitor {
		keys = append(keys, "monitor")
	}
	return keys
}
