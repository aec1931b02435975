package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/liverules"
	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/slackapp"
	"github.com/wirewatch/wirewatch/store"
)

// The desk's side of the daemon: the rules editors keep in the store
// (liverules merges them with the config's), and the Slack app through
// which they change them (slackapp), when an app token is configured.

// liveConfig is the config file's part of the live rule set.
func liveConfig(l *loaded) liverules.Config {
	return liverules.Config{Rules: l.rules, Routes: l.ruleSet.Routes, DefaultChannel: l.cfg.Slack.Channel, Breaking: l.ruleSet.Breaking}
}

// nameClash refuses a config whose rules share a name with rules editors
// keep in the store: which rule would be meant by a mute or a click?
func nameClash(ctx context.Context, st store.Store, l *loaded) error {
	ers, err := st.EditorRules(ctx)
	if err != nil {
		return fmt.Errorf("reading the editors' rules: %w", err)
	}
	var out []string
	for _, rc := range l.cfg.Rules {
		for _, er := range ers {
			if strings.EqualFold(er.Name, rc.Name) {
				out = append(out, fmt.Sprintf("%s:%d: rule %q has the name of a rule editors keep in Slack (%q, version %d by %s, %s); rename this one, or retire theirs (/wirewatch retire %s)",
					l.cfg.Path, rc.Line, rc.Name, er.Name, er.Version, er.Author, er.CreatedAt.UTC().Format("2 Jan 2006 15:04 UTC"), er.Name))
			}
		}
	}
	if len(out) > 0 {
		return errors.New(strings.Join(out, "\n"))
	}
	return nil
}

// startLive reads the editors' rules and mutes once (a store that cannot
// be read leaves the config's rules in force, and is read again every few
// seconds) and returns the live rule set, applying to mon.
func startLive(ctx context.Context, st store.Store, l *loaded, apply func(*monitor.RuleSet), log *slog.Logger) *liverules.Live {
	live := liverules.New(liverules.Options{Source: st, Apply: apply, Logger: log}, liveConfig(l))
	if _, err := live.Refresh(ctx, true); err != nil {
		log.Warn("editor rules: cannot read the store now; the config's rules run meanwhile", "err", err)
		live.SetConfig(liveConfig(l))
	}
	return live
}

// configRules is the config's rules as the Slack app shows them, swapped
// on reload.
type configRules struct {
	p atomic.Pointer[[]slackapp.ConfigRule]
}

func (c *configRules) set(l *loaded) {
	var out []slackapp.ConfigRule
	for _, rc := range l.cfg.Rules {
		out = append(out, slackapp.ConfigRule{Name: rc.Name, Query: rc.Query, Channels: rc.Channels})
	}
	c.p.Store(&out)
}

func (c *configRules) get() []slackapp.ConfigRule {
	if p := c.p.Load(); p != nil {
		return *p
	}
	return nil
}

// desk is the editorial side of a running daemon: the live rule set, the
// Slack app (nil without an app token) and the config they see.
type desk struct {
	live    *liverules.Live
	app     *slackapp.App
	rules   configRules
	current atomic.Pointer[loaded]
}

func newDesk(ctx context.Context, st store.Store, l *loaded, mon *monitor.Monitor, log *slog.Logger) *desk {
	d := &desk{}
	d.current.Store(l)
	d.rules.set(l)
	d.live = startLive(ctx, st, l, mon.SetRules, log)
	return d
}

// setConfig takes a reloaded config: its rules (merged with the editors'),
// its editors, its feeds for /wirewatch try.
func (d *desk) setConfig(l *loaded) {
	d.current.Store(l)
	d.rules.set(l)
	d.live.SetConfig(liveConfig(l))
	if d.app != nil {
		d.app.SetEditors(l.cfg.Slack.Editors)
	}
}

// startApp builds the Slack app when an app token is configured.
func (d *desk) startApp(l *loaded, st store.Store, n *notify.Notifier, log *slog.Logger) error {
	if l.cfg.Slack.AppToken == "" {
		return nil
	}
	var try slackapp.Tryer = feedTryer{feeds: func() []monitor.Feed { return d.current.Load().feeds }, fetcher: newFetcher(l.cfg, log), concurrency: l.cfg.Monitor.Concurrency}
	if l.cfg.Store.KeepText > 0 {
		try = storeTryer{src: st, window: l.cfg.Store.KeepText, z: rules.NewAnalyzer()} // the stored week, not only the feeds now
	}
	app, err := newSlackApp(l, st, n, &d.rules, try, d.refresh, log)
	d.app = app
	return err
}

// refresh applies a change this process made to rules or mutes at once.
func (d *desk) refresh() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = d.live.Refresh(ctx, false) // on error, the next poll tries again
	}()
}

// newSlackApp builds the Slack app.
func newSlackApp(l *loaded, st store.Store, n *notify.Notifier, cr *configRules, try slackapp.Tryer, changed func(), log *slog.Logger) (*slackapp.App, error) {
	cfg := l.cfg
	return slackapp.New(slackapp.Options{
		AppToken:       cfg.Slack.AppToken,
		BotToken:       cfg.Slack.Token,
		APIURL:         cfg.Slack.APIURL,
		Editors:        cfg.Slack.Editors,
		DefaultChannel: cfg.Slack.Channel,
		Store:          st,
		ConfigRules:    cr.get,
		Render: func(ctx context.Context, a store.Alert, s notify.AlertState) (string, []slack.Block) {
			return n.RenderMessage(ctx, a, s)
		},
		Status:  deskStatus{st: st},
		Try:     try,
		Changed: changed,
		Logger:  log.With("part", "slack-app"),
	})
}

// deskStatus answers /wirewatch status from the store: the configured
// feeds, those failing, and the alerts waiting for Slack.
type deskStatus struct {
	st store.Store
}

// queueShown is how many queued alerts status counts before it says "more".
const queueShown = 10000

func (d deskStatus) DeskStatus(ctx context.Context, now time.Time) (slackapp.DeskStatus, error) {
	feeds, err := d.st.Feeds(ctx)
	if err != nil {
		return slackapp.DeskStatus{}, err
	}
	out := slackapp.DeskStatus{Feeds: len(feeds)}
	for _, f := range feeds {
		if f.ErrorStreak > 0 {
			out.Failing = append(out.Failing, slackapp.FailingFeed{Name: f.Key, Since: f.FailingSince, Streak: f.ErrorStreak, LastError: f.LastError})
		}
	}
	queued, err := d.st.Alerts(ctx, store.AlertFilter{State: store.StateQueued, Limit: queueShown + 1})
	if err != nil {
		return slackapp.DeskStatus{}, err
	}
	out.Queued = len(queued)
	return out, nil
}
