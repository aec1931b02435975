package config

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// problemLines parses src and returns its problems as the lines `check`
// prints (errors and warnings, in file order).
func problemLines(t *testing.T, src string) []string {
	t.Helper()
	c, err := Parse("c.toml", []byte(src), noEnv)
	var ps Problems
	if err != nil && !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	var out []string
	if c != nil {
		for _, p := range c.Problems {
			out = append(out, p.Error())
		}
	} else {
		for _, p := range ps {
			out = append(out, p.Error())
		}
	}
	return out
}

func wantLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTypeMismatchesReadable: a value of the wrong type is one problem at
// the value, naming the feed or rule, saying what the value must be and
// showing an example, never a dump of Go types.
func TestTypeMismatchesReadable(t *testing.T) {
	src := `[fetch]
allow_private = "yes"
max_body_mb = "10"

[slack]
burst = 2.5

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
channels = "#desk"
every = 5

[[feeds]]
url = "https://example.org/feed"
channels = ["#a", 2]

[[rules]]
name = "Talks"
query = 12
group = "no"
examples = "talks fail"
mute_until = 5
`
	wantLines(t, problemLines(t, src), []string{
		`c.toml:2:17: fetch.allow_private must be true or false, e.g. allow_private = false`,
		`c.toml:3:15: fetch.max_body_mb must be a whole number, e.g. max_body_mb = 10`,
		`c.toml:6:9: slack.burst must be a whole number, e.g. burst = 3`,
		`c.toml:11:12: feed "Dawn": channels must be a list of strings, e.g. channels = ["#desk"]`,
		`c.toml:12:9: feed "Dawn": every must be a duration in quotes, e.g. every = "5m"`,
		`c.toml:14:1: feed #2 has no name`,
		`c.toml:16:12: feed #2: channels must be a list of strings, e.g. channels = ["#desk"]`,
		`c.toml:20:9: rule "Talks": query must be a string in quotes, e.g. query = 'strike NEAR/10 border'`,
		`c.toml:20:9: rule "Talks": query is empty`,
		`c.toml:21:9: rule "Talks": group must be true or false, e.g. group = false`,
		`c.toml:22:12: rule "Talks": examples must be a list of strings, e.g. examples = ["Pakistan-Afghanistan talks collapse"]`,
		`c.toml:23:14: rule "Talks": mute_until must be a date or date-time, e.g. mute_until = 2026-12-01T18:00:00Z`,
	})
	for _, l := range problemLines(t, src) {
		if strings.Contains(l, "struct {") || strings.Contains(l, `toml:"`) || strings.Contains(l, "[]string") || strings.Contains(l, "int64") {
			t.Errorf("Go types in a message: %s", l)
		}
	}
}

// TestTablesOfTheWrongShape: a table written as a value, or [feeds] for
// [[feeds]], is explained.
func TestTablesOfTheWrongShape(t *testing.T) {
	wantLines(t, problemLines(t, "fetch = 5\n\n[feeds]\nname = \"Dawn\"\n"), []string{
		`c.toml: warning: no [[feeds]]: nothing will be polled`,
		`c.toml: warning: no [[rules]]: nothing will match`,
		`c.toml:1:9: fetch must be a table: write [fetch] and its keys on the lines below`,
		`c.toml:3:1: feeds must be a list of tables, one per feed: write [[feeds]] before each one`,
	})
}

// TestEveryProblemInOneRun: a type error, an unknown key or a duplicate rule
// name does not hide the file's other problems.
func TestEveryProblemInOneRun(t *testing.T) {
	src := `[store]
retention = "3d"

[fetch]
allow_private = "yes"
timout = "20s"

[[feeds]]
name = "Dawn"
url = "ftp://www.dawn.com/feeds/home"
every = 5
channels = "#desk"

[[feeds]]
name = "Geo"
url = "https://www.geo.tv/rss/1/1"
schedule = "@every 0s"

[[rules]]
name = "Talks"
query = 'talks'

[[rules]]
name = "Talks"
query = 'talks NEAR/3 fail*'
digest = "every morning"
`
	wantLines(t, problemLines(t, src), []string{
		`c.toml:2:13: store.retention: "3d" is below the minimum of 7d (use "0" to keep everything)`,
		`c.toml:5:17: fetch.allow_private must be true or false, e.g. allow_private = false`,
		`c.toml:6:1: unknown key "timout" in [fetch]; did you mean "timeout"?`,
		`c.toml:10:7: feed "Dawn": url must be an absolute http(s) URL, got "ftp://www.dawn.com/feeds/home"`,
		`c.toml:11:9: feed "Dawn": every must be a duration in quotes, e.g. every = "5m"`,
		`c.toml:12:12: feed "Dawn": channels must be a list of strings, e.g. channels = ["#desk"]`,
		`c.toml:17:12: feed "Geo": schedule: "@every 0s" polls every 1s, more often than the minimum of 30s; write "@every 30s" or more, or every = "30s"`,
		`c.toml:24:8: rule "Talks": a rule with this name is already defined on line 19`,
		`c.toml:26:10: rule "Talks": digest: invalid cron spec "every morning" (want 5 fields: minute hour day month weekday): expected exactly 5 fields, found 2: [every morning]`,
	})
}

// TestDidYouMean: an unknown key is answered with the nearest key of the
// same table, or the table where the key belongs.
func TestDidYouMean(t *testing.T) {
	src := `slak = 1

[slack]
chanel = "#news"
Channel_Cap = 3

[monitor]
every = "5m"

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
evrey = "5m"
shedule = "@hourly"
channel = "#x"

[[rules]]
name = "Talks"
query = 'talks'
exmaples = ["talks fail"]
counter_examples = ["IMF talks fail"]
colour = "red"
`
	wantLines(t, problemLines(t, src), []string{
		`c.toml:1:1: unknown key "slak"; did you mean "slack"?`,
		`c.toml:4:1: unknown key "chanel" in [slack]; did you mean "channel"?`,
		`c.toml:5:1: unknown key "Channel_Cap" in [slack]; did you mean "channel_cap"?`,
		`c.toml:8:1: unknown key "every" in [monitor]; it belongs in [[feeds]]`,
		`c.toml:13:1: feed "Dawn": unknown key "evrey"; did you mean "every"?`,
		`c.toml:14:1: feed "Dawn": unknown key "shedule"; did you mean "schedule"?`,
		`c.toml:15:1: feed "Dawn": unknown key "channel"; did you mean "channels"?`,
		`c.toml:20:1: rule "Talks": unknown key "exmaples"; did you mean "examples"?`,
		`c.toml:21:1: rule "Talks": unknown key "counter_examples"; did you mean "counterexamples"?`,
		`c.toml:22:1: rule "Talks": unknown key "colour"`,
	})
}

func TestSuggest(t *testing.T) {
	known := []string{"backfill", "channels", "every", "id", "max_every", "min_every", "mute_until", "name", "schedule", "url"}
	for in, want := range map[string]string{
		"evrey": "every", "Every": "every", "url": "url", "ulr": "url", "nmae": "name", "schedul": "schedule",
		"backfil": "backfill", "mute-until": "mute_until", "min-every": "min_every",
		"x": "", "colour": "", "cron": "", "feeds": "", "": "",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDurationsAsWritten: a duration is echoed as the file wrote it, and
// limits are written the way a person writes them.
func TestDurationsAsWritten(t *testing.T) {
	src := `[store]
retention = "72h"

[monitor]
max_backoff = "30s"

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
every = "10s"

[[feeds]]
name = "Geo"
url = "https://www.geo.tv/rss/1/1"
min_every = "5m"
max_every = "1m"
`
	wantLines(t, problemLines(t, src), []string{
		`c.toml: warning: no [[rules]]: nothing will match`,
		`c.toml:2:13: store.retention: "72h" is below the minimum of 7d (use "0" to keep everything)`,
		`c.toml:5:15: monitor.max_backoff: "30s" is below the minimum of 1m`,
		`c.toml:10:9: feed "Dawn": every: "10s" is below the minimum of 30s`,
		`c.toml:16:13: feed "Geo": max_every ("1m") is below min_every ("5m")`,
	})
	for d, want := range map[string]string{"168h": "7d", "30s": "30s", "1m": "1m", "1h": "1h", "1h30m": "1h30m", "10ms": "10ms", "36h": "36h"} {
		dd, _ := parseDuration(d)
		if got := fmtDuration(dd); got != want {
			t.Errorf("fmtDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestFeedsAndRulesNamedByName: no message names a feed or rule by its
// index in the file ("feeds.0.every").
func TestFeedsAndRulesNamedByName(t *testing.T) {
	src := `[[feeds]]
name = "Dawn"
url = "nope"
every = "soon"
backfill = "-1h"
channels = ["", "a b"]
mute_until = "someday"
min_every = "1s"
bogus = 1

[[rules]]
name = "Talks"
query = ""
channels = ["<!channel>"]
cooldown = "1s"
mute_until = "later"
digest = "61 * * * *"
`
	lines := problemLines(t, src)
	if len(lines) < 10 {
		t.Fatalf("only %d problems:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	index := regexp.MustCompile(`\b(feeds|rules)\.\d`)
	for _, l := range lines {
		if index.MatchString(l) {
			t.Errorf("named by index: %s", l)
		}
		if !strings.Contains(l, `feed "Dawn": `) && !strings.Contains(l, `rule "Talks": `) {
			t.Errorf("not named: %s", l)
		}
	}
}

// TestScheduleMinimum: a schedule firing more often than every 30 s is
// refused, as an interval below 30 s is.
func TestScheduleMinimum(t *testing.T) {
	feed := func(spec string) string {
		return fmt.Sprintf("[[feeds]]\nname = \"F\"\nurl = \"https://example.org/feed\"\nschedule = %q\n\n[[rules]]\nname = \"R\"\nquery = 'x'\n", spec)
	}
	for _, spec := range []string{"@every 0s", "@every 1s", "@every 500ms", "@every 29s", "@every 29.9s"} {
		lines := problemLines(t, feed(spec))
		if len(lines) != 1 || !strings.Contains(lines[0], fmt.Sprintf(`feed "F": schedule: %q polls every`, spec)) || !strings.Contains(lines[0], "more often than the minimum of 30s") {
			t.Errorf("%s: %v", spec, lines)
		}
	}
	for _, spec := range []string{"@every 30s", "@every 1m", "* * * * *", "*/2 6-23 * * *", "@hourly", "0 0 29 2 *"} {
		if lines := problemLines(t, feed(spec)); len(lines) != 0 {
			t.Errorf("%s: %v", spec, lines)
		}
	}
	lines := problemLines(t, feed("*/5 * * * * *"))
	if len(lines) != 1 || !strings.Contains(lines[0], "it has 6 fields, but seconds are not supported") {
		t.Errorf("seconds field: %v", lines)
	}
	// An operator may lower the floor for feeds it owns, down to 1s.
	lowered := "[monitor]\nmin_poll_interval = \"1s\"\n" + feed("@every 1s") + "\n[[feeds]]\nname = \"G\"\nurl = \"https://example.org/g\"\nevery = \"5s\"\n"
	if lines := problemLines(t, lowered); len(lines) != 0 {
		t.Errorf("min_poll_interval = 1s: %v", lines)
	}
	wantLines(t, problemLines(t, "[monitor]\nmin_poll_interval = \"500ms\"\n"+feed("@every 10s")), []string{
		`c.toml:2:21: monitor.min_poll_interval: "500ms" is below the minimum of 1s`,
		`c.toml:6:12: feed "F": schedule: "@every 10s" polls every 10s, more often than the minimum of 30s; write "@every 30s" or more, or every = "30s"`,
	})
	for spec, want := range map[string]string{"@every 10m": "10m0s", "*/2 * * * *": "2m0s", "0,1 * * * *": "1m0s", "0 9 * * 1": "168h0m0s"} {
		s, err := ParseCron(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := MinGap(s).String(); got != want {
			t.Errorf("MinGap(%q) = %s, want %s", spec, got, want)
		}
	}
}

// TestProblemsKeepThePartialConfig: a file with problems still yields what
// could be read, so that its rules can be checked in the same run.
func TestProblemsKeepThePartialConfig(t *testing.T) {
	src := good + "\n[[rules]]\nname = \"Default channel\"\nquery = 'dup'\n"
	c, err := Parse("c.toml", []byte(src), noEnv)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	if c == nil || len(c.Rules) != 3 || c.Rules[0].Query != `strike AND "deep into Afghanistan"` {
		t.Fatalf("partial config: %+v", c)
	}
	if len(c.Problems) != 1 || c.Problems[0].Warning {
		t.Errorf("Config.Problems of a failed load: %v", c.Problems)
	}
	// Not TOML at all: nothing to return.
	if c, err := Parse("c.toml", []byte("[[feeds]\n"), noEnv); c != nil || err == nil {
		t.Errorf("syntax error: config %v, err %v", c, err)
	}
}

// TestParseStopsWhenCancelled: loading gives up with the context's error.
func TestParseStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := ParseContext(ctx, "big.toml", manyRules(20000), noEnv)
	if c != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: config %v, err %v", c != nil, err)
	}
}

// TestQueryPosition: an offset in a decoded query maps to where that
// character is in the file, for every way to quote a query.
func TestQueryPosition(t *testing.T) {
	src := "[[rules]]\n" +
		"name = \"literal\"\n" +
		"query = '''\n(talks OR negotiations)\nNEAR/8 (fail* OR collapse)\n  AND (Pakistan OR Afghanistan'''\n" +
		"\n[[rules]]\n" +
		"name = \"basic\"\n" +
		"query = \"\"\"\nCASE(\\\"UN\\\") AND Türkiye \\\n    AND \\u00e9lan OR Kabul\n\tNEAR/3 (talks OR x)\"\"\"\n" +
		"\n[[rules]]\n" +
		"name = \"one line\"\n" +
		"query = \"\\\"deep into\\\" Afghanistan AND Asif\"\n"
	c, err := Parse("c.toml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule, word string // word occurs once in the decoded query
		inFile     string // how it is written in the file
		nth        int    // which occurrence of inFile in the file
	}{
		{"literal", "(talks", "(talks", 0},
		{"literal", "collapse", "collapse", 0},
		{"literal", "Afghanistan", "Afghanistan", 0},
		{"basic", "CASE", "CASE", 0},
		{"basic", "Türkiye", "Türkiye", 0},
		{"basic", "AND élan", "AND \\u00e9lan", 0},
		{"basic", "Kabul", "Kabul", 0},
		{"basic", "NEAR/3", "NEAR/3", 0},
		{"one line", "Afghanistan", "Afghanistan", 1},
		{"one line", "Asif", "Asif", 0},
	} {
		var r Rule
		for _, x := range c.Rules {
			if x.Name == tc.rule {
				r = x
			}
		}
		off := strings.Index(r.Query, tc.word)
		if off < 0 {
			t.Fatalf("%q not in %q", tc.word, r.Query)
		}
		at := 0
		for range tc.nth + 1 {
			at += strings.Index(src[at:], tc.inFile) + 1
		}
		at--
		wantLine := 1 + strings.Count(src[:at], "\n")
		wantCol := 1 + utf8.RuneCountInString(src[strings.LastIndexByte(src[:at], '\n')+1:at])
		if line, col := c.QueryPosition(r, off); line != wantLine || col != wantCol {
			t.Errorf("%s: %q at %d:%d, want %d:%d", tc.rule, tc.word, line, col, wantLine, wantCol)
		}
	}
}

// TestLineIndex: line and column for any offset, in any order, agree with
// counting from the start of the file.
func TestLineIndex(t *testing.T) {
	src := []byte("ab\nçé\n\n" + strings.Repeat("x€", 300) + "\nend")
	x := newLineIndex(src)
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		off := r.IntN(len(src) + 1)
		for off < len(src) && !utf8.RuneStart(src[off]) {
			off--
		}
		line := 1 + strings.Count(string(src[:off]), "\n")
		col := 1 + utf8.RuneCount(src[strings.LastIndexByte(string(src[:off]), '\n')+1:off])
		if l, c := x.at(off); l != line || c != col {
			t.Fatalf("at(%d) = %d:%d, want %d:%d", off, l, c, line, col)
		}
	}
}
