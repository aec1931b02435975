package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store/postgres"
)

// Issue 12's end-to-end tests of clean story threads and the breaking
// signal: the real binary, loopback feed servers serving the feed files in
// testdata, the real SQLite file and the fake Slack on a real port.

// exampleRulesTo returns the [[rules]] of config.example.toml routed as
// routes says (rule name -> channel); rules not in routes are left out.
func exampleRulesTo(t *testing.T, routes map[string]string) string {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "config.example.toml"), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	var b strings.Builder
	n := 0
	for _, r := range cfg.Rules {
		ch, ok := routes[r.Name]
		if !ok {
			continue
		}
		n++
		q, _ := json.Marshal(r.Query)
		fmt.Fprintf(&b, "\n[[rules]]\nname = %q\nquery = %s\nchannels = [%q]\n", r.Name, q, ch)
	}
	if n != len(routes) {
		t.Fatalf("config.example.toml has %d of the rules %v", n, routes)
	}
	return b.String()
}

// feedsConfig is one [[feeds]] table per (name, url) pair.
func feedsConfig(feeds ...[2]string) string {
	var b strings.Builder
	for _, f := range feeds {
		fmt.Fprintf(&b, "\n[[feeds]]\nname = %q\nurl = %q\n", f[0], f[1])
	}
	return b.String()
}

// messageText is what a reader sees of a message: its blocks' text, or its
// text when it has no blocks.
func messageText(m slackfake.Message) string {
	if len(m.Blocks) > 0 {
		return slackfake.BlocksText(m.Blocks)
	}
	return m.Text
}

// topWith returns the top-level messages of ch whose text contains s.
func topWith(s *slackfake.Server, ch, text string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range s.TopLevel(ch) {
		if strings.Contains(messageText(m)+m.Text, text) {
			out = append(out, m)
		}
	}
	return out
}

// TestStoryRewordedByThreeOutlets: Dawn, Reuters and Al Jazeera report the
// collapse of the Istanbul talks each in their own words (as they did, in
// that order); Dawn also reports a different story about the same parties
// (transit trade negotiations with Kabul stall). Al Jazeera's report joins
// Dawn's alert as a reply naming its outlet and rule, and the alert says "2
// outlets since …"; the trade story is an alert of its own.
//
// Reuters' report is a measured limit of the method, kept here so a change
// that fixes it (or breaks the rest) shows: on a fresh install, with only
// these items in the window, its similarity to Dawn's report is 0.43 with
// every word weighing the same and below the 0.41 threshold once Dawn's own
// words weigh less than words no story has yet; it opens an alert of its
// own (README, "Measured limits"). With 10 to 44 unrelated stories in the
// window before them it still does: the reports share the event's names
// but few of its words.
func TestStoryRewordedByThreeOutlets(t *testing.T) {
	reuters, _ := feedServer(t, "talks-reuters.rss")
	aje, _ := feedServer(t, "talks-aljazeera.rss")
	dawn, _ := feedServer(t, "talks-dawn.rss")
	slack := slackfake.New()
	defer slack.Close()
	dir := t.TempDir()
	head := fmt.Sprintf("[store]\npath = %q\n[slack]\ntoken = \"xoxb-story\"\napi_url = %q\ninterval = \"20ms\"\n[fetch]\nallow_private = true\n",
		filepath.Join(dir, "state.db"), slack.APIURL())
	rules := exampleRulesTo(t, map[string]string{"Talks collapse": "#desk"})
	// The reports come in the order the outlets published them (Dawn
	// 02:40, Reuters 04:10, Al Jazeera 05:25 UTC): the desk's feeds are
	// polled as each report appears, the last run again with nothing new.
	published := [][2]string{{"Dawn", dawn.URL}, {"Reuters", reuters.URL}, {"Al Jazeera", aje.URL}}
	for n := 1; n <= len(published)+1; n++ {
		cfgPath := writeConfig(t, dir, head+feedsConfig(published[:min(n, len(published))]...)+rules)
		if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
			t.Fatalf("once with %d outlets: exit %d\n%s", n, code, stderr)
		}
	}
	all := slack.MessagesIn("desk")
	dump := func() string {
		var b strings.Builder
		for _, m := range all {
			fmt.Fprintf(&b, "  ts=%s thread=%s: %q\n", m.TS, m.ThreadTS, messageText(m))
		}
		return b.String()
	}

	// (b) A different story about the same parties is an alert of its own.
	if trade := topWith(slack, "desk", "Transit trade negotiations"); len(trade) != 1 {
		t.Fatalf("%d top-level alerts for the transit trade story, want 1:\n%s", len(trade), dump())
	}
	for _, m := range all {
		if m.ThreadTS != "" && strings.Contains(messageText(m), "Transit trade") {
			t.Errorf("the transit trade story was threaded under another story: %q", messageText(m))
		}
	}

	// (a) The talks story: Dawn's alert, Al Jazeera's reply in its thread
	// naming outlet and rule, "2 outlets since" on the alert; Reuters' report
	// is the limit described above: an alert of its own, never a reply
	// elsewhere.
	talksTop := topWith(slack, "desk", "Istanbul talks with Kabul fail")
	if len(talksTop) != 1 {
		t.Fatalf("%d top-level alerts for Dawn's report of the talks, want 1:\n%s", len(talksTop), dump())
	}
	talks := talksTop[0]
	replies := slack.Replies("desk", talks.TS)
	if len(replies) != 1 {
		t.Fatalf("%d replies in the talks story's thread, want 1 (Al Jazeera):\n%s", len(replies), dump())
	}
	if txt := messageText(replies[0]); !strings.HasPrefix(txt, "Also reported by *Al Jazeera*") || !strings.Contains(txt, "Rule: Talks collapse") {
		t.Errorf("the reply does not name its outlet and rule: %q", txt)
	}
	p, _ := slack.Message("desk", talks.TS)
	if p.Updates == 0 || !regexp.MustCompile(`2 outlets since \d\d:\d\d UTC: also reported by Al Jazeera`).MatchString(messageText(p)) {
		t.Errorf("the story's alert does not say 2 outlets since when (%d updates): %q", p.Updates, messageText(p))
	}
	if top := slack.TopLevel("desk"); len(top) != 3 {
		t.Errorf("%d top-level alerts in #desk, want 3 (the talks, Reuters' report of them, the trade story):\n%s", len(top), dump())
	}
	for _, m := range all {
		if m.ThreadTS != "" && strings.Contains(messageText(m), "Reuters") {
			t.Errorf("Reuters' report is a reply in a thread: %q", messageText(m))
		}
	}
}

// TestItemMatchingTwoRules: The Express Tribune's report matches both
// "Cross-border strikes" and "Talks collapse", both routed to #desk: one
// message, which says "Also matches rule Talks collapse"; Geo's report of
// the same story, matching both as well, is one reply naming both rules.
// Standard output says the same.
func TestItemMatchingTwoRules(t *testing.T) {
	tribune, _ := feedServer(t, "story-tribune.rss")
	geo, _ := feedServer(t, "story-geo.rss")
	rules := exampleRulesTo(t, map[string]string{"Cross-border strikes": "#desk", "Talks collapse": "#desk"})
	feeds := feedsConfig([2]string{"The Express Tribune", tribune.URL}, [2]string{"Geo News", geo.URL})

	t.Run("slack", func(t *testing.T) {
		slack := slackfake.New()
		defer slack.Close()
		dir := t.TempDir()
		cfgPath := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[slack]\ntoken = \"xoxb-story\"\napi_url = %q\ninterval = \"20ms\"\n[fetch]\nallow_private = true\n",
			filepath.Join(dir, "state.db"), slack.APIURL())+feeds+rules)
		if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
			t.Fatalf("once: exit %d\n%s", code, stderr)
		}
		all := slack.MessagesIn("desk")
		var texts []string
		for _, m := range all {
			texts = append(texts, fmt.Sprintf("thread=%q %q", m.ThreadTS, messageText(m)))
		}
		top := slack.TopLevel("desk")
		if len(top) != 1 {
			t.Fatalf("%d top-level messages, want 1 (one story, one alert):\n%s", len(top), strings.Join(texts, "\n"))
		}
		first := messageText(top[0])
		if !strings.Contains(first, "Rule: Cross-border strikes") || !strings.Contains(first, "Also matches rule *Talks collapse*") {
			t.Errorf("the alert does not name both rules: %q", first)
		}
		if ids := payloadAlertIDs(top[0]); len(ids) != 2 {
			t.Errorf("the alert carries %d alert ids in its metadata, want the item's 2 (one per rule)", len(ids))
		}
		replies := slack.Replies("desk", top[0].TS)
		if len(replies) != 1 || len(all) != 2 {
			t.Fatalf("%d replies (%d messages in all), want 1 reply for the other outlet's item, however many rules it matched:\n%s", len(replies), len(all), strings.Join(texts, "\n"))
		}
		if r := messageText(replies[0]); !strings.HasPrefix(r, "Also reported by ") || !strings.Contains(r, "Rules: Cross-border strikes and Talks collapse") {
			t.Errorf("the reply does not name its outlet and both rules: %q", r)
		}
		if p := messageText(top[0]); !strings.Contains(p, "2 outlets since ") || !strings.Contains(p, "Also matches rule *Talks collapse*") {
			t.Errorf("the updated alert lost its rules or does not count its outlets: %q", p)
		}
		// Every alert (2 items x 2 rules) is recorded as delivered.
		stdout, stderr, code := wirewatch(t, nil, "explain", "-config", cfgPath, "tribune-1")
		if code != 0 || strings.Count(stdout, "sent") < 2 {
			t.Errorf("explain tribune-1: exit %d, want both alerts sent:\n%s%s", code, stdout, stderr)
		}
	})

	t.Run("stdout", func(t *testing.T) {
		dir := t.TempDir()
		cfgPath := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[fetch]\nallow_private = true\n", filepath.Join(dir, "state.db"))+feeds+rules)
		stdout, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath)
		if code != 0 {
			t.Fatalf("once: exit %d\n%s", code, stderr)
		}
		blocks := strings.Split(strings.TrimSpace(stdout), "\n\n")
		if len(blocks) != 2 {
			t.Fatalf("stdout has %d entries, want 2 (the alert and one line for the other outlet):\n%s", len(blocks), stdout)
		}
		if !strings.Contains(blocks[0], "Also matches rule Talks collapse") {
			t.Errorf("the alert does not say it also matches the other rule:\n%s", blocks[0])
		}
		if !regexp.MustCompile(`^\[#desk\] also reported by (Geo News|The Express Tribune) \(rules: Cross-border strikes and Talks collapse\): .* — 2 outlets since \d\d:\d\d UTC$`).MatchString(blocks[1]) {
			t.Errorf("the other outlet's line does not say what Slack's reply and parent say:\n%s", blocks[1])
		}
	})
}

// payloadAlertIDs are the alert ids in a message's metadata.
func payloadAlertIDs(m slackfake.Message) []string {
	if list, ok := m.Payload["alert_ids"].(string); ok && list != "" {
		return strings.Split(list, ",")
	}
	if id, ok := m.Payload["alert_id"].(string); ok {
		return []string{id}
	}
	return nil
}

// stagedFeed serves a feed file from testdata (pubDates moved to now) once
// released, and an empty feed of the same outlet before.
func stagedFeed(t *testing.T, file string) (*httptest.Server, func()) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	empty := regexp.MustCompile(`(?s)<item>.*</item>`).ReplaceAll(raw, nil)
	var released atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		if !released.Load() {
			w.Write(empty)
			return
		}
		w.Write(regexp.MustCompile(`<pubDate>[^<]*</pubDate>`).ReplaceAll(raw, []byte("<pubDate>"+time.Now().UTC().Format(time.RFC1123Z)+"</pubDate>")))
	}))
	t.Cleanup(srv.Close)
	return srv, func() { released.Store(true) }
}

// TestBreakingStory: five outlets publish one story at staggered times,
// polled by the daemon. With #desk's threshold at 4 outlets in 60 min,
// the story's alert says nothing of breaking news after three reports,
// "Breaking: 4 outlets in …" after the fourth (and 5 after the fifth), and
// exactly one message goes to the escalation channel.
func TestBreakingStory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon through five staggered polls")
	}
	names := []string{"AP", "AFP", "The Express Tribune", "Al Jazeera", "Geo News"}
	var urls []string
	var release []func()
	for i := range names {
		srv, rel := stagedFeed(t, fmt.Sprintf("breaking-%d.rss", i+1))
		urls = append(urls, srv.URL)
		release = append(release, rel)
	}
	d, _ := startDaemonWith(t, func(state, addr, slackURL string) string {
		var feeds strings.Builder
		for i, n := range names {
			fmt.Fprintf(&feeds, "\n[[feeds]]\nname = %q\nurl = %q\nevery = \"1s\"\n", n, urls[i])
		}
		return fmt.Sprintf(`[store]
path = %q
[http]
listen = %q
[slack]
token = "xoxb-breaking"
api_url = %q
interval = "20ms"
[fetch]
allow_private = true
[monitor]
min_poll_interval = "1s"

[[channels]]
name = "#desk"
breaking_outlets = 4
breaking_within = "60m"
escalate_to = "#breaking"
`, state, addr, slackURL) + feeds.String() + exampleRulesTo(t, map[string]string{"Cross-border strikes": "#desk"})
	})
	s := d.slack
	delivered := func(n int) func() bool {
		return func() bool { return len(s.MessagesIn("desk")) >= n }
	}
	parent := func() slackfake.Message {
		top := s.TopLevel("desk")
		if len(top) == 0 {
			return slackfake.Message{}
		}
		p, _ := s.Message("desk", top[0].TS)
		return p
	}
	for i := range 3 {
		release[i]()
		d.waitFor(fmt.Sprintf("report %d of the story", i+1), delivered(i+1))
	}
	d.waitFor("the story's alert to count 3 outlets", func() bool { return strings.Contains(messageText(parent()), "3 outlets since") })
	if top := s.TopLevel("desk"); len(top) != 1 {
		t.Fatalf("%d top-level alerts after three reports, want 1", len(top))
	}
	if p := messageText(parent()); strings.Contains(p, "Breaking") {
		t.Errorf("breaking after three outlets (threshold 4): %q", p)
	}
	if n := len(s.MessagesIn("breaking")); n != 0 {
		t.Errorf("%d escalation messages after three outlets, want none", n)
	}

	release[3]()
	d.waitFor("the story's alert to say it is breaking", func() bool {
		return regexp.MustCompile(`Breaking: 4 outlets (in \d+ min|within a minute)`).MatchString(messageText(parent()))
	})
	d.waitFor("the escalation message", func() bool { return len(s.MessagesIn("breaking")) > 0 })
	release[4]()
	d.waitFor("the fifth report and the alert's update", func() bool {
		return len(s.MessagesIn("desk")) == 5 && strings.Contains(messageText(parent()), "Breaking: 5 outlets")
	})
	esc := s.MessagesIn("breaking")
	if len(esc) != 1 {
		t.Fatalf("%d messages in the escalation channel, want exactly 1", len(esc))
	}
	if txt := messageText(esc[0]); !strings.Contains(txt, "Breaking in #desk: 4 outlets") || !strings.Contains(txt, "Kabul") {
		t.Errorf("the escalation message does not say what broke where: %q", txt)
	}
	if got := d.metric("wirewatch_stories_breaking_total"); got != 1 {
		t.Errorf("wirewatch_stories_breaking_total = %v, want 1", got)
	}
	if top := s.TopLevel("desk"); len(top) != 1 || len(s.Replies("desk", top[0].TS)) != 4 {
		t.Errorf("want one alert with four replies in #desk; got %d top-level", len(top))
	}
	ids := payloadAlertIDs(esc[0])
	if len(ids) != 1 || slices.Contains(payloadAlertIDs(s.TopLevel("desk")[0]), ids[0]) {
		t.Errorf("the escalation message carries alert ids %v, want one of its own", ids)
	}
}

// TestBreakingStoryReplicas: three `wirewatch run` processes share one
// PostgreSQL database while five outlets publish one story at staggered
// times, two of them at once; one replica is killed with SIGKILL just
// after the story crossed its threshold (3 outlets). The rule routes to two
// channels, each with its own story: each story's escalation message
// reaches #breaking exactly once, and every alert is in Slack once.
func TestBreakingStoryReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three daemons")
	}
	pgURL := pgSchemaURL(t)
	names := []string{"AP", "AFP", "The Express Tribune", "Al Jazeera", "Geo News"}
	var feeds strings.Builder
	var release []func()
	for i, n := range names {
		srv, rel := stagedFeed(t, fmt.Sprintf("breaking-%d.rss", i+1))
		release = append(release, rel)
		fmt.Fprintf(&feeds, "\n[[feeds]]\nname = %q\nurl = %q\nschedule = \"@every 1s\"\n", n, srv.URL)
	}
	slack := slackfake.New()
	defer slack.Close()
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
postgres = %q
[slack]
token = "xoxb-replicas"
api_url = %q
interval = "20ms"
lease = "3s"
[fetch]
timeout = "2s"
allow_private = true
[monitor]
min_poll_interval = "1s"
[breaking]
outlets = 3
within = "60m"
escalate_to = "#breaking"
`, pgURL, slack.APIURL())+feeds.String()+strings.ReplaceAll(
		exampleRulesTo(t, map[string]string{"Cross-border strikes": "#desk-a"}), `channels = ["#desk-a"]`, `channels = ["#desk-a", "#desk-b"]`))
	if _, stderr, code := wirewatch(t, nil, "migrate", "-config", cfgPath); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	logs := make([]string, 3)
	var procs []*exec.Cmd
	for i := range 3 {
		logs[i] = filepath.Join(dir, fmt.Sprintf("replica%d.log", i))
		logf, err := os.Create(logs[i])
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		procs = append(procs, startRun(t, cfgPath, logf))
	}
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	waitSlack := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				for i, l := range logs {
					b, _ := os.ReadFile(l)
					t.Logf("replica %d log tail:\n%s", i, tail(string(b), 15))
				}
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	reports := func(n int) func() bool {
		return func() bool { return len(slack.MessagesIn("desk-a")) >= n && len(slack.MessagesIn("desk-b")) >= n }
	}
	release[0]()
	waitSlack("the first report", reports(1))
	release[1]()
	waitSlack("the second report", reports(2))
	// Two outlets at once: either crosses the threshold.
	release[2]()
	release[3]()
	waitSlack("the escalation of both channels' stories", func() bool { return len(slack.MessagesIn("breaking")) >= 2 })
	procs[0].Process.Signal(syscall.SIGKILL)
	procs[0].Wait()
	release[4]()
	waitSlack("every report", reports(5))

	st, err := postgres.Open(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitAllSent(t, st, 2*len(names)+2, 30*time.Second, logs[1])
	for _, p := range procs[1:] {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs[1:] {
		p.Wait()
	}
	procs = nil

	esc := slack.MessagesIn("breaking")
	if len(esc) != 2 {
		t.Fatalf("%d messages in #breaking, want 2 (one per channel's story)", len(esc))
	}
	for _, ch := range []string{"#desk-a", "#desk-b"} {
		n := 0
		for _, m := range esc {
			if strings.Contains(messageText(m), "Breaking in "+ch+": ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d escalation messages for %s's story, want 1", n, ch)
		}
	}
	for _, ch := range []string{"desk-a", "desk-b"} {
		if top := slack.TopLevel(ch); len(top) != 1 || len(slack.Replies(ch, top[0].TS)) != len(names)-1 {
			t.Errorf("%s: want one alert with %d replies", ch, len(names)-1)
		}
	}
	ids := alertIDs(slack)
	if len(ids) != 2*len(names)+2 {
		t.Errorf("Slack has %d distinct alerts, want %d (5 reports in 2 channels and 2 escalations)", len(ids), 2*len(names)+2)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
}
