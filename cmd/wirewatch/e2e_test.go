package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// binary is the wirewatch executable built once for the tests that run it
// as a separate process, as users and scripts do.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wirewatch-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wirewatch")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED="+map[bool]string{true: "1", false: "0"}[raceEnabled])
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wirewatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wirewatch runs the binary and returns its stdout, stderr and exit code.
func wirewatch(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(cleanEnv(), env...)
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running wirewatch %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// cleanEnv is the environment without Wirewatch's own variables, so a
// developer's shell cannot change what the tests see.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WIREWATCH_") {
			env = append(env, kv)
		}
	}
	return env
}

// feedServer serves an RSS file from testdata with its pubDates moved to
// "now minus a few hours", so that the items are within the backfill window.
func feedServer(t *testing.T, file string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	body := regexp.MustCompile(`<pubDate>[^<]*</pubDate>`).ReplaceAllFunc(raw, func([]byte) []byte {
		i++
		return []byte("<pubDate>" + time.Now().Add(-time.Duration(i)*time.Hour).UTC().Format(time.RFC1123Z) + "</pubDate>")
	})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// exampleRules returns the [[rules]] of config.example.toml as TOML, so the
// end-to-end tests exercise exactly the rules users start from.
func exampleRules(t *testing.T) string {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "config.example.toml"), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	var b strings.Builder
	for _, r := range cfg.Rules {
		q, _ := json.Marshal(r.Query)
		ch, _ := json.Marshal(r.Channels)
		fmt.Fprintf(&b, "\n[[rules]]\nname = %q\nquery = %s\nchannels = %s\n", r.Name, q, ch)
	}
	return b.String()
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type sent struct{ channel, title string }

func sentMessages(s *slackfake.Server) []sent {
	var out []sent
	for _, m := range s.Messages() {
		out = append(out, sent{m.ChannelName, m.Text})
	}
	return out
}

// TestOnceEndToEnd is issue 2's acceptance test: a loopback feed with the
// reference article among unrelated items, a recording fake Slack, and
// `wirewatch once` run three times as separate processes on one database.
// Exactly one alert per matching (item, rule, channel) must reach Slack.
func TestOnceEndToEnd(t *testing.T) {
	feed, hits := feedServer(t, "reference.rss")
	slack := slackfake.New(slackfake.WithToken("xoxb-test-token"))
	defer slack.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q

[slack]
token = "xoxb-test-token"
api_url = %q
channel = "#news-alerts"

[fetch]
timeout = "10s"
allow_private = true

[[feeds]]
name = "Test wire"
url = %q
every = "5m"
`, filepath.Join(dir, "state.db"), slack.APIURL(), feed.URL+"/feed.xml")+exampleRules(t))

	// The rules route to these channels (see config.example.toml).
	wantChannels := map[string]int{}
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cfg.Rules {
		for _, ch := range r.Channels {
			// One message per item per channel, however many of the
			// channel's rules it matches.
			wantChannels[strings.TrimPrefix(ch, "#")] = 1
		}
	}

	for run := 1; run <= 3; run++ {
		stdout, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath)
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", run, code, stdout, stderr)
		}
		if strings.Contains(stderr, "xoxb-test-token") {
			t.Errorf("run %d: the Slack token appears in the logs", run)
		}
		msgs := slack.Messages()
		if len(msgs) != sum(wantChannels) {
			t.Fatalf("run %d: Slack got %d messages, want %d (one per channel for the reference article):\n%v", run, len(msgs), sum(wantChannels), sentMessages(slack))
		}
		got := map[string]int{}
		for _, m := range msgs {
			got[m.ChannelName]++
			// The article matches both rules; in a channel both route to,
			// it is one alert that says "Also matches rule ...".
			about := strings.Contains(m.Text+string(m.Blocks), "deep into Afghanistan")
			if m.ChannelName == "desk-south-asia" && !strings.Contains(m.Text, "Also matches rule *Talks collapse*") {
				t.Errorf("run %d: the alert in #desk-south-asia does not say it also matches Talks collapse: %q", run, m.Text)
			}
			if !about {
				t.Errorf("run %d: message in %s is not about the reference article: %q", run, m.ChannelName, m.Text)
			}
			if m.Params.Get("link_names") == "true" || m.Params.Get("parse") == "full" {
				t.Errorf("message sent with link_names/parse=full: %v", m.Params)
			}
		}
		for ch, n := range wantChannels {
			if got[ch] != n {
				t.Errorf("run %d: channel %s got %d alerts, want %d", run, ch, got[ch], n)
			}
		}
	}
	if hits.Load() != 3 {
		t.Errorf("feed fetched %d times, want 3 (once per run)", hits.Load())
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestOnceBackfill: a feed seen for the first time alerts only on items
// within the backfill window, so adding a feed does not flood a channel.
func TestOnceBackfill(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "reference.rss"))
	if err != nil {
		t.Fatal(err)
	}
	// The file's dates are October 2025: all older than the window.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(raw) }))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[fetch]
allow_private = true
[monitor]
backfill = "24h"
[[feeds]]
name = "Old wire"
url = %q
`, filepath.Join(dir, "state.db"), srv.URL)+exampleRules(t))
	stdout, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(stdout) != "" {
		t.Errorf("backfilled items were alerted:\n%s", stdout)
	}
	// The log says why nothing alerted.
	if !strings.Contains(stderr, `msg="feed polled" feed="Old wire" items=5 new=5 backfilled=5 `) {
		t.Errorf("the poll's log line does not count the backfilled items:\n%s", stderr)
	}
}

// TestOnceStdoutAndDryRun: without Slack, alerts are printed; with -dry-run
// nothing is recorded and each alert is one JSON line.
func TestOnceStdoutAndDryRun(t *testing.T) {
	feed, _ := feedServer(t, "reference.rss")
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[fetch]
allow_private = true
[[feeds]]
name = "Test wire"
url = %q
`, db, feed.URL)+exampleRules(t))

	stdout, stderr, code := wirewatch(t, nil, "once", "-dry-run", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	// The log says it is a dry run, and counts what it prints.
	if !strings.Contains(stderr, `msg="dry run: feed polled, nothing recorded" feed="Test wire"`) || !strings.Contains(stderr, fmt.Sprintf(" queued=%d ", strings.Count(stdout, "\n"))) {
		t.Errorf("dry-run log does not count the %d alerts it prints:\n%s", strings.Count(stdout, "\n"), stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("dry run created the state file (err=%v)", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var rulesSeen []string
	for _, line := range lines {
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("dry-run line is not JSON: %q", line)
		}
		for _, k := range []string{"rule", "channel", "feed", "title", "link", "guid"} {
			if s, _ := a[k].(string); s == "" {
				t.Errorf("dry-run line lacks %q: %s", k, line)
			}
		}
		if a["guid"] != "https://www.dawn.com/news/1952000" {
			t.Errorf("dry run would alert on another item: %s", line)
		}
		// Why, as try shows it: the matched words, and a snippet around
		// them from the body, not the bare title.
		snippet, _ := a["snippet"].(string)
		matched, _ := a["matched"].([]any)
		if snippet == a["title"] || len(matched) < 3 || !strings.Contains(fmt.Sprint(matched), "title:Pakistan") || !strings.Contains(fmt.Sprint(matched), "summary:") {
			t.Errorf("dry-run line lacks the matched words or a snippet from the body: %s", line)
		}
		inSnippet := false
		for _, m := range matched {
			_, w, _ := strings.Cut(m.(string), ":")
			inSnippet = inSnippet || strings.Contains(snippet, w)
		}
		if !inSnippet {
			t.Errorf("the dry-run snippet shows none of the matched words: %s", line)
		}
		rulesSeen = append(rulesSeen, a["rule"].(string)+" -> "+a["channel"].(string))
	}
	sort.Strings(rulesSeen)
	if len(rulesSeen) < 2 {
		t.Fatalf("dry run printed %d alerts, want the reference article for both rules: %v", len(rulesSeen), rulesSeen)
	}

	// A real run without Slack prints the same alerts to stdout, once.
	stdout, stderr, code = wirewatch(t, nil, "once", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(stdout, "deep into Afghanistan"); n < len(rulesSeen) {
		t.Errorf("stdout shows the reference article %d times, want at least %d:\n%s", n, len(rulesSeen), stdout)
	}
	stdout, _, _ = wirewatch(t, nil, "once", "-config", cfgPath)
	if strings.Contains(stdout, "deep into Afghanistan") {
		t.Errorf("second run alerted again:\n%s", stdout)
	}
	stdout, _, _ = wirewatch(t, nil, "once", "-dry-run", "-config", cfgPath)
	if strings.TrimSpace(stdout) != "" {
		t.Errorf("dry run after a real run would alert again:\n%s", stdout)
	}
}

func TestCheck(t *testing.T) {
	example := filepath.Join("..", "..", "config.example.toml")
	stdout, stderr, code := wirewatch(t, nil, "check", "-config", example)
	if code != 0 {
		t.Fatalf("check config.example.toml: exit %d\n%s%s", code, stdout, stderr)
	}

	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// A typo'd key: reported with its line and column.
	typo := strings.Replace(string(src), "allow_private", "allow_privat", 1)
	line := 1 + strings.Count(typo[:strings.Index(typo, "allow_privat")], "\n")
	path := writeConfig(t, dir, typo)
	stdout, _, code = wirewatch(t, nil, "check", "-config", path)
	if code != 1 {
		t.Errorf("typo'd key: exit %d, want 1", code)
	}
	if want := fmt.Sprintf("%s:%d:1: unknown key \"allow_privat\" in [fetch]; did you mean \"allow_private\"?", path, line); !strings.Contains(stdout, want) {
		t.Errorf("typo'd key: output lacks %q:\n%s", want, stdout)
	}

	// A broken rule: named, with the line and column of the fault.
	broken := string(src) + "\n[[rules]]\nname = \"Broken\"\nquery = 'talks AND (Istanbul OR Doha'\n"
	line = 1 + strings.Count(broken, "\n") - 1
	path = writeConfig(t, dir, broken)
	stdout, _, code = wirewatch(t, nil, "check", "-config", path)
	if code != 1 {
		t.Errorf("broken rule: exit %d, want 1", code)
	}
	re := regexp.MustCompile(regexp.QuoteMeta(path) + fmt.Sprintf(`:%d:\d+: rule "Broken": `, line))
	if !re.MatchString(stdout) {
		t.Errorf("broken rule: output lacks %s:\n%s", re, stdout)
	}
}

func TestTryReferenceArticle(t *testing.T) {
	example := filepath.Join("..", "..", "config.example.toml")
	cfg, err := config.Load(example, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := wirewatch(t, nil, "try", "-config", example, "-json", filepath.Join("testdata", "reference-article.rss"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		for _, k := range []string{"rule", "feed", "title", "link", "guid"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("try -json line lacks %q: %s", k, line)
			}
		}
		got[m["rule"].(string)] = true
	}
	for _, r := range cfg.Rules {
		if !got[r.Name] {
			t.Errorf("rule %q does not match the reference article; matched: %v", r.Name, got)
		}
	}

	// The unrelated items of the test wire match no example rule.
	stdout, _, _ = wirewatch(t, nil, "try", "-config", example, "-json", filepath.Join("testdata", "reference.rss"))
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line != "" && !strings.Contains(line, "dawn.com/news/1952000") {
			t.Errorf("an unrelated item matched: %s", line)
		}
	}

	// -query works without a config, and explains the match.
	stdout, _, code = wirewatch(t, nil, "try", "-query", `"deep into Afghanistan"`, filepath.Join("testdata", "reference-article.rss"))
	if code != 0 || !strings.Contains(stdout, "[deep into Afghanistan]") {
		t.Errorf("try -query: exit %d, output:\n%s", code, stdout)
	}
}

func TestVersionAndUsage(t *testing.T) {
	stdout, _, code := wirewatch(t, nil, "version")
	if code != 0 || !strings.HasPrefix(stdout, "wirewatch ") {
		t.Errorf("version: %d %q", code, stdout)
	}
	_, stderr, code := wirewatch(t, nil, "frobnicate")
	if code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
}

// TestCheckFetchAndFeeds: `check -fetch` tells an editor who pasted a home
// page URL which feed the page advertises; `feeds` shows each feed's health.
func TestCheckFetchAndFeeds(t *testing.T) {
	// An HTML home page from the feed corpus (see its MANIFEST.tsv).
	page, err := os.ReadFile(filepath.Join("..", "..", "monitor", "parse", "testdata", "corpus", "autodiscovery", "furbo_nnw.html"))
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := feedServer(t, "reference.rss")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[fetch]
allow_private = true
[[feeds]]
name = "Home page"
url = %q
[[feeds]]
name = "Test wire"
url = %q
`, filepath.Join(dir, "state.db"), srv.URL+"/", feed.URL)+exampleRules(t))

	stdout, _, code := wirewatch(t, nil, "check", "-fetch", "-config", cfgPath)
	if code != 1 {
		t.Errorf("check -fetch with an HTML page: exit %d, want 1", code)
	}
	want := fmt.Sprintf(`%s:6:1: feed "Home page": `, cfgPath) // the [[feeds]] line
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "HTML page") || !strings.Contains(stdout, `did you mean url = "http://furbo.org/feed/"?`) {
		t.Errorf("check -fetch output lacks the located HTML-page problem and the advertised feed:\n%s", stdout)
	}

	if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
		t.Fatalf("once: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := wirewatch(t, nil, "feeds", "-json", "-config", cfgPath)
	if code != 0 {
		t.Fatalf("feeds: exit %d: %s", code, stderr)
	}
	rows := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("feeds -json: %q", line)
		}
		rows[r["name"].(string)] = r
	}
	if r := rows["Home page"]; r == nil || r["error_streak"].(float64) != 1 || !strings.Contains(r["last_error"].(string), "HTML page") {
		t.Errorf("feeds: home page row %v", r)
	}
	if r := rows["Test wire"]; r == nil || r["error_streak"].(float64) != 0 || r["items_last_24h"].(float64) != 5 || r["polls"].(float64) != 1 {
		t.Errorf("feeds: test wire row %v", r)
	}
	stdout, _, _ = wirewatch(t, nil, "feeds", "-config", cfgPath)
	if !strings.Contains(stdout, "FEED") || !strings.Contains(stdout, "Test wire") {
		t.Errorf("feeds table:\n%s", stdout)
	}
}

// TestRunRefusesWrongToken: a token Slack rejects stops `run` at start with
// a clear error, instead of failing every alert later.
func TestRunRefusesWrongToken(t *testing.T) {
	slack := slackfake.New(slackfake.WithToken("xoxb-right"))
	defer slack.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[slack]\ntoken = \"xoxb-wrong\"\napi_url = %q\n", filepath.Join(dir, "s.db"), slack.APIURL())+exampleRules(t))
	_, stderr, code := wirewatch(t, nil, "run", "-config", cfgPath)
	if code != 1 || !strings.Contains(stderr, "invalid_auth") {
		t.Errorf("run with a wrong token: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "xoxb-wrong") {
		t.Errorf("the token appears in the output")
	}
}

// TestWebhookAndJSONLogs: with an incoming webhook the alerts arrive in the
// webhook's channel; logs in JSON are one object per line and never show the
// webhook URL (it is a secret).
func TestWebhookAndJSONLogs(t *testing.T) {
	feed, _ := feedServer(t, "reference.rss")
	slack := slackfake.New()
	defer slack.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[fetch]\nallow_private = true\n[[feeds]]\nname = \"Test wire\"\nurl = %q\n",
		filepath.Join(dir, "s.db"), feed.URL)+exampleRules(t))
	env := []string{"WIREWATCH_SLACK_WEBHOOK_URL=" + slack.WebhookURL()}
	_, stderr, code := wirewatch(t, env, "once", "-config", cfgPath, "-log-format", "json", "-log-level", "debug")
	if code != 0 {
		t.Fatalf("once: exit %d\n%s", code, stderr)
	}
	if n := slack.Len(); n < 2 {
		t.Errorf("webhook got %d messages, want the reference article's alerts", n)
	}
	for _, m := range slack.Messages() {
		if m.Method != "webhook" {
			t.Errorf("message went through %s, want the webhook", m.Method)
		}
	}
	if strings.Contains(stderr, "fakewebhooksecret") || strings.Contains(stderr, "/services/") {
		t.Errorf("the webhook URL appears in the logs")
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil || v["level"] == nil {
			t.Errorf("log line is not a JSON event: %q", line)
		}
	}
}
