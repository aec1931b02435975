// Package config owns Wirewatch's configuration file: decoding the TOML
// strictly (an unknown or misspelt key is an error, with the key it was
// probably meant to be), applying defaults and environment overrides, and
// validating every value. Each problem is located as FILE:LINE:COL in the
// file, names the feed or rule it belongs to, and says what to write
// instead; one run reports every problem of the file. Loading is linear in
// the file's size and stops when its context is cancelled. The package
// holds no global state: Load returns a value that the command passes,
// piece by piece, to the parts that need it.
package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
)

// Defaults for values the file may leave out.
const (
	DefaultStorePath    = "wirewatch.db"
	DefaultChannel      = "#news-alerts"
	DefaultTimeout      = 20 * time.Second
	DefaultMaxBodyBytes = 10 << 20
	DefaultEvery        = 5 * time.Minute
	DefaultBackfill     = 24 * time.Hour
	DefaultPerHost      = 2
	DefaultMaxRedirects = 5
	MinEvery            = 30 * time.Second // default [monitor] min_poll_interval
	MinPollInterval     = time.Second      // the lowest min_poll_interval accepted
	DefaultMaxBackoff   = 6 * time.Hour
	DefaultMaxInterval  = time.Hour
	DefaultHealthAfter  = time.Hour
	DefaultStoryWindow  = 24 * time.Hour
	DefaultRetention    = 90 * 24 * time.Hour
	MinRetention        = 7 * 24 * time.Hour
	DefaultKeepText     = 7 * 24 * time.Hour
	DefaultOutageAfter  = time.Minute
	// A story reported by DefaultBreakingOutlets distinct outlets within
	// DefaultBreakingWithin is breaking ([breaking]).
	DefaultBreakingOutlets = 4
	DefaultBreakingWithin  = time.Hour
	MaxBreakingOutlets     = 1000
	MaxBreakingWithin      = 7 * 24 * time.Hour
)

// EnvMinRetention, a Go duration, lowers the [store] retention floor
// (MinRetention) so that a soak test fills the retention period within
// minutes. It is not meant for production.
const EnvMinRetention = "WIREWATCH_MIN_RETENTION"

// Config is a loaded, validated configuration.
type Config struct {
	// Path is the file the configuration was read from.
	Path string

	Store   Store
	HTTP    HTTP
	Slack   Slack
	Fetch   Fetch
	Monitor Monitor
	Feeds   []Feed
	Rules   []Rule
	// Breaking is the default breaking-story threshold ([breaking]);
	// Channels are the [[channels]] that set their own.
	Breaking Breaking
	Channels []Channel
	// Problems are the warnings of a usable file; when Load fails with
	// Problems, the partial Config it returns lists errors and warnings
	// here, in file order.
	Problems []Problem

	raw   []byte
	lines *lineIndex
}

// QueryPosition returns the line and column in the file of the byte at
// offset in rule r's query, so that a problem inside a multi-line query is
// reported where it is in the file. Escapes in basic strings ("\u00e9",
// "\"") are accounted for.
func (c *Config) QueryPosition(r Rule, offset int) (line, col int) {
	if r.query.content == 0 || c.lines == nil {
		return r.Line, 1
	}
	off := stringOffset(c.raw, r.query.content, r.query.quote, offset)
	x := lineIndex{data: c.raw, starts: c.lines.starts, lastLine: -1} // no shared cache: c may be shared
	return x.at(off)
}

// Store says where state lives.
type Store struct {
	Path     string // SQLite file
	Postgres string // PostgreSQL URL; wins over Path when set
	// Retention is how long seen items (once gone from their feed) and
	// delivered or failed alerts are kept; 0 keeps them for ever.
	Retention time.Duration
	// KeepText is how long each new item's text is kept, compressed, for
	// backtests (`try -since`, the rule playground); 0 keeps none.
	KeepText time.Duration
	// OutageAfter is how long every store write must fail before it is an
	// outage, reported once to the ops channel when it ends.
	OutageAfter time.Duration
}

// HTTP is the operators' endpoint (/healthz, /readyz, /metrics, status page).
type HTTP struct {
	Listen string // "" turns it off
}

// Slack says where alerts go. With neither Token nor WebhookURL, alerts are
// printed to standard output.
type Slack struct {
	Token      string
	WebhookURL string
	APIURL     string
	Channel    string
	OpsChannel string
	Unfurl     bool

	// Delivery tuning; zero values mean the notifier's defaults.
	// SecretFiles are the token_file / webhook_url_file paths, so a reload
	// can watch them too.
	SecretFiles []string

	Interval   time.Duration // sustained pace per channel (Slack allows about 1 message/s)
	Burst      int           // messages that may go at once before pacing applies
	GroupAfter int           // more alerts than this due at once for a channel are grouped; -1 never groups
	RetryFor   time.Duration // how long an alert is retried before it is marked failed
	Lease      time.Duration // how long a delivering process holds a channel
	ChannelCap int           // top-level messages per channel per hour before alerts are grouped (0: no cap)

	// AppToken is the app-level token (xapp-…) that opens Socket Mode:
	// buttons on alerts, the /wirewatch command, modals and the App Home.
	// Editors (user ids U…/W…, user-group ids S…) may create, edit, mute
	// and retire rules from Slack.
	AppToken string
	Editors  []string
}

// Fetch holds HTTP fetching limits and policy.
type Fetch struct {
	Timeout      time.Duration
	MaxBodyBytes int64
	MaxRedirects int
	PerHost      int
	UserAgent    string
	AllowPrivate bool
	AllowCIDRs   []netip.Prefix
}

// Monitor holds polling policy shared by all feeds.
type Monitor struct {
	Backfill    time.Duration // items older than this on a feed's first poll are recorded, not alerted
	Concurrency int           // feeds fetched at once
	MaxBackoff  time.Duration // longest wait after repeated failures
	MaxInterval time.Duration // ceiling for feed hints (<ttl>, max-age) stretching an interval
	HealthAfter time.Duration // a feed failing this long raises one ops alert
	StoryWindow time.Duration // how long an alerted story collects later reports in its thread
	// MinPollInterval is the shortest interval any feed may be polled at
	// (every, schedule, min_every); MinEvery unless lowered for feeds the
	// operator owns.
	MinPollInterval time.Duration
}

// Feed is one configured feed.
type Feed struct {
	Key      string // stable identity: ID if set, else Name
	Name     string
	URL      string
	Every    time.Duration // zero when Schedule is set
	Schedule string        // cron spec, "" when Every is used
	Channels []string      // extra channels for every alert from this feed
	Backfill time.Duration
	// MinEvery and MaxEvery, when set, make polling adaptive: a feed that
	// publishes often is polled more often, within these bounds.
	MinEvery time.Duration
	MaxEvery time.Duration
	// MuteUntil: no alerts from this feed before this time (items are
	// still recorded as seen).
	MuteUntil time.Time
	Line      int
}

// Rule is one configured rule. The query is compiled by the caller with the
// rules package (config does not import it); Config.QueryPosition maps a
// byte offset in the query back to its line and column in the file.
type Rule struct {
	Name     string
	Query    string
	Channels []string
	Digest   string
	// Group (default true) threads later reports of an alerted story under
	// its first alert instead of alerting again.
	Group bool
	// Cooldown, when set, is this rule's story window: at most one
	// top-level alert per story per channel per Cooldown.
	Cooldown time.Duration
	// MuteUntil: no alerts from this rule before this time (items are
	// still recorded as seen).
	MuteUntil time.Time
	// Breaking: the rule's own breaking threshold, key by key (see
	// Config.BreakingFor).
	Breaking        BreakingOverride
	Examples        []string
	Counterexamples []string
	Line            int

	query pos // where the query string is in the file
}

// Breaking is when a story counts as breaking: at least Outlets distinct
// outlets (feeds) reported it within Within. Outlets 0 turns the signal
// off. EscalateTo, if set, is the channel that gets one message per
// breaking story.
type Breaking struct {
	Outlets    int
	Within     time.Duration
	EscalateTo string
}

// BreakingOverride is what a [[channels]] or [[rules]] entry sets of the
// breaking threshold; nil fields are not set.
type BreakingOverride struct {
	Outlets    *int
	Within     *time.Duration
	EscalateTo *string
}

// over returns b with what o sets replaced.
func (o BreakingOverride) over(b Breaking) Breaking {
	if o.Outlets != nil {
		b.Outlets = *o.Outlets
	}
	if o.Within != nil {
		b.Within = *o.Within
	}
	if o.EscalateTo != nil {
		b.EscalateTo = *o.EscalateTo
	}
	return b
}

// NoEscalation, as a [[channels]] or [[rules]] escalate_to, turns off an
// escalation that [breaking] or the channel sets.
const NoEscalation = "none"

// Channel is one [[channels]] entry: settings of one Slack channel.
type Channel struct {
	Name     string
	Breaking BreakingOverride
	Line     int
}

// BreakingFor is the breaking threshold of rule's stories in channel:
// the rule's breaking_* keys, else the channel's ([[channels]]), else
// [breaking], key by key. rule may be "" (a rule the file does not
// define, such as an editor's rule from Slack).
func (c *Config) BreakingFor(rule, channel string) Breaking {
	b := c.Breaking
	for _, ch := range c.Channels {
		if ch.Name == channel {
			b = ch.Breaking.over(b)
			break
		}
	}
	if rule != "" {
		for _, r := range c.Rules {
			if r.Name == rule {
				b = r.Breaking.over(b)
				break
			}
		}
	}
	return b
}

// Problem is one located complaint about the file.
type Problem struct {
	File    string
	Line    int
	Col     int
	Msg     string
	Warning bool
}

func (p Problem) Error() string {
	kind := ""
	if p.Warning {
		kind = "warning: "
	}
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s%s", p.File, kind, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", p.File, p.Line, p.Col, kind, p.Msg)
}

// Problems is the error Load returns when the file is not usable: every
// problem found, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// file mirrors the TOML layout; the decoder fills it (see decode.go for the
// tags). Durations stay strings so that a bad one is reported as written.
type file struct {
	Store struct {
		Path      string `toml:"path" eg:"\"wirewatch.db\""`
		Postgres  string `toml:"postgres" eg:"\"postgres://wirewatch@db:5432/wirewatch\""`
		Retention string `toml:"retention" eg:"\"90d\"" what:"a duration in quotes"`
		KeepText  string `toml:"keep_text" eg:"\"7d\"" what:"a duration in quotes"`
		Outage    string `toml:"outage_after" eg:"\"1m\"" what:"a duration in quotes"`
	} `toml:"store"`
	HTTP struct {
		Listen string `toml:"listen" eg:"\"127.0.0.1:9090\""`
	} `toml:"http"`
	Slack struct {
		Token          string   `toml:"token" eg:"\"xoxb-...\""`
		TokenFile      string   `toml:"token_file" eg:"\"/run/secrets/slack_token\""`
		WebhookURL     string   `toml:"webhook_url" eg:"\"https://hooks.slack.com/services/...\""`
		WebhookURLFile string   `toml:"webhook_url_file" eg:"\"/run/secrets/slack_webhook\""`
		APIURL         string   `toml:"api_url" eg:"\"https://slack.com/api/\""`
		Channel        string   `toml:"channel" eg:"\"#news-alerts\""`
		OpsChannel     string   `toml:"ops_channel" eg:"\"#wirewatch-ops\""`
		Unfurl         bool     `toml:"unfurl" eg:"false"`
		Interval       string   `toml:"interval" eg:"\"1s\"" what:"a duration in quotes"`
		Burst          *int     `toml:"burst" eg:"3"`
		GroupAfter     *int     `toml:"group_after" eg:"5"`
		RetryFor       string   `toml:"retry_for" eg:"\"24h\"" what:"a duration in quotes"`
		Lease          string   `toml:"lease" eg:"\"1m\"" what:"a duration in quotes"`
		ChannelCap     *int     `toml:"channel_cap" eg:"20"`
		AppToken       string   `toml:"app_token" eg:"\"xapp-...\""`
		AppTokenFile   string   `toml:"app_token_file" eg:"\"/run/secrets/slack_app_token\""`
		Editors        []string `toml:"editors" eg:"[\"U012AB3CD\", \"S0DESKEDITORS\"]"`
	} `toml:"slack"`
	Fetch struct {
		Timeout      string   `toml:"timeout" eg:"\"20s\"" what:"a duration in quotes"`
		MaxBodyMB    *int64   `toml:"max_body_mb" eg:"10"`
		MaxRedirects *int     `toml:"max_redirects" eg:"5"`
		PerHost      *int     `toml:"per_host" eg:"2"`
		UserAgent    string   `toml:"user_agent" eg:"\"Wirewatch (+https://news.example/desk)\""`
		AllowPrivate bool     `toml:"allow_private" eg:"false"`
		AllowCIDRs   []string `toml:"allow_cidrs" eg:"[\"10.20.0.0/16\"]"`
	} `toml:"fetch"`
	Monitor struct {
		Backfill    string `toml:"backfill" eg:"\"24h\"" what:"a duration in quotes"`
		Concurrency *int   `toml:"concurrency" eg:"16"`
		MaxBackoff  string `toml:"max_backoff" eg:"\"6h\"" what:"a duration in quotes"`
		MaxInterval string `toml:"max_interval" eg:"\"1h\"" what:"a duration in quotes"`
		HealthAfter string `toml:"health_after" eg:"\"1h\"" what:"a duration in quotes"`
		StoryWindow string `toml:"story_window" eg:"\"24h\"" what:"a duration in quotes"`
		MinPoll     string `toml:"min_poll_interval" eg:"\"30s\"" what:"a duration in quotes"`
	} `toml:"monitor"`
	Breaking struct {
		Outlets    *int   `toml:"outlets" eg:"4"`
		Within     string `toml:"within" eg:"\"60m\"" what:"a duration in quotes"`
		EscalateTo string `toml:"escalate_to" eg:"\"#breaking\""`
	} `toml:"breaking"`
	Channels []channelTable `toml:"channels" noun:"channel" what:"a list of tables, one per channel"`
	Feeds    []feedTable    `toml:"feeds" noun:"feed" what:"a list of tables, one per feed"`
	Rules    []ruleTable    `toml:"rules" noun:"rule" what:"a list of tables, one per rule"`
}

type channelTable struct {
	Name            string `toml:"name" eg:"\"#desk\""`
	BreakingOutlets *int   `toml:"breaking_outlets" eg:"4"`
	BreakingWithin  string `toml:"breaking_within" eg:"\"60m\"" what:"a duration in quotes"`
	EscalateTo      string `toml:"escalate_to" eg:"\"#breaking\""`
}

type feedTable struct {
	ID        string   `toml:"id" eg:"\"dawn-home\""`
	Name      string   `toml:"name" eg:"\"Dawn\""`
	URL       string   `toml:"url" eg:"\"https://www.dawn.com/feeds/home\""`
	Every     string   `toml:"every" eg:"\"5m\"" what:"a duration in quotes"`
	Schedule  string   `toml:"schedule" eg:"\"*/2 6-23 * * *\"" what:"a cron spec in quotes"`
	Channels  []string `toml:"channels" eg:"[\"#desk\"]"`
	Backfill  string   `toml:"backfill" eg:"\"24h\"" what:"a duration in quotes"`
	MinEvery  string   `toml:"min_every" eg:"\"1m\"" what:"a duration in quotes"`
	MaxEvery  string   `toml:"max_every" eg:"\"15m\"" what:"a duration in quotes"`
	MuteUntil any      `toml:"mute_until"`
}

type ruleTable struct {
	Name            string   `toml:"name" eg:"\"Cross-border strikes\""`
	Query           string   `toml:"query" eg:"'strike NEAR/10 border'"`
	Channels        []string `toml:"channels" eg:"[\"#desk\"]"`
	Digest          string   `toml:"digest" eg:"\"0 8 * * *\"" what:"a cron spec in quotes"`
	Group           *bool    `toml:"group" eg:"false"`
	Cooldown        string   `toml:"cooldown" eg:"\"6h\"" what:"a duration in quotes"`
	MuteUntil       any      `toml:"mute_until"`
	BreakingOutlets *int     `toml:"breaking_outlets" eg:"4"`
	BreakingWithin  string   `toml:"breaking_within" eg:"\"60m\"" what:"a duration in quotes"`
	EscalateTo      string   `toml:"escalate_to" eg:"\"#breaking\""`
	Examples        []string `toml:"examples" eg:"[\"Pakistan-Afghanistan talks collapse\"]"`
	Counterexamples []string `toml:"counterexamples" eg:"[\"IMF talks fail\"]"`
}

// Env is how Load reads the environment; tests pass a map.
type Env func(key string) string

// Load reads, decodes and validates the file at path, with environment
// overrides from getenv (os.Getenv when nil). See LoadContext.
func Load(path string, getenv Env) (*Config, error) {
	return LoadContext(context.Background(), path, getenv)
}

// LoadContext reads, decodes and validates the file at path, with
// environment overrides from getenv (os.Getenv when nil), and gives up with
// ctx's error when ctx is done. The error, if any, is Problems (every
// problem of the file, each located) or a wrapped I/O or context error.
// With Problems, the returned Config is the file as far as it could be
// read, for reporting (its rules can still be checked); it is nil only
// when the file is not TOML at all.
func LoadContext(ctx context.Context, path string, getenv Env) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseContext(ctx, path, data, getenv)
}

// Parse is Load on bytes already read; path only names the file in problems.
func Parse(path string, data []byte, getenv Env) (*Config, error) {
	return ParseContext(context.Background(), path, data, getenv)
}

// ParseContext is LoadContext on bytes already read; path only names the
// file in problems.
func ParseContext(ctx context.Context, path string, data []byte, getenv Env) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := &validator{file: path}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		// Not TOML: nothing after the fault can be read.
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			v.add(line, col, "%s", strings.TrimPrefix(de.Error(), "toml: "))
		} else {
			v.add(0, 0, "%v", err)
		}
		return nil, v.problems
	}
	lines := newLineIndex(data)
	pos, err := positions(ctx, data, lines)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	v.pos = pos
	var f file
	d := &decoder{ctx: ctx, v: v}
	d.table(doc, reflect.ValueOf(&f).Elem(), scope{})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}

	c := &Config{Path: path, raw: data, lines: lines}
	v.store(c, &f, getenv)
	c.HTTP.Listen = strings.TrimSpace(f.HTTP.Listen)
	if c.HTTP.Listen != "" {
		if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil || port == "" {
			v.at("http.listen", "http.listen: %q is not host:port (example: \"127.0.0.1:9090\")", c.HTTP.Listen)
		}
	}
	v.slack(c, &f, getenv)
	v.fetch(c, &f)
	v.monitor(c, &f)
	if err := v.feeds(ctx, c, &f); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	v.breaking(c, &f)
	if err := v.rules(ctx, c, &f); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}

	slices.SortStableFunc(v.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	var errs Problems
	for _, p := range v.problems {
		if p.Warning {
			c.Problems = append(c.Problems, p)
		} else {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		c.Problems = v.problems
		return c, errs
	}
	return c, nil
}

type validator struct {
	file     string
	pos      map[string]pos
	problems Problems
}

func (v *validator) add(line, col int, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(key string, format string, args ...any) {
	p := v.pos[key]
	v.problems = append(v.problems, Problem{File: v.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// at reports a problem at the value of key (a key path such as
// "feeds.2.every"), or at the nearest enclosing table when the key is
// absent. The key path only locates the problem; messages name keys as a
// person reads them (see scope.name).
func (v *validator) at(key string, format string, args ...any) {
	p, ok := v.pos[key]
	for !ok && key != "" {
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			key = ""
			break
		}
		key = key[:i]
		p, ok = v.pos[key]
	}
	v.add(p.line, p.col, format, args...)
}

// top is the scope of a top-level table such as [fetch].
func top(table string) scope {
	return scope{path: table, keys: table + ".", table: "[" + table + "]"}
}

func (v *validator) store(c *Config, f *file, getenv Env) {
	sc := top("store")
	c.Store.Path = f.Store.Path
	if c.Store.Path == "" {
		c.Store.Path = DefaultStorePath
	}
	c.Store.Postgres = f.Store.Postgres
	if env := getenv("WIREWATCH_POSTGRES_URL"); env != "" {
		c.Store.Postgres = env
	}
	if c.Store.Postgres != "" {
		if u, err := url.Parse(c.Store.Postgres); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			v.at("store.postgres", "store.postgres must be a postgres:// URL")
		}
	}
	c.Store.Retention = v.duration(sc, "retention", f.Store.Retention, DefaultRetention, 0)
	floor := MinRetention
	// WIREWATCH_MIN_RETENTION lowers the floor, for the soak test, which
	// needs retention to fill within minutes; it is not for production.
	if env := getenv(EnvMinRetention); env != "" {
		if d, err := time.ParseDuration(env); err == nil && d > 0 {
			floor = d
		}
	}
	if r := c.Store.Retention; r != 0 && r < floor {
		v.at("store.retention", "store.retention: %q is below the minimum of %s (use \"0\" to keep everything)", f.Store.Retention, fmtDuration(floor))
		c.Store.Retention = floor
	}
	c.Store.KeepText = v.duration(sc, "keep_text", f.Store.KeepText, DefaultKeepText, 0)
	c.Store.OutageAfter = v.duration(sc, "outage_after", f.Store.Outage, DefaultOutageAfter, time.Second)
}

func (v *validator) slack(c *Config, f *file, getenv Env) {
	sc := top("slack")
	s := &c.Slack
	s.Token = v.secret("slack.token", f.Slack.Token, "slack.token_file", f.Slack.TokenFile, getenv("WIREWATCH_SLACK_TOKEN"))
	s.WebhookURL = v.secret("slack.webhook_url", f.Slack.WebhookURL, "slack.webhook_url_file", f.Slack.WebhookURLFile, getenv("WIREWATCH_SLACK_WEBHOOK_URL"))
	for _, p := range []string{f.Slack.TokenFile, f.Slack.WebhookURLFile} {
		if p != "" {
			s.SecretFiles = append(s.SecretFiles, p)
		}
	}
	s.APIURL = f.Slack.APIURL
	s.Channel = f.Slack.Channel
	if s.Channel == "" {
		s.Channel = DefaultChannel
	}
	s.OpsChannel = f.Slack.OpsChannel
	s.Unfurl = f.Slack.Unfurl
	if s.Token != "" && !strings.HasPrefix(s.Token, "xox") {
		v.at("slack.token", "slack.token does not look like a Slack token (xoxb-...)")
	}
	if s.WebhookURL != "" {
		if u, err := url.Parse(s.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.at("slack.webhook_url", "slack.webhook_url must be an http(s) URL")
		}
	}
	if s.APIURL != "" {
		if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.at("slack.api_url", "slack.api_url must be an http(s) URL")
		} else if !strings.HasSuffix(s.APIURL, "/") {
			s.APIURL += "/"
		}
	}
	s.Interval = v.duration(sc, "interval", f.Slack.Interval, 0, 10*time.Millisecond)
	s.RetryFor = v.duration(sc, "retry_for", f.Slack.RetryFor, 0, time.Minute)
	s.Lease = v.duration(sc, "lease", f.Slack.Lease, 0, time.Second)
	if f.Slack.Burst != nil {
		if *f.Slack.Burst < 1 || *f.Slack.Burst > 50 {
			v.at("slack.burst", "slack.burst must be between 1 and 50")
		} else {
			s.Burst = *f.Slack.Burst
		}
	}
	if f.Slack.GroupAfter != nil {
		if *f.Slack.GroupAfter < -1 || *f.Slack.GroupAfter == 0 || *f.Slack.GroupAfter > 1000 {
			v.at("slack.group_after", "slack.group_after must be -1 (never group) or between 1 and 1000")
		} else {
			s.GroupAfter = *f.Slack.GroupAfter
		}
	}
	if f.Slack.ChannelCap != nil {
		if *f.Slack.ChannelCap < 0 || *f.Slack.ChannelCap > 10000 {
			v.at("slack.channel_cap", "slack.channel_cap must be between 0 (no cap) and 10000")
		} else {
			s.ChannelCap = *f.Slack.ChannelCap
		}
	}
	v.channel("slack.channel", "slack.channel", s.Channel)
	if s.OpsChannel != "" {
		v.channel("slack.ops_channel", "slack.ops_channel", s.OpsChannel)
	}
	v.slackApp(c, f, getenv)
}

// slackApp reads the interactive side: the app-level token and the editors.
func (v *validator) slackApp(c *Config, f *file, getenv Env) {
	s := &c.Slack
	s.AppToken = v.secret("slack.app_token", f.Slack.AppToken, "slack.app_token_file", f.Slack.AppTokenFile, getenv("WIREWATCH_SLACK_APP_TOKEN"))
	if f.Slack.AppTokenFile != "" {
		s.SecretFiles = append(s.SecretFiles, f.Slack.AppTokenFile)
	}
	switch {
	case s.AppToken == "":
	case !strings.HasPrefix(s.AppToken, "xapp-"):
		v.at("slack.app_token", "slack.app_token does not look like an app-level token (xapp-...; Basic Information → App-Level Tokens, scope connections:write)")
	case s.Token == "":
		v.at("slack.app_token", "slack.app_token needs a bot token as well (slack.token or WIREWATCH_SLACK_TOKEN): buttons, modals and answers are posted by the bot")
	}
	for i, id := range f.Slack.Editors {
		id = strings.TrimSpace(id)
		if !isSlackID(id) {
			v.at("slack.editors."+strconv.Itoa(i), "slack.editors: %q is not a Slack user id (U… or W…: profile → ⋮ → Copy member ID) or user group id (S…)", id)
			continue
		}
		s.Editors = append(s.Editors, id)
	}
	if s.AppToken == "" && len(s.Editors) > 0 {
		v.warn("slack.editors", "slack.editors has no effect without slack.app_token (Socket Mode is off)")
	}
	if s.AppToken != "" && len(f.Slack.Editors) == 0 {
		v.warn("slack.app_token", "no slack.editors: nobody can create, edit or mute rules from Slack (alerts still get their buttons)")
	}
}

// isSlackID says whether id is a user (U…, W…) or user group (S…) id.
func isSlackID(id string) bool {
	if len(id) < 3 || len(id) > 24 || !strings.ContainsRune("UWS", rune(id[0])) {
		return false
	}
	for _, r := range id[1:] {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// secret resolves a secret from, in order of precedence: the environment,
// the inline value, the file named by fileKey.
func (v *validator) secret(key, inline, fileKey, path, env string) string {
	if env != "" {
		return strings.TrimSpace(env)
	}
	if inline != "" && path != "" {
		v.at(fileKey, "set %s or %s, not both", key, fileKey)
		return inline
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			v.at(fileKey, "%s: %v", fileKey, err)
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return inline
}

// channel checks a channel name; at locates it, name names it in messages.
func (v *validator) channel(at, name, ch string) {
	if p := ChannelProblem(ch); p != "" {
		v.at(at, "%s: %s", name, p)
	}
}

// ChannelProblem says what is wrong with ch as a channel name or id, or ""
// if nothing is: the same check for the config file and for rules edited
// in Slack.
func ChannelProblem(ch string) string {
	if ch == "" {
		return "empty channel"
	}
	if strings.ContainsAny(ch, " \t<>&") {
		return fmt.Sprintf("%q is not a channel name or id", ch)
	}
	return ""
}

func (v *validator) fetch(c *Config, f *file) {
	ft := &c.Fetch
	ft.Timeout = v.duration(top("fetch"), "timeout", f.Fetch.Timeout, DefaultTimeout, time.Second)
	ft.MaxBodyBytes = DefaultMaxBodyBytes
	if f.Fetch.MaxBodyMB != nil {
		if *f.Fetch.MaxBodyMB < 1 || *f.Fetch.MaxBodyMB > 1024 {
			v.at("fetch.max_body_mb", "fetch.max_body_mb must be between 1 and 1024")
		} else {
			ft.MaxBodyBytes = *f.Fetch.MaxBodyMB << 20
		}
	}
	ft.MaxRedirects = DefaultMaxRedirects
	if f.Fetch.MaxRedirects != nil {
		if *f.Fetch.MaxRedirects < 0 || *f.Fetch.MaxRedirects > 20 {
			v.at("fetch.max_redirects", "fetch.max_redirects must be between 0 and 20")
		} else {
			ft.MaxRedirects = *f.Fetch.MaxRedirects
		}
	}
	ft.PerHost = DefaultPerHost
	if f.Fetch.PerHost != nil {
		if *f.Fetch.PerHost < 1 || *f.Fetch.PerHost > 64 {
			v.at("fetch.per_host", "fetch.per_host must be between 1 and 64")
		} else {
			ft.PerHost = *f.Fetch.PerHost
		}
	}
	ft.UserAgent = f.Fetch.UserAgent
	ft.AllowPrivate = f.Fetch.AllowPrivate
	for i, s := range f.Fetch.AllowCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			v.at("fetch.allow_cidrs."+strconv.Itoa(i), "fetch.allow_cidrs: %q is not a CIDR prefix such as 10.0.0.0/8", s)
			continue
		}
		ft.AllowCIDRs = append(ft.AllowCIDRs, p.Masked())
	}
}

func (v *validator) monitor(c *Config, f *file) {
	sc := top("monitor")
	c.Monitor.MinPollInterval = v.duration(sc, "min_poll_interval", f.Monitor.MinPoll, MinEvery, MinPollInterval)
	c.Monitor.Backfill = v.duration(sc, "backfill", f.Monitor.Backfill, DefaultBackfill, 0)
	c.Monitor.MaxBackoff = v.duration(sc, "max_backoff", f.Monitor.MaxBackoff, DefaultMaxBackoff, time.Minute)
	c.Monitor.MaxInterval = v.duration(sc, "max_interval", f.Monitor.MaxInterval, DefaultMaxInterval, c.Monitor.MinPollInterval)
	c.Monitor.HealthAfter = v.duration(sc, "health_after", f.Monitor.HealthAfter, DefaultHealthAfter, time.Minute)
	c.Monitor.StoryWindow = v.duration(sc, "story_window", f.Monitor.StoryWindow, DefaultStoryWindow, time.Minute)
	c.Monitor.Concurrency = 16
	if f.Monitor.Concurrency != nil {
		if *f.Monitor.Concurrency < 1 || *f.Monitor.Concurrency > 1024 {
			v.at("monitor.concurrency", "monitor.concurrency must be between 1 and 1024")
		} else {
			c.Monitor.Concurrency = *f.Monitor.Concurrency
		}
	}
}

// element is the scope of element i of an array of tables, named by its
// name key.
func element(table, noun string, i int, name string) scope {
	label := noun + " #" + strconv.Itoa(i+1)
	if name != "" {
		label = noun + " " + strconv.Quote(name)
	}
	return scope{path: table + "." + strconv.Itoa(i), prefix: label + ": ", table: "[[" + table + "]]"}
}

func (v *validator) feeds(ctx context.Context, c *Config, f *file) error {
	floor := c.Monitor.MinPollInterval
	keys := make(map[string]int, len(f.Feeds))
	c.Feeds = make([]Feed, 0, len(f.Feeds))
	for i, in := range f.Feeds {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fd := Feed{Name: strings.TrimSpace(in.Name), URL: strings.TrimSpace(in.URL)}
		sc := element("feeds", "feed", i, fd.Name)
		fd.Line = v.pos[sc.path].line
		if fd.Name == "" {
			v.at(sc.at("name"), "feed #%d has no name", i+1)
		}
		fd.Key = strings.TrimSpace(in.ID)
		if fd.Key == "" {
			fd.Key = fd.Name
		}
		if prev, dup := keys[fd.Key]; dup && fd.Key != "" {
			v.at(sc.at("name"), "%sa feed with this name (or id) is already defined on line %d", sc.prefix, prev)
		}
		keys[fd.Key] = fd.Line
		if u, err := url.Parse(fd.URL); fd.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.at(sc.at("url"), "%s must be an absolute http(s) URL, got %q", sc.name("url"), fd.URL)
		}
		switch {
		case in.Every != "" && in.Schedule != "":
			v.at(sc.at("schedule"), "%sset every or schedule, not both", sc.prefix)
		case in.Schedule != "":
			v.schedule(sc, in.Schedule, c.Monitor.MinPollInterval)
			fd.Schedule = in.Schedule
		default:
			fd.Every = v.duration(sc, "every", in.Every, DefaultEvery, floor)
		}
		for j, ch := range in.Channels {
			v.channel(sc.at("channels."+strconv.Itoa(j)), sc.name("channels"), ch)
		}
		fd.Channels = in.Channels
		fd.Backfill = v.duration(sc, "backfill", in.Backfill, c.Monitor.Backfill, 0)
		fd.MuteUntil = v.when(sc, "mute_until", in.MuteUntil)
		if in.MinEvery != "" || in.MaxEvery != "" {
			if fd.Schedule != "" {
				v.at(sc.at("min_every"), "%smin_every/max_every adapt an interval; they do not go with schedule", sc.prefix)
			}
			fd.MinEvery = v.duration(sc, "min_every", in.MinEvery, floor, floor)
			fd.MaxEvery = v.duration(sc, "max_every", in.MaxEvery, max(fd.Every, fd.MinEvery)*4, floor)
			if fd.MinEvery > fd.MaxEvery {
				v.at(sc.at("max_every"), "%smax_every (%s) is below min_every (%s)", sc.prefix, written(in.MaxEvery, fd.MaxEvery), written(in.MinEvery, fd.MinEvery))
			}
		}
		c.Feeds = append(c.Feeds, fd)
	}
	if len(f.Feeds) == 0 {
		v.warn("", "no [[feeds]]: nothing will be polled")
	}
	return nil
}

// schedule checks a feed's cron spec, including that it fires no more often
// than floor, the minimum interval between polls.
func (v *validator) schedule(sc scope, spec string, floor time.Duration) {
	s, err := ParseCron(spec)
	if err != nil {
		v.at(sc.at("schedule"), "%s: %v", sc.name("schedule"), err)
		return
	}
	if gap := MinGap(s); gap < floor {
		v.at(sc.at("schedule"), "%s: %q polls every %s, more often than the minimum of %s; write \"@every %s\" or more, or every = \"%s\"", sc.name("schedule"), spec, fmtDuration(gap), fmtDuration(floor), fmtDuration(floor), fmtDuration(floor))
	}
}

func (v *validator) rules(ctx context.Context, c *Config, f *file) error {
	names := make(map[string]int, len(f.Rules))
	c.Rules = make([]Rule, 0, len(f.Rules))
	for i, in := range f.Rules {
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		name := strings.TrimSpace(in.Name)
		sc := element("rules", "rule", i, name)
		r := Rule{
			Name:            name,
			Query:           in.Query,
			Digest:          in.Digest,
			Examples:        in.Examples,
			Counterexamples: in.Counterexamples,
			Line:            v.pos[sc.path].line,
			query:           v.pos[sc.at("query")],
		}
		if r.Name == "" {
			v.at(sc.at("name"), "rule #%d has no name", i+1)
		}
		if prev, dup := names[r.Name]; dup && r.Name != "" {
			v.at(sc.at("name"), "%sa rule with this name is already defined on line %d", sc.prefix, prev)
		}
		names[r.Name] = r.Line
		if strings.TrimSpace(in.Query) == "" {
			v.at(sc.at("query"), "%squery is empty", sc.prefix)
		}
		if in.Digest != "" {
			if err := ValidateCron(in.Digest); err != nil {
				v.at(sc.at("digest"), "%s: %v", sc.name("digest"), err)
			}
		}
		r.Group = in.Group == nil || *in.Group
		r.Cooldown = v.duration(sc, "cooldown", in.Cooldown, 0, time.Minute)
		r.MuteUntil = v.when(sc, "mute_until", in.MuteUntil)
		r.Breaking = v.breakingOverride(sc, in.BreakingOutlets, in.BreakingWithin, in.EscalateTo)
		r.Channels = in.Channels
		if len(r.Channels) == 0 {
			r.Channels = []string{c.Slack.Channel}
		}
		for j, ch := range in.Channels {
			v.channel(sc.at("channels."+strconv.Itoa(j)), sc.name("channels"), ch)
		}
		c.Rules = append(c.Rules, r)
	}
	if len(f.Rules) == 0 {
		v.warn("", "no [[rules]]: nothing will match")
	}
	return nil
}

// breaking reads [breaking] (the defaults) and [[channels]].
func (v *validator) breaking(c *Config, f *file) {
	sc := top("breaking")
	b := Breaking{Outlets: DefaultBreakingOutlets, Within: DefaultBreakingWithin}
	if n := f.Breaking.Outlets; n != nil && v.outlets(sc, "outlets", *n) {
		b.Outlets = *n
	}
	b.Within = v.within(sc, "within", f.Breaking.Within, b.Within)
	if to := strings.TrimSpace(f.Breaking.EscalateTo); to != "" {
		v.channel(sc.at("escalate_to"), sc.name("escalate_to"), to)
		b.EscalateTo = to
	}
	c.Breaking = b
	names := make(map[string]int, len(f.Channels))
	for i, in := range f.Channels {
		name := strings.TrimSpace(in.Name)
		sc := element("channels", "channel", i, name)
		ch := Channel{Name: name, Line: v.pos[sc.path].line}
		if name == "" {
			v.at(sc.at("name"), "channel #%d has no name", i+1)
		} else {
			v.channel(sc.at("name"), sc.name("name"), name)
		}
		if prev, dup := names[name]; dup && name != "" {
			v.at(sc.at("name"), "%sthis channel is already configured on line %d", sc.prefix, prev)
		}
		names[name] = ch.Line
		ch.Breaking = v.breakingOverride(sc, in.BreakingOutlets, in.BreakingWithin, in.EscalateTo)
		c.Channels = append(c.Channels, ch)
	}
}

// breakingOverride reads the breaking_outlets, breaking_within and
// escalate_to keys of a [[channels]] or [[rules]] entry.
// escalate_to = "none" turns off an escalation set above.
func (v *validator) breakingOverride(sc scope, outlets *int, within string, to string) BreakingOverride {
	var o BreakingOverride
	if outlets != nil && v.outlets(sc, "breaking_outlets", *outlets) {
		o.Outlets = outlets
	}
	if within != "" {
		if d := v.within(sc, "breaking_within", within, -1); d >= 0 {
			o.Within = &d
		}
	}
	switch t := strings.TrimSpace(to); t {
	case "":
	case NoEscalation:
		none := ""
		o.EscalateTo = &none
	default:
		v.channel(sc.at("escalate_to"), sc.name("escalate_to"), t)
		o.EscalateTo = &t
	}
	return o
}

// outlets checks a breaking threshold's number of outlets.
func (v *validator) outlets(sc scope, key string, n int) bool {
	if n != 0 && (n < 2 || n > MaxBreakingOutlets) {
		v.at(sc.at(key), "%s must be 0 (no breaking signal) or between 2 and %d outlets, got %d", sc.name(key), MaxBreakingOutlets, n)
		return false
	}
	return true
}

// within reads a breaking threshold's window: 1m to 7d.
func (v *validator) within(sc scope, key, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d := v.duration(sc, key, s, def, time.Minute)
	if d > MaxBreakingWithin {
		v.at(sc.at(key), "%s: %q is above the maximum of %s", sc.name(key), s, fmtDuration(MaxBreakingWithin))
		return def
	}
	return d
}

// when reads a point in time: a TOML date-time (1979-05-27T07:32:00Z), a
// local date-time or date (taken as UTC), or the same as a string.
func (v *validator) when(sc scope, key string, val any) time.Time {
	switch t := val.(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return t
	case toml.LocalDateTime:
		return t.AsTime(time.UTC)
	case toml.LocalDate:
		return t.AsTime(time.UTC)
	case string:
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
			if tt, err := time.ParseInLocation(layout, t, time.UTC); err == nil {
				return tt
			}
		}
		v.at(sc.at(key), "%s: %q is not a date or date-time (examples: 2026-12-01, 2026-12-01T18:00:00Z)", sc.name(key), t)
		return time.Time{}
	}
	v.at(sc.at(key), "%s must be a date or date-time, e.g. %s = 2026-12-01T18:00:00Z", sc.name(key), key)
	return time.Time{}
}

// parseDuration is time.ParseDuration that also takes whole days ("90d"),
// and "0".
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// duration parses the duration s ("90s", "5m", "1h30m", "7d") of key in
// scope sc; empty means def. Values below min are refused. Messages echo
// the value as written.
func (v *validator) duration(sc scope, key, s string, def, min time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := parseDuration(s)
	if err != nil {
		v.at(sc.at(key), "%s: %q is not a duration (examples: \"90s\", \"5m\", \"1h\", \"7d\")", sc.name(key), s)
		return def
	}
	if d < min || d < 0 {
		v.at(sc.at(key), "%s: %q is below the minimum of %s", sc.name(key), s, fmtDuration(min))
		return def
	}
	return d
}

// written is a duration as the file wrote it, or as the default it took.
func written(s string, d time.Duration) string {
	if s != "" {
		return strconv.Quote(s)
	}
	return fmtDuration(d) + " by default"
}

// fmtDuration writes a duration the way a person writes one in the file:
// "7d", "30s", "1h30m", "10ms" (not "168h0m0s").
func fmtDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
