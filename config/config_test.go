package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

const good = `[store]
path = "state.db"

[slack]
channel = "#news"
ops_channel = "#ops"

[fetch]
timeout = "15s"
allow_cidrs = ["10.1.0.0/16"]

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
every = "5m"

[[feeds]]
name = "Geo"
url = "https://www.geo.tv/rss/1/1"
schedule = "*/2 6-23 * * *"
channels = ["#geo"]

[[rules]]
name = "Cross-border strikes"
query = 'strike AND "deep into Afghanistan"'
channels = ["#desk"]

[[rules]]
name = "Default channel"
query = 'talks'
`

func TestParseGood(t *testing.T) {
	c, err := Parse("good.toml", []byte(good), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != "state.db" || c.Fetch.Timeout != 15*time.Second || c.Fetch.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("store/fetch: %+v %+v", c.Store, c.Fetch)
	}
	if len(c.Feeds) != 2 || c.Feeds[0].Every != 5*time.Minute || c.Feeds[1].Schedule != "*/2 6-23 * * *" || c.Feeds[1].Every != 0 {
		t.Errorf("feeds: %+v", c.Feeds)
	}
	if c.Feeds[0].Backfill != DefaultBackfill {
		t.Errorf("backfill default: %v", c.Feeds[0].Backfill)
	}
	if got := c.Rules[1].Channels; len(got) != 1 || got[0] != "#news" {
		t.Errorf("rule without channels should go to [slack].channel, got %v", got)
	}
	// The query's first character is on line 25, column 10 (after "query = '").
	line, col := c.QueryPosition(c.Rules[0], 0)
	if line != 25 || col != 10 {
		t.Errorf("QueryPosition(0) = %d:%d, want 25:10", line, col)
	}
	line, col = c.QueryPosition(c.Rules[0], len("strike AND "))
	if line != 25 || col != 21 {
		t.Errorf("QueryPosition(11) = %d:%d, want 25:21", line, col)
	}
}

func problemsOf(t *testing.T, src string) Problems {
	t.Helper()
	_, err := Parse("c.toml", []byte(src), noEnv)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	return ps
}

func TestUnknownKeyHasLineAndColumn(t *testing.T) {
	src := strings.Replace(good, `every = "5m"`, `evrey = "5m"`, 1)
	ps := problemsOf(t, src)
	if len(ps) != 1 {
		t.Fatalf("want 1 problem, got %v", ps)
	}
	if got := ps[0].Error(); got != `c.toml:15:1: feed "Dawn": unknown key "evrey"; did you mean "every"?` {
		t.Errorf("got %q", got)
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	ps := problemsOf(t, "[slack]\nchannel = \"#a\nx = 1\n")
	if ps[0].Line != 2 {
		t.Errorf("got %v", ps)
	}
}

func TestValidationProblemsAreLocated(t *testing.T) {
	src := `[fetch]
timeout = "soon"
allow_cidrs = ["10.0.0.0/33"]

[[feeds]]
name = "A"
url = "ftp://example.org/feed"

[[feeds]]
name = "A"
url = "https://example.org/feed"
schedule = "61 * * * *"

[[rules]]
name = "R"
query = ""
digest = "every morning"
`
	ps := problemsOf(t, src)
	want := []string{
		`c.toml:2:11: fetch.timeout: "soon" is not a duration`,
		`c.toml:3:16: fetch.allow_cidrs: "10.0.0.0/33"`,
		`c.toml:7:7: feed "A": url must be an absolute http(s) URL`,
		`c.toml:10:8: feed "A": a feed with this name (or id) is already defined on line 5`,
		`c.toml:12:12: feed "A": schedule: invalid cron spec "61 * * * *"`,
		`c.toml:16:9: rule "R": query is empty`,
		`c.toml:17:10: rule "R": digest: invalid cron spec "every morning"`,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems:\n%v", len(ps), ps)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].Error(), w) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, ps[i].Error(), w)
		}
	}
}

func TestEnvironmentAndSecretFiles(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("xoxb-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "[slack]\ntoken_file = \"" + tokenFile + "\"\nwebhook_url = \"https://hooks.example/inline\"\n"
	c, err := Parse("c.toml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Token != "xoxb-from-file" || c.Slack.WebhookURL != "https://hooks.example/inline" {
		t.Errorf("got %+v", c.Slack)
	}
	env := map[string]string{
		"WIREWATCH_SLACK_TOKEN":       "xoxb-env",
		"WIREWATCH_SLACK_WEBHOOK_URL": "https://hooks.example/env",
		"WIREWATCH_POSTGRES_URL":      "postgres://u@h/db",
	}
	c, err = Parse("c.toml", []byte(src), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.Token != "xoxb-env" || c.Slack.WebhookURL != "https://hooks.example/env" || c.Store.Postgres != "postgres://u@h/db" {
		t.Errorf("environment must win: %+v %+v", c.Slack, c.Store)
	}
}

func TestCronSpecThatPanicsIsAnError(t *testing.T) {
	for _, spec := range []string{"", "* * * *", "0 0 30 2 *", "@every", "*/0 * * * *", "1-0 * * * *", "0-99999999999999999999 * * * *"} {
		if err := ValidateCron(spec); err == nil {
			t.Errorf("ValidateCron(%q) = nil, want error", spec)
		}
	}
	if err := ValidateCron("*/2 6-23 * * *"); err != nil {
		t.Error(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("[[feeds]]\nname=1"))
	// Wrong types, unknown keys, tables of the wrong shape, and queries in
	// every quoting, so that the fuzzer starts from the decoder's and the
	// position mapper's interesting paths (more seeds in testdata/fuzz).
	f.Add([]byte("[fetch]\nallow_private = \"yes\"\ntimout = 1\n[[feeds]]\nname = \"Dawn\"\nchannels = \"#desk\"\nevery = 5\n"))
	f.Add([]byte("fetch = 5\n[feeds]\nname = \"x\"\nrules = [{name = \"r\", query = 'a', channels = [1, \"b\"]}]\n"))
	f.Add([]byte("[[rules]]\nname = \"r\"\nquery = \"\"\"\nCASE(\\\"UN\\\") \\\n   AND \\u00e9lan\"\"\"\n[[rules]]\nname = \"r\"\nquery = '''\n(a OR\n b'''\n"))
	f.Add([]byte("[[feeds]]\nname = \"F\"\nurl = \"https://x.org/\"\nschedule = \"@every 0s\"\nmute_until = 2026-12-01\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.toml", data, noEnv)
		var ps Problems
		if err != nil && !errors.As(err, &ps) {
			t.Fatalf("error is not Problems: %v", err)
		}
		if c == nil {
			return
		}
		// Every rule's query maps into the file, at every offset.
		lines := 1 + bytes.Count(data, []byte("\n"))
		for _, r := range c.Rules {
			for off := 0; off <= len(r.Query); off += max(1, len(r.Query)/8) {
				if line, col := c.QueryPosition(r, off); line < 1 || line > lines || col < 1 {
					t.Fatalf("QueryPosition(%q, %d) = %d:%d in a file of %d lines", r.Name, off, line, col, lines)
				}
			}
		}
	})
}

func TestNoiseControls(t *testing.T) {
	src := good + `
[monitor]
story_window = "12h"
`
	src = strings.Replace(src, `channels = ["#desk"]`, "channels = [\"#desk\"]\ngroup = false\ncooldown = \"2h\"\nmute_until = 2026-12-01T18:00:00Z", 1)
	src = strings.Replace(src, `every = "5m"`, "every = \"5m\"\nmute_until = \"2026-12-24\"", 1)
	src = strings.Replace(src, "[slack]\n", "[slack]\nchannel_cap = 20\n", 1)
	c, err := Parse("c.toml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rules[0]
	if r.Group || r.Cooldown != 2*time.Hour || !r.MuteUntil.Equal(time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("rule: %+v", r)
	}
	if !c.Rules[1].Group {
		t.Errorf("group defaults to true")
	}
	if !c.Feeds[0].MuteUntil.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("feed mute_until: %v", c.Feeds[0].MuteUntil)
	}
	if c.Monitor.StoryWindow != 12*time.Hour || c.Slack.ChannelCap != 20 {
		t.Errorf("story window %v, channel cap %d", c.Monitor.StoryWindow, c.Slack.ChannelCap)
	}
	bad := strings.Replace(good, `every = "5m"`, "every = \"5m\"\nmute_until = \"next week\"", 1)
	ps := problemsOf(t, bad)
	if len(ps) != 1 || !strings.Contains(ps[0].Error(), `c.toml:16:14: feed "Dawn": mute_until: "next week" is not a date`) {
		t.Errorf("got %v", ps)
	}
}

func TestRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", DefaultRetention},
		{`retention = "30d"`, 30 * 24 * time.Hour},
		{`retention = "200h"`, 200 * time.Hour},
		{`retention = "0"`, 0},
	} {
		cfg, err := Parse("c.toml", []byte("[store]\n"+c.in+"\n"), noEnv)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if cfg.Store.Retention != c.want {
			t.Errorf("%q: retention %s, want %s", c.in, cfg.Store.Retention, c.want)
		}
	}
	for in, want := range map[string]string{
		`retention = "3d"`:     `c.toml:2:13: store.retention: "3d" is below the minimum of 7d`,
		`retention = "ninety"`: `c.toml:2:13: store.retention: "ninety" is not a duration`,
		`retention = "-5d"`:    `c.toml:2:13: store.retention: "-5d" is not a duration`,
	} {
		ps := problemsOf(t, "[store]\n"+in+"\n")
		if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), want) {
			t.Errorf("%s: problems %v, want %s...", in, ps, want)
		}
	}
}

func TestKeepText(t *testing.T) {
	for in, want := range map[string]time.Duration{"": DefaultKeepText, `keep_text = "3d"`: 3 * 24 * time.Hour, `keep_text = "0"`: 0} {
		cfg, err := Parse("c.toml", []byte("[store]\n"+in+"\n"), noEnv)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if cfg.Store.KeepText != want {
			t.Errorf("%q: keep_text %s, want %s", in, cfg.Store.KeepText, want)
		}
	}
	ps := problemsOf(t, "[store]\nkeep_text = \"a week\"\n")
	if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), `c.toml:2:13: store.keep_text: "a week" is not a duration`) {
		t.Errorf("problems %v", ps)
	}
}
