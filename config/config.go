// Package config owns Wirewatch's configuration file: decoding the TOML
// strictly (an unknown or misspelt key is an error with its line and
// column), applying defaults and environment overrides, and validating every
// value, each problem located as FILE:LINE:COL. It holds no global state:
// Load returns a value that the command passes, piece by piece, to the parts
// that need it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sort"
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
	MinEvery            = 30 * time.Second
	DefaultMaxBackoff   = 6 * time.Hour
	DefaultMaxInterval  = time.Hour
	DefaultHealthAfter  = time.Hour
	DefaultStoryWindow  = 24 * time.Hour
	DefaultRetention    = 90 * 24 * time.Hour
	MinRetention        = 7 * 24 * time.Hour
)

// Config is a loaded, validated configuration.
type Config struct {
	// Path is the file the configuration was read from.
	Path string

	Store    Store
	HTTP     HTTP
	Slack    Slack
	Fetch    Fetch
	Monitor  Monitor
	Feeds    []Feed
	Rules    []Rule
	Problems []Problem // warnings only; errors make Load fail

	raw []byte
}

// QueryPosition returns the file line and column of the byte at offset in
// rule r's query, so that a rule error's column points into the file. It is
// exact for literal strings ('...') and close for basic strings with escapes.
func (c *Config) QueryPosition(r Rule, offset int) (line, col int) {
	if r.queryStart == 0 {
		return r.Line, 1
	}
	return locate(c.raw, r.queryStart+offset)
}

// Store says where state lives.
type Store struct {
	Path     string // SQLite file
	Postgres string // PostgreSQL URL; wins over Path when set
	// Retention is how long seen items (once gone from their feed) and
	// delivered or failed alerts are kept; 0 keeps them for ever.
	Retention time.Duration
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
// column of the query back into the file.
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
	MuteUntil       time.Time
	Examples        []string
	Counterexamples []string
	Line            int

	queryStart int // byte offset of the query's first character in the file
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

// file mirrors the TOML layout. Durations stay strings so that a bad one is
// reported at its own position.
type file struct {
	Store struct {
		Path      string `toml:"path"`
		Postgres  string `toml:"postgres"`
		Retention string `toml:"retention"`
	} `toml:"store"`
	HTTP struct {
		Listen string `toml:"listen"`
	} `toml:"http"`
	Slack struct {
		Token          string   `toml:"token"`
		TokenFile      string   `toml:"token_file"`
		WebhookURL     string   `toml:"webhook_url"`
		WebhookURLFile string   `toml:"webhook_url_file"`
		APIURL         string   `toml:"api_url"`
		Channel        string   `toml:"channel"`
		OpsChannel     string   `toml:"ops_channel"`
		Unfurl         bool     `toml:"unfurl"`
		Interval       string   `toml:"interval"`
		Burst          *int     `toml:"burst"`
		GroupAfter     *int     `toml:"group_after"`
		RetryFor       string   `toml:"retry_for"`
		Lease          string   `toml:"lease"`
		ChannelCap     *int     `toml:"channel_cap"`
		AppToken       string   `toml:"app_token"`
		AppTokenFile   string   `toml:"app_token_file"`
		Editors        []string `toml:"editors"`
	} `toml:"slack"`
	Fetch struct {
		Timeout      string   `toml:"timeout"`
		MaxBodyMB    *int64   `toml:"max_body_mb"`
		MaxRedirects *int     `toml:"max_redirects"`
		PerHost      *int     `toml:"per_host"`
		UserAgent    string   `toml:"user_agent"`
		AllowPrivate bool     `toml:"allow_private"`
		AllowCIDRs   []string `toml:"allow_cidrs"`
	} `toml:"fetch"`
	Monitor struct {
		Backfill    string `toml:"backfill"`
		Concurrency *int   `toml:"concurrency"`
		MaxBackoff  string `toml:"max_backoff"`
		MaxInterval string `toml:"max_interval"`
		HealthAfter string `toml:"health_after"`
		StoryWindow string `toml:"story_window"`
	} `toml:"monitor"`
	Feeds []struct {
		ID        string   `toml:"id"`
		Name      string   `toml:"name"`
		URL       string   `toml:"url"`
		Every     string   `toml:"every"`
		Schedule  string   `toml:"schedule"`
		Channels  []string `toml:"channels"`
		Backfill  string   `toml:"backfill"`
		MinEvery  string   `toml:"min_every"`
		MaxEvery  string   `toml:"max_every"`
		MuteUntil any      `toml:"mute_until"`
	} `toml:"feeds"`
	Rules []struct {
		Name            string   `toml:"name"`
		Query           string   `toml:"query"`
		Channels        []string `toml:"channels"`
		Digest          string   `toml:"digest"`
		Group           *bool    `toml:"group"`
		Cooldown        string   `toml:"cooldown"`
		MuteUntil       any      `toml:"mute_until"`
		Examples        []string `toml:"examples"`
		Counterexamples []string `toml:"counterexamples"`
	} `toml:"rules"`
}

// Env is how Load reads the environment; tests pass a map.
type Env func(key string) string

// Load reads, decodes and validates the file at path, with environment
// overrides from getenv (os.Getenv when nil). The error, if any, is
// Problems (located problems) or a wrapped I/O error.
func Load(path string, getenv Env) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse is Load on bytes already read; path only names the file in problems.
func Parse(path string, data []byte, getenv Env) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	v := &validator{file: path}
	var f file
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			for _, e := range strict.Errors {
				line, col := e.Position()
				v.add(line, col, "unknown key %q", strings.Join(e.Key(), "."))
			}
		case errors.As(err, &de):
			line, col := de.Position()
			v.add(line, col, "%s", strings.TrimPrefix(de.Error(), "toml: "))
		default:
			v.add(0, 0, "%v", err)
		}
		return nil, v.problems
	}
	v.pos = positions(data)

	c := &Config{Path: path, raw: data}
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
	v.feeds(c, &f)
	v.rules(c, &f)

	var errs Problems
	for _, p := range v.problems {
		if p.Warning {
			c.Problems = append(c.Problems, p)
		} else {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
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

// at reports a problem at the value of key (a dotted path such as
// "feeds.2.every"), or at the nearest enclosing table when the key is absent.
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

func (v *validator) store(c *Config, f *file, getenv Env) {
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
	c.Store.Retention = v.duration("store.retention", f.Store.Retention, DefaultRetention, 0)
	if r := c.Store.Retention; r != 0 && r < MinRetention {
		v.at("store.retention", "store.retention: %s is below the minimum of 7d (use \"0\" to keep everything)", r)
		c.Store.Retention = MinRetention
	}
}

func (v *validator) slack(c *Config, f *file, getenv Env) {
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
	s.Interval = v.duration("slack.interval", f.Slack.Interval, 0, 10*time.Millisecond)
	s.RetryFor = v.duration("slack.retry_for", f.Slack.RetryFor, 0, time.Minute)
	s.Lease = v.duration("slack.lease", f.Slack.Lease, 0, time.Second)
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
	v.channel("slack.channel", s.Channel)
	if s.OpsChannel != "" {
		v.channel("slack.ops_channel", s.OpsChannel)
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

func (v *validator) channel(key, ch string) {
	if p := ChannelProblem(ch); p != "" {
		v.at(key, "%s: %s", key, p)
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
	ft.Timeout = v.duration("fetch.timeout", f.Fetch.Timeout, DefaultTimeout, time.Second)
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
	c.Monitor.Backfill = v.duration("monitor.backfill", f.Monitor.Backfill, DefaultBackfill, 0)
	c.Monitor.MaxBackoff = v.duration("monitor.max_backoff", f.Monitor.MaxBackoff, DefaultMaxBackoff, time.Minute)
	c.Monitor.MaxInterval = v.duration("monitor.max_interval", f.Monitor.MaxInterval, DefaultMaxInterval, MinEvery)
	c.Monitor.HealthAfter = v.duration("monitor.health_after", f.Monitor.HealthAfter, DefaultHealthAfter, time.Minute)
	c.Monitor.StoryWindow = v.duration("monitor.story_window", f.Monitor.StoryWindow, DefaultStoryWindow, time.Minute)
	c.Monitor.Concurrency = 16
	if f.Monitor.Concurrency != nil {
		if *f.Monitor.Concurrency < 1 || *f.Monitor.Concurrency > 1024 {
			v.at("monitor.concurrency", "monitor.concurrency must be between 1 and 1024")
		} else {
			c.Monitor.Concurrency = *f.Monitor.Concurrency
		}
	}
}

func (v *validator) feeds(c *Config, f *file) {
	keys := map[string]int{}
	for i, in := range f.Feeds {
		k := "feeds." + strconv.Itoa(i)
		fd := Feed{Name: strings.TrimSpace(in.Name), URL: strings.TrimSpace(in.URL), Line: v.pos[k].line}
		if fd.Name == "" {
			v.at(k+".name", "feed #%d has no name", i+1)
		}
		fd.Key = strings.TrimSpace(in.ID)
		if fd.Key == "" {
			fd.Key = fd.Name
		}
		if prev, dup := keys[fd.Key]; dup && fd.Key != "" {
			v.at(k+".name", "feed %q: a feed with this name (or id) is already defined on line %d", fd.Key, prev)
		}
		keys[fd.Key] = fd.Line
		if u, err := url.Parse(fd.URL); fd.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.at(k+".url", "feed %q: url must be an absolute http(s) URL, got %q", fd.Name, fd.URL)
		}
		switch {
		case in.Every != "" && in.Schedule != "":
			v.at(k+".schedule", "feed %q: set every or schedule, not both", fd.Name)
		case in.Schedule != "":
			if err := ValidateCron(in.Schedule); err != nil {
				v.at(k+".schedule", "feed %q: schedule: %v", fd.Name, err)
			}
			fd.Schedule = in.Schedule
		default:
			fd.Every = v.duration(k+".every", in.Every, DefaultEvery, MinEvery)
		}
		for j, ch := range in.Channels {
			v.channel(k+".channels."+strconv.Itoa(j), ch)
		}
		fd.Channels = in.Channels
		fd.Backfill = v.duration(k+".backfill", in.Backfill, c.Monitor.Backfill, 0)
		fd.MuteUntil = v.when(k+".mute_until", in.MuteUntil)
		if in.MinEvery != "" || in.MaxEvery != "" {
			if fd.Schedule != "" {
				v.at(k+".min_every", "feed %q: min_every/max_every adapt an interval; they do not go with schedule", fd.Name)
			}
			fd.MinEvery = v.duration(k+".min_every", in.MinEvery, MinEvery, MinEvery)
			fd.MaxEvery = v.duration(k+".max_every", in.MaxEvery, max(fd.Every, fd.MinEvery)*4, MinEvery)
			if fd.MinEvery > fd.MaxEvery {
				v.at(k+".max_every", "feed %q: max_every (%s) is below min_every (%s)", fd.Name, fd.MaxEvery, fd.MinEvery)
			}
		}
		c.Feeds = append(c.Feeds, fd)
	}
	if len(f.Feeds) == 0 {
		v.warn("", "no [[feeds]]: nothing will be polled")
	}
}

func (v *validator) rules(c *Config, f *file) {
	names := map[string]int{}
	for i, in := range f.Rules {
		k := "rules." + strconv.Itoa(i)
		r := Rule{
			Name:            strings.TrimSpace(in.Name),
			Query:           in.Query,
			Digest:          in.Digest,
			Examples:        in.Examples,
			Counterexamples: in.Counterexamples,
			Line:            v.pos[k].line,
			queryStart:      v.pos[k+".query"].offset,
		}
		if r.Name == "" {
			v.at(k+".name", "rule #%d has no name", i+1)
		}
		if prev, dup := names[r.Name]; dup && r.Name != "" {
			v.at(k+".name", "rule %q: a rule with this name is already defined on line %d", r.Name, prev)
		}
		names[r.Name] = r.Line
		if strings.TrimSpace(in.Query) == "" {
			v.at(k+".query", "rule %q: query is empty", r.Name)
		}
		if in.Digest != "" {
			if err := ValidateCron(in.Digest); err != nil {
				v.at(k+".digest", "rule %q: digest: %v", r.Name, err)
			}
		}
		r.Group = in.Group == nil || *in.Group
		r.Cooldown = v.duration(k+".cooldown", in.Cooldown, 0, time.Minute)
		r.MuteUntil = v.when(k+".mute_until", in.MuteUntil)
		r.Channels = in.Channels
		if len(r.Channels) == 0 {
			r.Channels = []string{c.Slack.Channel}
		}
		for j, ch := range in.Channels {
			v.channel(k+".channels."+strconv.Itoa(j), ch)
		}
		c.Rules = append(c.Rules, r)
	}
	if len(f.Rules) == 0 {
		v.warn("", "no [[rules]]: nothing will match")
	}
}

// when reads a point in time: a TOML date-time (1979-05-27T07:32:00Z), a
// local date-time or date (taken as UTC), or the same as a string.
func (v *validator) when(key string, val any) time.Time {
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
	}
	v.at(key, "%s: %v is not a date or date-time (examples: 2026-12-01, 2026-12-01T18:00:00Z)", key, val)
	return time.Time{}
}

// duration parses a Go duration ("90s", "5m", "1h30m") at key; empty means
// def. Values below min are refused.
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

func (v *validator) duration(key, s string, def, min time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := parseDuration(s)
	if err != nil {
		v.at(key, "%s: %q is not a duration (examples: \"90s\", \"5m\", \"1h\", \"7d\")", key, s)
		return def
	}
	if d < min || d < 0 {
		v.at(key, "%s: %s is below the minimum of %s", key, d, min)
		return def
	}
	return d
}
