package main

import (
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
		// Everything Slack will render: the fallback text and every string
		// inside the blocks, decoded from the form and from JSON.
		texts := []string{m.Text}
		if len(m.Blocks) > 0 { // thread replies (later reports of a story) are text only
			var blocks any
			if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
				t.Fatalf("blocks: %v", err)
			}
			texts = append(texts, stringsIn(blocks)...)
		}
		all := strings.Join(texts, "\n")
		for _, bad := range []string{"<!", "<@", "<#"} {
			if strings.Contains(all, bad) {
				t.Errorf("message contains raw %q:\n%s", bad, all)
			}
		}
		if strings.Contains(all, "|Read the official statement>") {
			t.Errorf("feed text became a Slack link with a misleading label:\n%s", all)
		}
		if strings.Contains(all, "&lt;!channel&gt;") {
			escaped++
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

// stringsIn returns every string value in a decoded JSON document.
func stringsIn(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, stringsIn(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, stringsIn(e)...)
		}
		return out
	}
	return nil
}
