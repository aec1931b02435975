package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/liverules"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// loaded is a configuration with its rules compiled.
type loaded struct {
	cfg      *config.Config
	rules    []*rules.Rule
	ruleSet  *monitor.RuleSet
	feeds    []monitor.Feed
	problems config.Problems // errors and warnings, in file order
}

func (l *loaded) errors() config.Problems {
	var out config.Problems
	for _, p := range l.problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// load reads the config and compiles every rule, collecting every problem
// (config and rules) with its position in the file. A rule that does not
// compile is reported and left out; it never hides the others' problems,
// and neither does a problem of the config (its rules are compiled anyway,
// for the report).
func load(path string) (*loaded, error) {
	return loadContext(context.Background(), path)
}

// loadContext is load that gives up with ctx's error when ctx is done.
func loadContext(ctx context.Context, path string) (*loaded, error) {
	cfg, err := config.LoadContext(ctx, path, nil)
	var ps config.Problems
	if err != nil && !errors.As(err, &ps) {
		return nil, err
	}
	if cfg == nil {
		return &loaded{problems: ps}, nil
	}
	l := &loaded{cfg: cfg, problems: append(config.Problems(nil), cfg.Problems...)}
	routes := map[string]monitor.Route{}
	for i, rc := range cfg.Rules {
		if i%1024 == 1023 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if strings.TrimSpace(rc.Query) == "" {
			continue // reported by config
		}
		r, err := rules.Compile(rc.Name, rc.Query)
		if err != nil {
			// The position goes in front as FILE:LINE:COL; the message
			// does not repeat it as a column inside the query.
			p := config.Problem{File: cfg.Path, Line: rc.Line, Col: 1, Msg: err.Error()}
			var re *rules.Error
			if errors.As(err, &re) {
				p.Line, p.Col = cfg.QueryPosition(rc, re.Offset)
				p.Msg = fmt.Sprintf("rule %q: %s", rc.Name, re.Msg)
			}
			l.problems = append(l.problems, p)
			continue
		}
		for _, w := range r.Warnings() {
			line, col := cfg.QueryPosition(rc, rules.ByteOffset(rc.Query, w.Col))
			l.problems = append(l.problems, config.Problem{File: cfg.Path, Line: line, Col: col, Msg: fmt.Sprintf("rule %q: %s", rc.Name, w.Msg), Warning: true})
		}
		l.rules = append(l.rules, r)
		route := monitor.Route{Channels: rc.Channels, MuteUntil: rc.MuteUntil, Group: rc.Group, Window: rc.Cooldown}
		if rc.Digest != "" {
			s, err := config.ParseCron(rc.Digest)
			if err == nil {
				route.Digest, route.DigestSpec = s, rc.Digest
			}
		}
		routes[rc.Name] = route
	}
	l.ruleSet = &monitor.RuleSet{Index: rules.NewIndex(l.rules), Routes: routes, Breaking: breakingOf(cfg)}
	for _, fc := range cfg.Feeds {
		f := monitor.Feed{Key: fc.Key, Name: fc.Name, URL: fc.URL, Every: fc.Every, Channels: fc.Channels, Backfill: fc.Backfill, MinEvery: fc.MinEvery, MaxEvery: fc.MaxEvery, MuteUntil: fc.MuteUntil}
		if fc.Schedule != "" {
			s, err := config.ParseCron(fc.Schedule)
			if err != nil {
				continue // reported by config
			}
			f.Schedule = s
		}
		l.feeds = append(l.feeds, f)
	}
	return l, nil
}

// loadValid loads the config and returns it if it is usable; if not, it
// prints every located problem to stderr and returns an error naming the
// file.
func loadValid(path string, stderr io.Writer) (*loaded, error) {
	if err := requireConfig(path); err != nil {
		return nil, err
	}
	l, err := load(path)
	if err != nil {
		return nil, err
	}
	if errs := l.errors(); len(errs) > 0 {
		for _, p := range errs {
			fmt.Fprintln(stderr, redact.Text(p.Error()))
		}
		return nil, fmt.Errorf("%s: %d problem(s); run 'wirewatch check -config %s'", path, len(errs), path)
	}
	return l, nil
}

// openStore opens the configured store and applies migrations.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	if cfg.Store.Postgres != "" {
		log.Info("opening PostgreSQL store")
		st, err = postgres.Open(ctx, cfg.Store.Postgres, postgres.WithLogger(log))
	} else {
		log.Info("opening SQLite store", "path", cfg.Store.Path)
		st, err = sqlite.Open(cfg.Store.Path, sqlite.WithLogger(log))
	}
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrating store: %w", err)
	}
	return st, nil
}

// storeName names the configured store for logs and ops messages, without
// its URL (which may carry a password).
func storeName(cfg *config.Config) string {
	if cfg.Store.Postgres != "" {
		return "the PostgreSQL store"
	}
	return fmt.Sprintf("the SQLite store (%s)", cfg.Store.Path)
}

func newFetcher(cfg *config.Config, log *slog.Logger) *fetch.Fetcher {
	return fetch.New(fetch.Options{
		Timeout:      cfg.Fetch.Timeout,
		MaxBytes:     cfg.Fetch.MaxBodyBytes,
		MaxRedirects: cfg.Fetch.MaxRedirects,
		UserAgent:    cfg.Fetch.UserAgent, // "": fetch.DefaultUserAgent(Version)
		Version:      buildVersion(),
		AllowPrivate: cfg.Fetch.AllowPrivate,
		AllowCIDRs:   cfg.Fetch.AllowCIDRs,
		PerHost:      cfg.Fetch.PerHost,
		Logger:       log,
	})
}

func newMonitor(l *loaded, st store.Store, log *slog.Logger, owner string, grace time.Duration, m *metrics.Set) (*monitor.Monitor, error) {
	return monitor.New(monitor.Options{
		Store:       st,
		Fetcher:     newFetcher(l.cfg, log),
		Feeds:       l.feeds,
		Rules:       l.ruleSet,
		Owner:       owner,
		Concurrency: l.cfg.Monitor.Concurrency,
		Lease:       2*l.cfg.Fetch.Timeout + 5*time.Second,
		MaxBackoff:  l.cfg.Monitor.MaxBackoff,
		MaxInterval: l.cfg.Monitor.MaxInterval,
		HealthAfter: l.cfg.Monitor.HealthAfter,
		StoryWindow: l.cfg.Monitor.StoryWindow,
		Retention:   l.cfg.Store.Retention,
		KeepText:    l.cfg.Store.KeepText,
		OpsChannel:  l.cfg.Slack.OpsChannel,
		Grace:       grace,
		Metrics:     m,
		Logger:      log,
	})
}

// newNotifier builds the notifier; live (nil: none) holds back what editors
// muted and gives the messages' state.
func newNotifier(cfg *config.Config, st store.Store, out io.Writer, log *slog.Logger, owner string, m *metrics.Set, live *liverules.Live) (*notify.Notifier, error) {
	o := notify.Options{
		Store:      st,
		Token:      cfg.Slack.Token,
		WebhookURL: cfg.Slack.WebhookURL,
		APIURL:     cfg.Slack.APIURL,
		Out:        out,
		OpsChannel: cfg.Slack.OpsChannel,
		Unfurl:     cfg.Slack.Unfurl,
		Owner:      owner,
		Now:        time.Now,
		Interval:   cfg.Slack.Interval,
		Burst:      cfg.Slack.Burst,
		BurstGroup: cfg.Slack.GroupAfter,
		RetryFor:   cfg.Slack.RetryFor,
		Lease:      cfg.Slack.Lease,
		ChannelCap: cfg.Slack.ChannelCap,
		Metrics:    m,
		HTTPClient: slackHTTPClient(cfg, m),
		Logger:     log,
		// With an app token, alerts carry the buttons the app handles.
		Interactive: cfg.Slack.AppToken != "" && cfg.Slack.Token != "",
	}
	if live != nil {
		o.Mutes, o.States = live, live
	}
	return notify.New(o)
}

// slackTarget describes where alerts go, for the start-up log line; it
// never includes a token or webhook URL.
func slackTarget(cfg *config.Config) string {
	switch {
	case cfg.Slack.Token != "":
		return "slack-bot-token"
	case cfg.Slack.WebhookURL != "":
		return "slack-webhook"
	default:
		return "stdout"
	}
}

// openConfigStore loads a valid config and opens its store, logging only
// warnings: for the commands that read the store (feeds, audit, rules).
// The caller closes the store.
func openConfigStore(ctx context.Context, path string, stderr io.Writer) (*loaded, store.Store, error) {
	l, err := loadValid(path, stderr)
	if err != nil {
		return nil, nil, err
	}
	log, _ := (&logFlags{format: "text", level: "warn"}).logger(stderr)
	st, err := openStore(ctx, l.cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return l, st, nil
}

// breakingOf is the breaking-story threshold of a rule's stories in a
// channel, as the config sets it.
func breakingOf(cfg *config.Config) func(rule, channel string) store.Breaking {
	return func(rule, channel string) store.Breaking {
		b := cfg.BreakingFor(rule, channel)
		return store.Breaking{Outlets: b.Outlets, Within: b.Within, EscalateTo: b.EscalateTo}
	}
}
