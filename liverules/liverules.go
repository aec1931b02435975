// Package liverules keeps a process's rules current: the config file's rules
// (the operator's) merged with the rules editors wrote in Slack and the
// mutes they set, all kept in the store. Every replica polls the store's
// change marker (one cheap read every Interval, 2 s by default) and, when
// it moved, reads the editors' rules and the mutes again and hands the
// monitor a new rule set; the notifier asks it whether an alert is muted
// before posting. So a rule saved, muted or retired on one replica is in
// force on every replica within seconds, without a restart.
package liverules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
)

// Source is what liverules reads from the store.
type Source interface {
	Changes(ctx context.Context) (int64, error)
	EditorRules(ctx context.Context) ([]store.EditorRule, error)
	Mutes(ctx context.Context, now time.Time) ([]store.Mute, error)
	FeedbackFor(ctx context.Context, alertID string) (store.Feedback, error)
}

// Config is the config file's part of the rule set.
type Config struct {
	Rules  []*rules.Rule
	Routes map[string]monitor.Route
	// DefaultChannel is where an editor's rule without channels posts.
	DefaultChannel string
	// Breaking is the breaking-story threshold of a rule's stories in a
	// channel (monitor.RuleSet.Breaking); editors' rules take the
	// channel's.
	Breaking func(rule, channel string) store.Breaking
}

// Options configure a Live.
type Options struct {
	Source   Source
	Interval time.Duration // default 2s
	// Apply receives every new rule set (monitor.SetRules).
	Apply  func(*monitor.RuleSet)
	Now    func() time.Time
	Logger *slog.Logger
}

// Live is the merged rule set and the mutes in force. Safe for concurrent use.
type Live struct {
	o Options

	mu     sync.Mutex
	cfg    Config
	editor []store.EditorRule
	mutes  []store.Mute
	seq    int64
	loaded bool
	broken map[string]string // editor rules that do not compile: name → error (logged once)
}

// New returns a Live for the config part cfg; call Run to follow the store.
func New(o Options, cfg Config) *Live {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Live{o: o, cfg: cfg, broken: map[string]string{}}
}

// forever stands for "until unmuted" in a route's MuteUntil.
var forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// SetConfig replaces the config part (a reload) and applies the merged set.
func (l *Live) SetConfig(cfg Config) {
	l.mu.Lock()
	l.cfg = cfg
	rs := l.buildLocked()
	l.mu.Unlock()
	l.apply(rs)
}

// Refresh reads the store when its change marker moved (or always, with
// force) and applies the merged rule set; it reports whether it did.
func (l *Live) Refresh(ctx context.Context, force bool) (bool, error) {
	seq, err := l.o.Source.Changes(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the store's change marker: %w", err)
	}
	l.mu.Lock()
	same := l.loaded && seq == l.seq
	l.mu.Unlock()
	if same && !force {
		return false, nil
	}
	ers, err := l.o.Source.EditorRules(ctx)
	if err != nil {
		return false, fmt.Errorf("reading editors' rules: %w", err)
	}
	mutes, err := l.o.Source.Mutes(ctx, l.o.Now())
	if err != nil {
		return false, fmt.Errorf("reading mutes: %w", err)
	}
	l.mu.Lock()
	l.editor, l.mutes, l.seq, l.loaded = ers, mutes, seq, true
	rs := l.buildLocked()
	l.mu.Unlock()
	l.apply(rs)
	l.o.Logger.Info("editor rules and mutes in force", "marker", seq, "editor_rules", len(ers), "mutes", len(mutes))
	return true, nil
}

func (l *Live) apply(rs *monitor.RuleSet) {
	if l.o.Apply != nil {
		l.o.Apply(rs)
	}
}

// Run refreshes every Interval until ctx ends. A store that cannot be read
// keeps the last rule set (logged once per streak).
func (l *Live) Run(ctx context.Context) error {
	t := time.NewTicker(l.o.Interval)
	defer t.Stop()
	failing := false
	for {
		changed, err := l.Refresh(ctx, false)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				l.o.Logger.Warn("editor rules: cannot read the store; keeping the rules in force", "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				l.o.Logger.Info("editor rules: the store answers again")
			}
			failing = false
			_ = changed
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// buildLocked merges the config's rules with the editors' (compiled; one
// that does not compile, or shares a config rule's name, is left out and
// logged once) and applies the rule mutes to the routes.
func (l *Live) buildLocked() *monitor.RuleSet {
	all := slices.Clone(l.cfg.Rules)
	routes := make(map[string]monitor.Route, len(l.cfg.Routes)+len(l.editor))
	for k, v := range l.cfg.Routes {
		routes[k] = v
	}
	for _, er := range l.editor {
		if _, clash := routes[er.Name]; clash {
			l.brokenLocked(er.Name, "a config rule has the same name; the config rule is used")
			continue
		}
		r, err := rules.Compile(er.Name, er.Query)
		if err != nil {
			l.brokenLocked(er.Name, err.Error())
			continue
		}
		delete(l.broken, er.Name)
		all = append(all, r)
		ch := er.Channels
		if len(ch) == 0 {
			ch = []string{l.cfg.DefaultChannel}
		}
		routes[er.Name] = monitor.Route{Channels: ch, Group: true}
	}
	now := l.o.Now()
	for _, m := range l.mutes {
		if m.Kind != store.MuteRule || !m.InForce(now) {
			continue
		}
		rt, ok := routes[m.Target]
		if !ok {
			continue
		}
		until := m.Until
		if m.Forever {
			until = forever
		}
		if until.After(rt.MuteUntil) {
			rt.MuteUntil = until
		}
		routes[m.Target] = rt
	}
	return &monitor.RuleSet{Index: rules.NewIndex(all), Routes: routes, Breaking: l.cfg.Breaking}
}

func (l *Live) brokenLocked(name, why string) {
	if l.broken[name] == why {
		return
	}
	l.broken[name] = why
	l.o.Logger.Error("editor rule left out", "rule", name, "why", why)
}

// Muted says whether an alert must not be posted now: its rule is muted
// in the store, or its story is. It answers from what the last refresh
// read (at most Interval old).
func (l *Live) Muted(a store.Alert, now time.Time) (why string, muted bool) {
	if a.Kind != store.KindItem {
		return "", false
	}
	story := store.StoryOf(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.mutes {
		if !m.InForce(now) {
			continue
		}
		switch {
		case m.Kind == store.MuteRule && m.Target == a.Rule:
			return "rule " + a.Rule + " muted by " + m.By, true
		case m.Kind == store.MuteStory && m.Target == story && story != a.ID:
			return "story muted by " + m.By, true
		}
	}
	return "", false
}

// StoryMuted says whether the story whose first alert is id is muted.
func (l *Live) StoryMuted(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.mutes {
		if m.Kind == store.MuteStory && m.Target == id && m.InForce(now) {
			return true
		}
	}
	return false
}

// AlertState is what readers did with an alert, for its message.
func (l *Live) AlertState(ctx context.Context, a store.Alert) (notify.AlertState, error) {
	var mark *store.Feedback
	f, err := l.o.Source.FeedbackFor(ctx, a.ID)
	switch {
	case err == nil:
		mark = &f
	case !errors.Is(err, store.ErrNotFound):
		return notify.AlertState{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return notify.StateOf(a, mark, l.mutes, l.o.Now()), nil
}
