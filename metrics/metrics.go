// Package metrics owns the Prometheus metrics Wirewatch exposes: their
// names, types, labels and buckets, on a private registry (never the global
// default one), and the typed methods the pipeline calls to move them.
//
// Label cardinality is bounded by construction: no label ever carries a
// feed URL, item, alert or channel; the rule label takes only configured
// rule names (at most MaxRuleLabels, others count as "other"); every other
// label takes a value from a fixed set.
//
// A nil *Set is valid and does nothing, so packages can take one optionally
// in their options.
package metrics

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/store"
)

// Namespace prefixes every Wirewatch metric.
const Namespace = "wirewatch"

// MaxRuleLabels caps the distinct values of the rule label. Matches of
// rules beyond the cap (and of names not configured) count under OtherRule.
const MaxRuleLabels = 500

// OtherRule is the rule label of matches whose rule has no label of its own.
const OtherRule = "other"

// Fetch results (the result label of wirewatch_fetches_total). A failed
// fetch is labelled with its kind, fetch.Kind.Label() (the kinds are
// defined once, in monitor/fetch: see fetch.Kinds). Anything else is
// labelled ResultError.
const (
	ResultOK          = "ok"
	ResultNotModified = "not_modified"
	ResultParseError  = "parse_error"
	ResultError       = "error"
)

// fetchResults are the values the result label may take.
var fetchResults = func() []string {
	rs := []string{ResultOK, ResultNotModified, ResultParseError}
	for _, k := range fetch.Kinds() {
		rs = append(rs, k.Label())
	}
	return append(rs, ResultError)
}()

// Alert kinds (the kind label of the alert counters): the store's alert
// kinds, with item alerts sent in a scheduled digest set apart.
const (
	AlertKindItem   = store.KindItem // one item for one rule and channel
	AlertKindDigest = "digest"       // an item alert sent in a scheduled digest
	AlertKindOps    = store.KindOps  // a message for operators
)

// Slack API methods that get a label of their own; any other method is
// labelled "other". MethodWebhook labels incoming-webhook posts.
const (
	MethodWebhook = "webhook"
	MethodOther   = "other"
)

var slackMethods = []string{
	"chat.postMessage", "conversations.history", "conversations.list",
	"conversations.replies", "auth.test", MethodWebhook, MethodOther,
}

// Slack request statuses: the HTTP status class, "429" on its own, or
// "error" when no HTTP answer came (network, timeout, cancel).
var slackStatuses = []string{"2xx", "3xx", "4xx", "429", "5xx", "error"}

// Buckets, in seconds.
var (
	fetchBuckets    = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	slackBuckets    = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	deliveryBuckets = []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}
	lagBuckets      = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600}
)

// Set is Wirewatch's metrics on their own registry. It is safe for
// concurrent use; a nil *Set does nothing.
type Set struct {
	reg *prometheus.Registry

	fetches       *prometheus.CounterVec
	fetchDuration prometheus.Histogram
	parseErrors   prometheus.Counter
	itemsParsed   prometheus.Counter
	itemsNew      prometheus.Counter
	itemsSkipped  *prometheus.CounterVec
	matches       *prometheus.CounterVec
	alertsQueued  prometheus.Counter
	alertsSent    *prometheus.CounterVec
	alertsFailed  *prometheus.CounterVec
	followUps     *prometheus.CounterVec
	breaking      prometheus.Counter
	delivery      prometheus.Histogram
	slackDuration *prometheus.HistogramVec
	slackRequests *prometheus.CounterVec
	slack429      *prometheus.CounterVec
	schedLag      prometheus.Histogram
	rules         prometheus.Gauge
	feeds         prometheus.Gauge
	reloads       *prometheus.CounterVec
	reloadOK      prometheus.Gauge
	storeUp       prometheus.Gauge
	storeOutages  prometheus.Counter
	reloadTime    prometheus.Gauge
	buildInfo     *prometheus.GaugeVec

	mu        sync.RWMutex
	ruleNames map[string]bool // rules with a label of their own
}

// New returns a Set registered on a new private registry, with the Go
// runtime and process collectors.
func New() *Set {
	s := &Set{reg: prometheus.NewRegistry(), ruleNames: map[string]bool{}}
	f := factory{s.reg}
	s.fetches = f.counterVec("fetches_total", "Feed fetches by result: ok, not_modified (304), parse_error, or the fetch error kind.", "result")
	s.fetchDuration = f.histogram("fetch_duration_seconds", "Time to fetch one feed document (any result).", fetchBuckets)
	s.parseErrors = f.counter("parse_errors_total", "Fetched feed documents that could not be parsed.")
	s.itemsParsed = f.counter("items_parsed_total", "Items in the feed documents fetched (200 answers that parsed).")
	s.itemsNew = f.counter("items_new_total", "Items seen for the first time.")
	s.itemsSkipped = f.counterVec("items_skipped_total", "Items of fetched documents left out of a poll, by reason: store_refused (the store refused the item; the feed's other items were recorded).", "reason")
	s.matches = f.counterVec("rule_matches_total", "Items matched, by rule (configured rule names only, at most 500; others count as \"other\").", "rule")
	s.alertsQueued = f.counter("alerts_queued_total", "Alerts newly queued in the outbox (item and ops).")
	s.alertsSent = f.counterVec("alerts_sent_total", "Alerts Slack accepted, by kind: item, digest, ops.", "kind")
	s.alertsFailed = f.counterVec("alerts_failed_total", "Alerts given up on (marked failed), by kind: item, digest, ops.", "kind")
	s.followUps = f.counterVec("story_followups_total", "Later reports of an alerted story, by outcome: reply (in its thread), suppressed (no threads: webhook or stdout), top (posted as an ordinary alert).", "outcome")
	s.breaking = f.counter("stories_breaking_total", "Stories that became breaking: reported by at least the configured number of distinct outlets within the configured time.")
	s.delivery = f.histogram("alert_delivery_seconds", "Time from an item's first sight to Slack accepting its alert (item alerts, not digests).", deliveryBuckets)
	s.slackDuration = f.histogramVec("slack_request_duration_seconds", "Slack HTTP request latency, by API method.", slackBuckets, "method")
	s.slackRequests = f.counterVec("slack_requests_total", "Slack HTTP requests by API method and status (2xx, 4xx, 429, 5xx, error).", "method", "status")
	s.slack429 = f.counterVec("slack_rate_limited_total", "Slack answers 429 Too Many Requests, by API method.", "method")
	s.schedLag = f.histogram("scheduler_lag_seconds", "How late a due feed was claimed for polling (claim time minus due time).", lagBuckets)
	s.rules = f.gauge("rules", "Rules in the running configuration.")
	s.feeds = f.gauge("feeds", "Feeds in the running configuration.")
	s.reloads = f.counterVec("config_reloads_total", "Configuration reloads by result: ok or error (the running configuration was kept).", "result")
	s.storeUp = f.gauge("store_up", "1 while the store takes writes (a heartbeat write every few seconds), 0 while it fails them (full disk, database down).")
	s.storeOutages = f.counter("store_outages_total", "Store outages: the store failed every write for at least [store] outage_after.")
	s.reloadOK = f.gauge("config_last_reload_successful", "1 if the last configuration reload succeeded (or none was tried), 0 if it failed.")
	s.reloadTime = f.gauge("config_last_reload_success_timestamp_seconds", "When the running configuration was loaded (Unix time).")
	s.buildInfo = f.gaugeVec("build_info", "Always 1; the version label says which Wirewatch runs.", "version")

	// Every series of a fixed label set exists from the start (at 0), so
	// rate() and ratios work before the first event.
	for _, r := range fetchResults {
		s.fetches.WithLabelValues(r)
	}
	for _, k := range []string{AlertKindItem, AlertKindDigest, AlertKindOps} {
		s.alertsSent.WithLabelValues(k)
		s.alertsFailed.WithLabelValues(k)
	}
	for _, m := range slackMethods {
		s.slack429.WithLabelValues(m)
	}
	for _, r := range skipReasons {
		s.itemsSkipped.WithLabelValues(r)
	}
	for _, o := range []string{FollowUpReply, FollowUpSuppressed, FollowUpTop} {
		s.followUps.WithLabelValues(o)
	}
	s.matches.WithLabelValues(OtherRule)
	s.reloads.WithLabelValues("ok")
	s.reloads.WithLabelValues("error")
	s.reloadOK.Set(1)
	s.storeUp.Set(1)

	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return s
}

// Registry returns the private registry, to register more collectors or to
// gather in tests. Nil for a nil Set.
func (s *Set) Registry() *prometheus.Registry {
	if s == nil {
		return nil
	}
	return s.reg
}

// Handler serves the metrics in the Prometheus text (or OpenMetrics)
// exposition format. A nil Set serves 404.
func (s *Set) Handler() http.Handler {
	if s == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		Registry:          s.reg, // promhttp's own error counter
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	})
}

// SetBuildInfo records the running version in wirewatch_build_info.
func (s *Set) SetBuildInfo(version string) {
	if s == nil {
		return
	}
	s.buildInfo.Reset()
	s.buildInfo.WithLabelValues(labelValue(version)).Set(1)
}

// FetchDone records one fetch of a feed document: result is ResultOK,
// ResultNotModified, ResultParseError (fetched, but the document did not
// parse; also counted in wirewatch_parse_errors_total) or the failure's
// fetch.Kind label (e.g. "timeout", "rate_limited"); d is how long the
// fetch took.
func (s *Set) FetchDone(result string, d time.Duration) {
	if s == nil {
		return
	}
	r := FetchResult(result)
	s.fetches.WithLabelValues(r).Inc()
	s.fetchDuration.Observe(d.Seconds())
	if r == ResultParseError {
		s.parseErrors.Inc()
	}
}

// FetchResult normalises a fetch result to the value its label takes:
// lower case, spaces as underscores, and ResultError for anything unknown.
func FetchResult(result string) string {
	r := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(result)), " ", "_")
	if slices.Contains(fetchResults, r) {
		return r
	}
	return ResultError
}

// ItemsParsed counts the items of a fetched and parsed document.
func (s *Set) ItemsParsed(n int) {
	if s == nil || n <= 0 {
		return
	}
	s.itemsParsed.Add(float64(n))
}

// ItemsSeen counts items seen for the first time.
func (s *Set) ItemsSeen(n int) {
	if s == nil || n <= 0 {
		return
	}
	s.itemsNew.Add(float64(n))
}

// SetRules records the configured rules: the rules gauge, and which rule
// names get a label of their own (the first MaxRuleLabels of names). Series
// of rules no longer configured are removed, so reloads never grow the
// label set beyond MaxRuleLabels+1.
func (s *Set) SetRules(names []string) {
	if s == nil {
		return
	}
	s.rules.Set(float64(len(names)))
	next := make(map[string]bool, min(len(names), MaxRuleLabels))
	for _, n := range names {
		if len(next) >= MaxRuleLabels {
			break
		}
		if v := labelValue(n); v != OtherRule {
			next[v] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.ruleNames {
		if !next[n] {
			s.matches.DeleteLabelValues(n)
		}
	}
	for n := range next {
		s.matches.WithLabelValues(n)
	}
	s.ruleNames = next
}

// SetFeeds records how many feeds the running configuration has.
func (s *Set) SetFeeds(n int) {
	if s == nil {
		return
	}
	s.feeds.Set(float64(n))
}

// RuleMatched counts one item matched by rule (once per item and rule,
// whatever the number of channels).
func (s *Set) RuleMatched(rule string) {
	if s == nil {
		return
	}
	v := labelValue(rule)
	s.mu.RLock()
	ok := s.ruleNames[v]
	s.mu.RUnlock()
	if !ok {
		v = OtherRule
	}
	s.matches.WithLabelValues(v).Inc()
}

// AlertQueued counts n alerts newly queued in the outbox.
func (s *Set) AlertQueued(n int) {
	if s == nil || n <= 0 {
		return
	}
	s.alertsQueued.Add(float64(n))
}

// AlertKind is the kind label of an alert: ops, digest or item.
func AlertKind(a store.Alert) string {
	switch {
	case a.Kind == store.KindOps:
		return AlertKindOps
	case a.Digest != "":
		return AlertKindDigest
	default:
		return AlertKindItem
	}
}

// AlertSent records Slack's acceptance of a at now. For an item alert (not
// a digest, which waits for its schedule by design) it also observes the
// time since the item was first seen (a.CreatedAt, the poll that saw it).
func (s *Set) AlertSent(a store.Alert, now time.Time) {
	if s == nil {
		return
	}
	k := AlertKind(a)
	s.alertsSent.WithLabelValues(k).Inc()
	if k == AlertKindItem && !a.CreatedAt.IsZero() {
		s.delivery.Observe(max(0, now.Sub(a.CreatedAt).Seconds()))
	}
}

// Outcomes of a story follow-up, for StoryFollowUp.
const (
	FollowUpReply      = "reply"
	FollowUpSuppressed = "suppressed"
	FollowUpTop        = "top"
)

// StoryFollowUp counts a later report of an alerted story by what became
// of it: a thread reply, suppressed (counted only: no threads with a
// webhook), or an ordinary top-level alert.
func (s *Set) StoryFollowUp(outcome string) {
	if s == nil {
		return
	}
	switch outcome {
	case FollowUpReply, FollowUpSuppressed, FollowUpTop:
	default:
		return
	}
	s.followUps.WithLabelValues(outcome).Inc()
}

// StoryBreaking counts a story that crossed its breaking threshold.
func (s *Set) StoryBreaking() {
	if s == nil {
		return
	}
	s.breaking.Inc()
}

// AlertFailed records that delivery of a was given up.
func (s *Set) AlertFailed(a store.Alert) {
	if s == nil {
		return
	}
	s.alertsFailed.WithLabelValues(AlertKind(a)).Inc()
}

// SlackRequest records one HTTP request to Slack: method is the API method
// ("chat.postMessage", MethodWebhook, ...; others count as MethodOther),
// status the HTTP status code (0 when no answer came). A 429 is also
// counted as rate limited.
func (s *Set) SlackRequest(method string, d time.Duration, status int) {
	if s == nil {
		return
	}
	m := slackMethod(method)
	s.slackDuration.WithLabelValues(m).Observe(d.Seconds())
	s.slackRequests.WithLabelValues(m, statusClass(status)).Inc()
	if status == http.StatusTooManyRequests {
		s.slack429.WithLabelValues(m).Inc()
	}
}

// SlackRateLimited counts a 429 that was not recorded through SlackRequest
// or SlackTransport (e.g. one reported inside a Slack client error).
func (s *Set) SlackRateLimited(method string) {
	if s == nil {
		return
	}
	s.slack429.WithLabelValues(slackMethod(method)).Inc()
}

// SchedulerLag records how late a due feed was claimed: now - its due time
// (negative values count as 0).
func (s *Set) SchedulerLag(d time.Duration) {
	if s == nil {
		return
	}
	s.schedLag.Observe(max(0, d.Seconds()))
}

// Reload records a configuration reload (ok: the new configuration is
// running; !ok: it was rejected and the old one kept) at now.
func (s *Set) Reload(ok bool, now time.Time) {
	if s == nil {
		return
	}
	if ok {
		s.reloads.WithLabelValues("ok").Inc()
		s.reloadOK.Set(1)
		s.reloadTime.Set(float64(now.UnixNano()) / 1e9)
		return
	}
	s.reloads.WithLabelValues("error").Inc()
	s.reloadOK.Set(0)
}

// ConfigLoaded records when the running configuration was first loaded
// (at start), without counting a reload.
func (s *Set) ConfigLoaded(now time.Time) {
	if s == nil {
		return
	}
	s.reloadOK.Set(1)
	s.reloadTime.Set(float64(now.UnixNano()) / 1e9)
}

func slackMethod(m string) string {
	if slices.Contains(slackMethods, m) {
		return m
	}
	return MethodOther
}

func statusClass(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return "429"
	case code >= 200 && code < 300:
		return "2xx"
	case code >= 300 && code < 400:
		return "3xx"
	case code >= 400 && code < 500:
		return "4xx"
	case code >= 500 && code < 600:
		return "5xx"
	default:
		return "error"
	}
}

// labelValue makes s a valid label value (Prometheus requires UTF-8), and
// bounds its length.
func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "")
	}
	return s
}

// factory builds Wirewatch metrics on one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}
