package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// TestExplain polls real-looking feeds once into a fake Slack and asks
// explain about items that met each fate: alerted (two rules, three
// channels, a story thread, a summary message), muted, matched nothing,
// backfilled; and about an item the store never saw.
func TestExplain(t *testing.T) {
	wire, _ := feedServer(t, "reference.rss")
	week := time.Now().Add(-7 * 24 * time.Hour).UTC().Format(time.RFC1123Z)
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Archive</title>
<item><title>Pakistani jets strike hideouts across the border in Afghanistan's Paktika</title><link>https://archive.example.org/paktika</link><guid>archive-1</guid><pubDate>%s</pubDate></item>
</channel></rss>`, week)
	}))
	defer old.Close()
	slack := slackfake.New()
	defer slack.Close()
	dir := t.TempDir()
	mute := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	cfg := writeConfig(t, dir, fmt.Sprintf(`[store]
path = %q
[slack]
token = "xoxb-explain"
api_url = %q
interval = "10ms"
group_after = 1
[fetch]
allow_private = true
[[feeds]]
name = "Test wire"
url = %q
[[feeds]]
name = "Archive"
url = %q

[[rules]]
name = "IMF"
query = "IMF"
channels = ["#business"]
mute_until = %s

[[rules]]
name = "Any strike"
query = "strike"
channels = ["#all-strikes"]
`, filepath.Join(dir, "state.db"), slack.APIURL(), wire.URL, old.URL, mute)+exampleRules(t))

	slack.Reject("diplomacy", "channel_not_found")
	var out, errb bytes.Buffer
	if code := run([]string{"once", "-config", cfg}, &out, &errb); code != 0 {
		t.Fatalf("once: exit %d\n%s", code, errb.String())
	}
	explain := func(args ...string) (string, int) {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(append([]string{"explain", "-config", cfg}, args...), &out, &errb)
		return out.String() + errb.String(), code
	}

	// The reference article, by its link as the feed gives it.
	got, code := explain("https://www.dawn.com/news/1952000/pakistan-will-strike-deep-into-afghanistan?utm_source=rss")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, got)
	}
	parent := slack.MessagesIn("desk-south-asia")
	if len(parent) != 1 {
		t.Fatalf("Slack #desk-south-asia: %+v, want one alert naming both rules", parent)
	}
	strikes := slack.MessagesIn("all-strikes")
	if len(strikes) != 1 {
		t.Fatalf("#all-strikes got %d messages, want one summary of the three strike items", len(strikes))
	}
	for _, want := range []string{
		"feed Test wire · id https://www.dawn.com/news/1952000",
		`OUTCOME  alerted: it matched "Any strike", "Cross-border strikes", "Talks collapse"`,
		"ALERTS   4",
		`#desk-south-asia · rule "Cross-border strikes" · sent `,
		"Slack ts " + parent[0].TS,
		`opened a story (the item matched rule "Talks collapse" of the channel too: one message names them all); its message is the thread for later reports; none has come`,
		`#desk-south-asia · rule "Talks collapse" · sent `,
		`joined the story opened by its alert for rule "Cross-border strikes"; in the same message, which names this rule too (ts ` + parent[0].TS + ")",
		`#diplomacy · rule "Talks collapse" · failed `,
		"(1 attempt): given up",
		"last error: slack: channel_not_found",
		`#all-strikes · rule "Any strike" · sent `,
		"Slack ts " + strikes[0].TS,
		"message: summarised: one message with 2 other alert(s) due at once for the channel (more than [slack] group_after)",
		"matched: title:Pakistan, title:strike",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explain of the reference article lacks %q:\n%s", want, got)
		}
	}

	// -json: the same, as one object.
	got, code = explain("-json", "https://www.dawn.com/news/1952000")
	var e explanation
	if err := json.Unmarshal([]byte(got), &e); err != nil || code != 0 {
		t.Fatalf("explain -json: exit %d, %v\n%s", code, err, got)
	}
	if e.Outcome != "alerted" || len(e.Alerts) != 4 || e.Alerts[0].SlackTS == "" || e.Alerts[0].Attempts != 1 || e.Alerts[0].SentAt == nil || len(e.Matches) != 3 {
		t.Errorf("explain -json: %+v", e)
	}

	for _, c := range []struct{ key, want string }{
		{"business-2003", `OUTCOME  not alerted: muted. It matched "IMF" (rule muted until ` + mute},
		{"weather-3004", "OUTCOME  not alerted: it matched no rule"},
		{"https://archive.example.org/paktika", "OUTCOME  not alerted: backfilled. It was published " + time.Now().Add(-7*24*time.Hour).UTC().Format("Mon 2 Jan 2006")},
		{"archive-1", "older than the backfill window then ([monitor] backfill or the feed's backfill; now 1d)"},
	} {
		got, code := explain(c.key)
		if code != 0 || !strings.Contains(got, c.want) || strings.Contains(got, "ALERTS") {
			t.Errorf("explain %s: exit %d, want %q and no alerts:\n%s", c.key, code, c.want, got)
		}
	}
	if got, code := explain("https://example.org/never-seen"); code != 1 || !strings.Contains(got, `no stored item has the link or GUID "https://example.org/never-seen"`) {
		t.Errorf("explain of an unknown item: exit %d\n%s", code, got)
	}
}

// A queued alert says whether it waits for a retry or is due and waits for
// delivery.
func TestExplainQueuedState(t *testing.T) {
	later, past := time.Now().Add(time.Hour), time.Now().Add(-time.Hour)
	if got := alertState(explainedAlert{State: "queued", Attempts: 2, NextAttempt: &later}); !strings.HasPrefix(got, "queued, next attempt ") || !strings.Contains(got, "(2 attempts)") {
		t.Errorf("retrying: %q", got)
	}
	if got := alertState(explainedAlert{State: "queued", NextAttempt: &past}); !strings.Contains(got, "due since") || !strings.Contains(got, "waiting for a running Wirewatch") {
		t.Errorf("due: %q", got)
	}
	if got := alertState(explainedAlert{State: "queued", Digest: "0 9 * * *", NextAttempt: &later}); !strings.HasPrefix(got, "queued for its digest at ") {
		t.Errorf("digest: %q", got)
	}
}
