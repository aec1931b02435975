package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// TestHostileFeedTextIsInert feeds titles and summaries built to ping or
// mislead a newsroom through the whole pipeline (feed server, fetch, parse,
// rules, outbox, Block Kit, Slack) and checks what reached Slack: no raw
// "<!", "<@" or "<#" from feed text, no link_names, no parse=full, and no
// link whose target came from feed text dressed in another label.
func TestHostileFeedTextIsInert(t *testing.T) {
	hostile := []string{
		`<!channel> strike on the border`,
		`&lt;!here&gt; strike: everyone look`,
		`strike &lt;@U0123ABC&gt; and &lt;#C0123ABC|general&gt;`,
		`strike &lt;https://evil.example/phish|Read the official statement&gt;`,
		`strike <b>bold</b> &amp;lt;!everyone&amp;gt; &amp;amp; more`,
		`strike <![CDATA[<!subteam^S123|@editors>]]>`,
	}
	var b strings.Builder
	for i, h := range hostile {
		fmt.Fprintf(&b, "<item><guid>h%d</guid><pubDate>%s</pubDate><title>%s</title><link>https://news.example.org/%d?x=&lt;!channel&gt;</link><description>%s &lt;!channel&gt; &lt;@U999&gt; in the summary</description></item>", i, time.Now().UTC().Format(time.RFC1123Z), h, i, h)
	}
	body := `<?xml version="1.0"?><rss version="2.0"><channel><title>&lt;!channel&gt; Wire</title>` + b.String() + `</channel></rss>`
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	defer feed.Close()

	slack := newSlackFake(t)
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[slack]
token = "xoxb-test"
api_url = %q
group_after = -1
interval = "10ms"
[fetch]
allow_private = true
[[feeds]]
name = "<!channel> Wire"
url = %q
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk"]
`, filepath.Join(dir, "state.db"), slack.APIURL(), feed.URL))
	if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
		t.Fatalf("once: exit %d: %s", code, stderr)
	}
	msgs := slack.Messages()
	if len(msgs) != len(hostile) {
		t.Fatalf("Slack got %d messages, want %d", len(msgs), len(hostile))
	}
	escaped := 0
	for _, m := range msgs {
		raw := string(m.RawBody)
		if strings.Contains(raw, "&lt;!channel&gt;") || strings.Contains(raw, "\\u0026lt;!channel\\u0026gt;") {
			escaped++
		}
		for _, bad := range []string{"<!", "<@", "<#", "\\u003c!", "\\u003c@", "\\u003c#", "%3C%21", "%3C%40", "%3C%23"} {
			if strings.Contains(raw, bad) {
				t.Errorf("posted body contains %q:\n%s", bad, raw)
			}
		}
		if strings.Contains(raw, "evil.example/phish|") {
			t.Errorf("feed text became a Slack link:\n%s", raw)
		}
		if m.Params.Get("link_names") == "true" || m.Params.Get("link_names") == "1" || m.Params.Get("parse") == "full" {
			t.Errorf("message sent with link_names/parse=full: %v", m.Params)
		}
	}
	// The words are still there for the reader, escaped.
	if escaped != len(msgs) {
		t.Errorf("%d of %d messages show the feed's <!channel> as escaped text", escaped, len(msgs))
	}
}

func newSlackFake(t *testing.T) *slackfake.Server {
	t.Helper()
	s := slackfake.New()
	t.Cleanup(s.Close)
	return s
}
