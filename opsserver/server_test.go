package opsserver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store { return storetest.OpenSQLite(t) }

// startServer runs a Server on a free loopback port until the test ends.
func startServer(t *testing.T, o opsserver.Options) *opsserver.Server {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	s := opsserver.New(o)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	st := openStore(t)
	m := metrics.New()
	s := startServer(t, opsserver.Options{Metrics: m, Source: st, Ready: opsserver.StoreReady(st, "test")})
	base := "http://" + s.Addr()

	if code, _, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	// Not ready until a configuration is loaded.
	if code, _, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "config: not loaded") {
		t.Errorf("/readyz before SetConfig = %d %q, want 503 naming the config", code, body)
	}
	s.SetConfig(opsserver.ConfigInfo{Path: "/etc/wirewatch.toml", LoadedAt: t0, Rules: 2})
	if code, _, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "store: ok") {
		t.Errorf("/readyz = %d %q, want 200", code, body)
	}

	// /metrics moves with the pipeline's events.
	m.FetchDone(metrics.ResultNotModified, time.Millisecond)
	m.SetRules([]string{"storms"})
	m.RuleMatched("storms")
	code, hdr, body := get(t, base+"/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`wirewatch_fetches_total{result="not_modified"} 1`,
		`wirewatch_rule_matches_total{rule="storms"} 1`,
		`wirewatch_rules 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Only GET (and HEAD); unknown paths are 404.
	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", resp.StatusCode)
	}
	if code, _, _ := get(t, base+"/admin"); code != 404 {
		t.Errorf("/admin = %d, want 404", code)
	}

	// Shutting down: not ready, still alive.
	s.SetDraining()
	if code, _, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "shutdown") {
		t.Errorf("/readyz while draining = %d %q", code, body)
	}
	if code, _, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz while draining = %d", code)
	}
}

// A store that does not answer makes /readyz fail with the reason.
func TestReadyzStoreDown(t *testing.T) {
	st := openStore(t)
	s := startServer(t, opsserver.Options{Source: st, Ready: opsserver.StoreReady(st, "test")})
	s.SetConfig(opsserver.ConfigInfo{LoadedAt: t0})
	base := "http://" + s.Addr()
	if code, _, _ := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d with the store open", code)
	}
	st.Close()
	code, _, body := get(t, base+"/readyz")
	if code != 503 || !strings.Contains(body, "store not reachable") {
		t.Errorf("/readyz with the store closed = %d %q, want 503 naming the store", code, body)
	}
	// The status page says so too, instead of failing.
	code, _, page := get(t, base+"/")
	if code != 200 || !strings.Contains(page, "Cannot read feeds") {
		t.Errorf("status page with the store closed = %d, lacks the error", code)
	}
}

// A Ready check that hangs is cut off by the /readyz deadline.
func TestReadyzDeadline(t *testing.T) {
	s := startServer(t, opsserver.Options{Ready: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	s.SetConfig(opsserver.ConfigInfo{LoadedAt: t0})
	code, _, body := get(t, "http://"+s.Addr()+"/readyz")
	if code != 503 || !strings.Contains(body, "deadline") {
		t.Errorf("/readyz with a hanging store = %d %q", code, body)
	}
}

// seed fills a real SQLite store through its API: a healthy feed with 304s
// and hostile items, a failing feed, sent, failed and ops alerts.
func seed(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SyncFeeds(ctx, []store.FeedDef{
		{Key: "wire", URL: "https://news.example/wire.xml", Due: t0},
		{Key: "broken", URL: "https://user:s3cret@feeds.example/rss?apikey=TOPSECRET", Due: t0},
		{Key: "fresh", URL: "https://fresh.example/feed", Due: t0.Add(time.Hour)},
	}))
	wire, err := st.Feed(ctx, "wire")
	must(err)
	now := t0.Add(-10 * time.Minute)
	wire.LastPoll, wire.LastSuccess, wire.NextDue = now, now, t0.Add(5*time.Minute)
	wire.Polls, wire.NotModified, wire.Initialized = 4, 1, true
	mk := func(id, title, link, channel string) store.Alert {
		return store.Alert{
			ID: store.AlertID("wire", id, "storms", channel), Kind: store.KindItem, Channel: channel,
			FeedKey: "wire", FeedName: "The Wire", ItemID: id, GUID: id, Rule: "storms",
			Title: title, Link: link, CreatedAt: now,
		}
	}
	a1 := mk("1", `<script>alert("x")</script> Storm hits coast`, "javascript:alert(1)", "#desk")
	a2 := mk("2", "Second storm & more", "https://news.example/2", "#desk")
	a3 := mk("3", "Third storm", "https://news.example/3", "#gone")
	_, err = st.CommitPoll(ctx, store.Poll{Feed: wire,
		Items: []store.Item{
			{FeedKey: "wire", ID: "1", Title: "one", FirstSeen: now},
			{FeedKey: "wire", ID: "2", Title: "two", FirstSeen: now},
			{FeedKey: "wire", ID: "3", Title: "three", FirstSeen: now},
		},
		Alerts: []store.Alert{a1, a2, a3},
	})
	must(err)
	must(st.MarkSent(ctx, a2.ID, "1732449600.000100", now.Add(3*time.Second)))
	must(st.MarkFailed(ctx, a3.ID, "channel_not_found", now.Add(time.Second)))
	_, err = st.Enqueue(ctx, []store.Alert{{ID: "ops-1", Kind: store.KindOps, Channel: "#ops", Text: "Feed <broken> is down", CreatedAt: now.Add(time.Minute)}})
	must(err)

	broken, err := st.Feed(ctx, "broken")
	must(err)
	broken.LastPoll, broken.NextDue = now, t0.Add(20*time.Minute)
	broken.ErrorStreak, broken.FailingSince = 3, t0.Add(-2*time.Hour)
	broken.LastError = `fetching failed (http status): 500 <b>Internal</b>`
	_, err = st.CommitPoll(ctx, store.Poll{Feed: broken})
	must(err)
}

func TestStatusPage(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	s := startServer(t, opsserver.Options{Source: st, Version: "v9.9.9", Now: func() time.Time { return t0 }})
	s.SetConfig(opsserver.ConfigInfo{Path: "/etc/wirewatch/wirewatch.toml", LoadedAt: t0.Add(-time.Hour), Rules: 7,
		Feeds: map[string]string{"wire": "The Wire", "broken": "Broken Feed", "fresh": "Fresh"}})

	code, hdr, page := get(t, "http://"+s.Addr()+"/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("/ = %d %s", code, hdr.Get("Content-Type"))
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("no restrictive CSP: %q", hdr.Get("Content-Security-Policy"))
	}
	text := squash(page)
	for _, want := range []string{
		"version v9.9.9",
		"3 feeds, 7 rules",
		`Feeds (3, <span class="failing">1 failing</span>)`,
		// the failing feed, with its streak and escaped error
		"Broken Feed",
		"failing",
		"3 since 2026-11-24 10:00:00Z (2h00m ago)",
		"500 &lt;b&gt;Internal&lt;/b&gt;",
		// the healthy feed: last success, next due, 304 ratio 1 of 4
		"The Wire",
		"2026-11-24 11:50:00Z (10m ago)",
		"2026-11-24 12:05:00Z (in 5m)",
		"25%",
		// the new feed, never polled
		"Fresh", ">new<",
		// alerts: escaped titles, states, the ops message
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Storm hits coast",
		`<a href="https://news.example/2" rel="noopener noreferrer">Second storm &amp; more</a>`,
		"Feed &lt;broken&gt; is down",
		">sent<", ">failed<", ">queued<",
		"channel_not_found",
		`<h2 id="failed">Failed alerts</h2>`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "javascript:", "s3cret", "TOPSECRET", "<b>Internal"} {
		if strings.Contains(page, bad) {
			t.Errorf("status page contains %q", bad)
		}
	}
	if !strings.Contains(text, "https://REDACTED@feeds.example/rss?apikey=REDACTED") {
		t.Errorf("redacted feed URL not shown")
	}
	// The failing feed is listed first.
	if i, j := strings.Index(text, "Broken Feed"), strings.Index(text, "Fresh"); i < 0 || j < 0 || i > j {
		t.Errorf("failing feed not listed before the others")
	}

	// A rejected reload shows until the next good one.
	s.ReloadFailed(errors.New(`wirewatch.toml:12:3: rule "x": unbalanced parenthesis`), t0)
	_, _, page = get(t, "http://"+s.Addr()+"/")
	if !strings.Contains(page, "Last reload rejected") || !strings.Contains(page, "unbalanced parenthesis") {
		t.Errorf("rejected reload not shown")
	}
	s.SetConfig(opsserver.ConfigInfo{LoadedAt: t0})
	_, _, page = get(t, "http://"+s.Addr()+"/")
	if strings.Contains(page, "Last reload rejected") {
		t.Errorf("rejected reload still shown after a successful one")
	}
}

// The alert list honours the limit (newest first).
func TestStatusPageAlertLimit(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	s := startServer(t, opsserver.Options{Source: st, Alerts: 2, Now: func() time.Time { return t0 }})
	_, _, page := get(t, "http://"+s.Addr()+"/")
	// Section "Last alerts" up to the "Failed alerts" section.
	i, j := strings.Index(page, `id="alerts"`), strings.Index(page, `id="failed"`)
	if i < 0 || j < i {
		t.Fatalf("sections missing")
	}
	rows := strings.Count(page[i:j], "<tr><td>")
	if rows != 2 {
		t.Errorf("%d alert rows, want 2", rows)
	}
	if !strings.Contains(page[i:j], "Feed &lt;broken&gt; is down") {
		t.Errorf("newest alert (the ops message) not listed first")
	}
	if !strings.Contains(page, "No configuration loaded") {
		t.Errorf("missing configuration not said")
	}
}

var spaces = regexp.MustCompile(`\s+`)

func squash(s string) string { return spaces.ReplaceAllString(s, " ") }

func TestProbe(t *testing.T) {
	s := startServer(t, opsserver.Options{})
	ctx := context.Background()
	if err := opsserver.Probe(ctx, s.Addr()); err != nil {
		t.Errorf("Probe(%s): %v", s.Addr(), err)
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	for _, addr := range []string{":" + port, "0.0.0.0:" + port} {
		if err := opsserver.Probe(ctx, addr); err != nil {
			t.Errorf("Probe(%s): %v (an unspecified host is probed on loopback)", addr, err)
		}
	}

	// Nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if err := opsserver.Probe(ctx, closed); err == nil {
		t.Errorf("Probe on a closed port succeeded")
	}
	// An unhealthy answer.
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database on fire", http.StatusInternalServerError)
	}))
	defer sick.Close()
	err = opsserver.Probe(ctx, strings.TrimPrefix(sick.URL, "http://"))
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "database on fire") {
		t.Errorf("Probe on a 500: %v", err)
	}
	// A server that never answers: the deadline applies.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := opsserver.Probe(dctx, strings.TrimPrefix(hang.URL, "http://")); err == nil {
		t.Errorf("Probe on a hanging server succeeded")
	}
	for _, bad := range []string{"", "no-port"} {
		if err := opsserver.Probe(ctx, bad); err == nil {
			t.Errorf("Probe(%q) succeeded", bad)
		}
	}
}

// Run serves until its context ends, then releases the port.
func TestRunAndShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := opsserver.New(opsserver.Options{Addr: addr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, time.Second) }()
	deadline := time.Now().Add(5 * time.Second)
	for opsserver.Probe(context.Background(), addr) != nil {
		if time.Now().After(deadline) {
			t.Fatal("server never became healthy")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if err := opsserver.Probe(context.Background(), addr); err == nil {
		t.Error("still answering after Run returned")
	}
	// Shutting down again is harmless and does not wait.
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := s.Shutdown(sctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
	// A second server on a taken port reports the listen error.
	a := startServer(t, opsserver.Options{})
	b := opsserver.New(opsserver.Options{Addr: a.Addr()})
	if err := b.Start(context.Background()); err == nil || !strings.Contains(err.Error(), a.Addr()) {
		t.Errorf("Start on a taken port: %v", err)
	}
	if err := opsserver.New(opsserver.Options{}).Start(context.Background()); err == nil {
		t.Error("Start without an address succeeded")
	}
}
