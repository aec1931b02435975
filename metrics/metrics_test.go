package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/store"
)

// scrape GETs /metrics from a real HTTP server and parses the exposition.
func scrape(t *testing.T, s *metrics.Set) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing exposition: %v", err)
	}
	return fams
}

// value returns the counter/gauge value (or histogram count) of the series
// of family name with exactly the given labels ("k=v" pairs).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s not exposed", name)
	}
	want := strings.Join(labels, ",")
	var seen []string
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		got := strings.Join(ls, ",")
		seen = append(seen, got)
		if got != want {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("%s{%s} not exposed; series: %v", name, want, seen)
	return 0
}

func labelValues(fams map[string]*dto.MetricFamily, name, label string) []string {
	var out []string
	for _, m := range fams[name].GetMetric() {
		for _, l := range m.Label {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestExposedAfterEvents(t *testing.T) {
	s := metrics.New()
	s.SetBuildInfo("v1.2.3")
	s.SetRules([]string{"elections", "storms"})
	s.SetFeeds(3)
	s.FetchDone(metrics.ResultOK, 120*time.Millisecond)
	s.FetchDone(metrics.ResultOK, 80*time.Millisecond)
	s.FetchDone(metrics.ResultNotModified, 10*time.Millisecond)
	s.FetchDone(string(fetch.KindRateLimited), time.Second)
	s.FetchDone(metrics.ResultParseError, time.Second)
	s.ItemsParsed(20)
	s.ItemsSeen(4)
	s.RuleMatched("elections")
	s.RuleMatched("elections")
	s.RuleMatched("storms")
	s.AlertQueued(3)
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s.AlertSent(store.Alert{Kind: store.KindItem, CreatedAt: t0}, t0.Add(7*time.Second))
	s.AlertSent(store.Alert{Kind: store.KindItem, Digest: "0 8 * * *", CreatedAt: t0}, t0.Add(8*time.Hour))
	s.AlertSent(store.Alert{Kind: store.KindOps, CreatedAt: t0}, t0.Add(time.Second))
	s.AlertFailed(store.Alert{Kind: store.KindItem})
	s.SlackRequest("chat.postMessage", 200*time.Millisecond, 200)
	s.SlackRequest("chat.postMessage", 50*time.Millisecond, 429)
	s.SchedulerLag(3 * time.Second)
	s.Reload(true, t0)
	s.Reload(false, t0.Add(time.Minute))

	f := scrape(t, s)
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wirewatch_build_info", []string{"version=v1.2.3"}, 1},
		{"wirewatch_rules", nil, 2},
		{"wirewatch_feeds", nil, 3},
		{"wirewatch_fetches_total", []string{"result=ok"}, 2},
		{"wirewatch_fetches_total", []string{"result=not_modified"}, 1},
		{"wirewatch_fetches_total", []string{"result=rate_limited"}, 1},
		{"wirewatch_fetches_total", []string{"result=parse_error"}, 1},
		{"wirewatch_fetches_total", []string{"result=timeout"}, 0},
		{"wirewatch_fetch_duration_seconds", nil, 5},
		{"wirewatch_parse_errors_total", nil, 1},
		{"wirewatch_items_parsed_total", nil, 20},
		{"wirewatch_items_new_total", nil, 4},
		{"wirewatch_rule_matches_total", []string{"rule=elections"}, 2},
		{"wirewatch_rule_matches_total", []string{"rule=storms"}, 1},
		{"wirewatch_alerts_queued_total", nil, 3},
		{"wirewatch_alerts_sent_total", []string{"kind=item"}, 1},
		{"wirewatch_alerts_sent_total", []string{"kind=digest"}, 1},
		{"wirewatch_alerts_sent_total", []string{"kind=ops"}, 1},
		{"wirewatch_alerts_failed_total", []string{"kind=item"}, 1},
		{"wirewatch_alert_delivery_seconds", nil, 1}, // the digest and ops alerts are not observed
		{"wirewatch_slack_request_duration_seconds", []string{"method=chat.postMessage"}, 2},
		{"wirewatch_slack_requests_total", []string{"method=chat.postMessage", "status=2xx"}, 1},
		{"wirewatch_slack_requests_total", []string{"method=chat.postMessage", "status=429"}, 1},
		{"wirewatch_slack_rate_limited_total", []string{"method=chat.postMessage"}, 1},
		{"wirewatch_slack_rate_limited_total", []string{"method=webhook"}, 0}, // exposed before the first 429
		{"wirewatch_scheduler_lag_seconds", nil, 1},
		{"wirewatch_config_reloads_total", []string{"result=ok"}, 1},
		{"wirewatch_config_reloads_total", []string{"result=error"}, 1},
		{"wirewatch_config_last_reload_successful", nil, 0},
		{"wirewatch_config_last_reload_success_timestamp_seconds", nil, float64(t0.Unix())},
	}
	for _, c := range checks {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// The delivery histogram saw 7 s: in the 10 s bucket, not in the 5 s one.
	h := f["wirewatch_alert_delivery_seconds"].Metric[0].Histogram
	if got := h.GetSampleSum(); got != 7 {
		t.Errorf("delivery sum = %v, want 7", got)
	}
	for _, b := range h.Bucket {
		want := uint64(0)
		if b.GetUpperBound() >= 7 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("delivery bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	// The Go runtime and process collectors are there.
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := f[name]; !ok {
			t.Errorf("%s not exposed", name)
		}
	}
}

// Every fetch error kind of monitor/fetch gets its own result label; an
// unknown result is "error".
func TestFetchResultLabels(t *testing.T) {
	kinds := []fetch.Kind{fetch.KindNetwork, fetch.KindTimeout, fetch.KindTooLarge, fetch.KindPrivateAddress,
		fetch.KindHTTPStatus, fetch.KindRateLimited, fetch.KindTooManyRedirects, fetch.KindCanceled, fetch.KindInvalidURL}
	for _, k := range kinds {
		want := strings.ReplaceAll(string(k), " ", "_")
		if got := metrics.FetchResult(string(k)); got != want {
			t.Errorf("FetchResult(%q) = %q, want %q", k, got, want)
		}
	}
	if got := fetch.Kinds(); !slices.Equal(got, kinds) {
		t.Errorf("fetch.Kinds() = %q, want %q", got, kinds)
	}
	for _, k := range fetch.Kinds() {
		if got := metrics.FetchResult(k.Label()); got != k.Label() {
			t.Errorf("FetchResult(%q) = %q", k.Label(), got)
		}
	}
	for _, r := range []string{"", "https://example.com/feed.xml", "weird"} {
		if got := metrics.FetchResult(r); got != metrics.ResultError {
			t.Errorf("FetchResult(%q) = %q, want %q", r, got, metrics.ResultError)
		}
	}
}

// The rule label never grows beyond the configured names (capped), and a
// reload drops the series of removed rules.
func TestRuleLabelCardinality(t *testing.T) {
	s := metrics.New()
	names := make([]string, 0, metrics.MaxRuleLabels+100)
	for i := range metrics.MaxRuleLabels + 100 {
		names = append(names, fmt.Sprintf("rule-%04d", i))
	}
	s.SetRules(names)
	for _, n := range names {
		s.RuleMatched(n)
	}
	s.RuleMatched("never configured")
	s.RuleMatched("bad \xff utf-8") // must not panic
	f := scrape(t, s)
	if got := len(f["wirewatch_rule_matches_total"].Metric); got != metrics.MaxRuleLabels+1 {
		t.Errorf("%d rule series, want %d", got, metrics.MaxRuleLabels+1)
	}
	if got := value(t, f, "wirewatch_rule_matches_total", "rule=other"); got != 102 {
		t.Errorf("other = %v, want 102 (100 over the cap + 2 unknown)", got)
	}
	if got := value(t, f, "wirewatch_rules"); got != float64(len(names)) {
		t.Errorf("rules gauge = %v", got)
	}

	// Reload with two rules: only they (and "other") remain.
	s.SetRules([]string{"rule-0001", "fresh"})
	f = scrape(t, s)
	if got, want := labelValues(f, "wirewatch_rule_matches_total", "rule"), []string{"fresh", "other", "rule-0001"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rule labels after reload = %v, want %v", got, want)
	}
	if got := value(t, f, "wirewatch_rule_matches_total", "rule=rule-0001"); got != 1 {
		t.Errorf("kept rule lost its count: %v", got)
	}
	if got := value(t, f, "wirewatch_rule_matches_total", "rule=fresh"); got != 0 {
		t.Errorf("new rule = %v, want 0 (exposed before its first match)", got)
	}
}

// The metric names and help texts follow Prometheus conventions.
func TestLint(t *testing.T) {
	s := metrics.New()
	s.SetBuildInfo("dev")
	s.SetRules([]string{"a"})
	probs, err := testutil.GatherAndLint(s.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		if strings.HasPrefix(p.Metric, "wirewatch_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

// A nil Set is a no-op everywhere, so parts can take one optionally.
func TestNilSet(t *testing.T) {
	var s *metrics.Set
	s.SetBuildInfo("x")
	s.FetchDone("ok", time.Second)
	s.ItemsParsed(1)
	s.ItemsSeen(1)
	s.SetRules([]string{"a"})
	s.SetFeeds(1)
	s.RuleMatched("a")
	s.AlertQueued(1)
	s.AlertSent(store.Alert{}, time.Now())
	s.AlertFailed(store.Alert{})
	s.SlackRequest("chat.postMessage", time.Second, 200)
	s.SlackRateLimited("chat.postMessage")
	s.SchedulerLag(time.Second)
	s.Reload(true, time.Now())
	s.ConfigLoaded(time.Now())
	if s.Registry() != nil {
		t.Error("nil Set has a registry")
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Set handler: %d, want 404", rec.Code)
	}
	if rt := s.SlackTransport(http.DefaultTransport, ""); rt != http.DefaultTransport {
		t.Error("nil Set wrapped the transport")
	}
}

// SlackTransport records real requests to a fake Slack: method from the
// API path, 429s counted, the webhook URL never in a label.
func TestSlackTransport(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/chat.postMessage") && r.URL.Query().Get("limit") == "1":
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"ok":false,"error":"ratelimited"}`, http.StatusTooManyRequests)
		case strings.HasPrefix(r.URL.Path, "/services/"):
			io.WriteString(w, "ok")
		default:
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	defer fake.Close()
	s := metrics.New()
	api := &http.Client{Transport: s.SlackTransport(nil, "")}
	hook := &http.Client{Transport: s.SlackTransport(nil, metrics.MethodWebhook)}
	get := func(c *http.Client, u string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get(api, fake.URL+"/api/chat.postMessage")
	get(api, fake.URL+"/api/chat.postMessage?limit=1")
	get(api, fake.URL+"/api/conversations.history")
	get(api, fake.URL+"/api/users.secretThing")
	get(hook, fake.URL+"/services/T000/B000/XXXXSECRET")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := api.Get(closed.URL + "/api/chat.postMessage"); err == nil {
		t.Fatal("request to a closed server succeeded")
	}

	f := scrape(t, s)
	checks := []struct {
		labels []string
		want   float64
	}{
		{[]string{"method=chat.postMessage", "status=2xx"}, 1},
		{[]string{"method=chat.postMessage", "status=429"}, 1},
		{[]string{"method=chat.postMessage", "status=error"}, 1},
		{[]string{"method=conversations.history", "status=2xx"}, 1},
		{[]string{"method=other", "status=2xx"}, 1},
		{[]string{"method=webhook", "status=2xx"}, 1},
	}
	for _, c := range checks {
		if got := value(t, f, "wirewatch_slack_requests_total", c.labels...); got != c.want {
			t.Errorf("slack_requests_total%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if got := value(t, f, "wirewatch_slack_rate_limited_total", "method=chat.postMessage"); got != 1 {
		t.Errorf("429s = %v, want 1", got)
	}
	if got := value(t, f, "wirewatch_slack_request_duration_seconds", "method=chat.postMessage"); got != 3 {
		t.Errorf("postMessage latency samples = %v, want 3", got)
	}
	for _, fam := range f {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), "SECRET") || strings.Contains(l.GetValue(), "/") {
					t.Errorf("%s has label %s=%q", fam.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func BenchmarkHotPath(b *testing.B) {
	s := metrics.New()
	s.SetRules([]string{"a", "b", "c"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.FetchDone(metrics.ResultOK, time.Millisecond)
			s.RuleMatched("b")
			s.ItemsSeen(1)
		}
	})
}
