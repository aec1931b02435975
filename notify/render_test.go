package notify

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// hostile is feed text trying every way to ping, link or break out.
var hostile = []string{
	"<!channel> Breaking: <!here> <!everyone> <@U123ABC> <#C0123|general> <https://evil.example|click> <!subteam^S123>",
	"Tom & Jerry > Itchy & Scratchy < Simpsons",
	"&lt;!channel&gt; pre-escaped <!date^1392734382^{date}|x>",
	"\x1b[31mred\x1b[0m \u202eevil\u202c",
}

// strings of a JSON document, decoded.
func jsonStrings(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("bad JSON %s: %v", raw, err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// assertInert fails if any decoded string could ping or link from feed text.
func assertInert(t *testing.T, where string, ss []string) {
	t.Helper()
	for _, s := range ss {
		for _, bad := range []string{"<!", "<@", "<#", "<https://evil", "|click>", "\x1b", "\u202e"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: %q contains raw %q", where, s, bad)
			}
		}
		// Every "<" left must be a link we built: "<http(s)://…|label>".
		for i := strings.IndexByte(s, '<'); i >= 0; {
			rest := s[i:]
			if !strings.HasPrefix(rest, "<https://news.example/") {
				t.Errorf("%s: unexpected '<' in %q", where, s)
				break
			}
			j := strings.IndexByte(rest[1:], '<')
			if j < 0 {
				break
			}
			i += j + 1
		}
	}
}

func hostileAlert(title, snippet string) store.Alert {
	return store.Alert{
		ID: "x", Kind: store.KindItem, Channel: "#desk",
		FeedName: "Feed <!channel> & co", Rule: "rule <@U1>",
		Title: title, Link: "https://news.example/a?b=1&c=<!channel>|x",
		Published: time.Date(2026, 11, 24, 13, 5, 0, 0, time.UTC),
		Snippet:   snippet, Marks: [][2]int{{0, 5}},
	}
}

func TestRenderHostileTextIsInert(t *testing.T) {
	for _, h := range hostile {
		a := hostileAlert(h, h+" snippet "+h)
		text, blocks := Render(a)
		raw, err := json.Marshal(blocks)
		if err != nil {
			t.Fatal(err)
		}
		assertInert(t, "blocks", jsonStrings(t, raw))
		assertInert(t, "text", []string{text})

		gtext, gblocks, n := RenderGroup(false, []store.Alert{a, a})
		if n != 2 {
			t.Fatalf("group took %d of 2", n)
		}
		raw, _ = json.Marshal(gblocks)
		assertInert(t, "group blocks", jsonStrings(t, raw))
		assertInert(t, "group text", []string{gtext})

		var buf bytes.Buffer
		if err := WriteText(&buf, a); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(buf.String(), "\x1b\u202e") {
			t.Errorf("stdout output keeps control characters: %q", buf.String())
		}
	}
	_, blocks := Render(hostileAlert("@channel @here @Everyone look", "@channel"))
	raw, _ := json.Marshal(blocks)
	for _, s := range jsonStrings(t, raw) {
		for _, w := range []string{"@channel", "@here", "@Everyone"} {
			if strings.Contains(s, w) {
				t.Errorf("bare %s survives in %q", w, s)
			}
		}
	}
	ops, blocks := Render(store.Alert{Kind: store.KindOps, Text: "feed <!channel> is down & <@U1>"})
	if blocks != nil || ops != "feed &lt;!channel&gt; is down &amp; &lt;@U1&gt;" {
		t.Fatalf("ops render = %q %v", ops, blocks)
	}
}

func TestRenderEscapesAndLinks(t *testing.T) {
	a := hostileAlert("Tom & Jerry <!here>", "")
	text, blocks := Render(a)
	head := blocks[0].(*slack.SectionBlock).Text.Text
	want := "*<https://news.example/a?b=1&amp;c=%3C!channel%3E%7Cx|Tom &amp; Jerry &lt;!here&gt;>*"
	if head != want {
		t.Fatalf("headline\n got %s\nwant %s", head, want)
	}
	if !strings.Contains(text, "Tom &amp; Jerry &lt;!here&gt;") {
		t.Fatalf("fallback text %q not escaped", text)
	}
	btn := blocks[len(blocks)-1].(*slack.ActionBlock).Elements.ElementSet[0].(*slack.ButtonBlockElement)
	if btn.URL != "https://news.example/a?b=1&c=%3C!channel%3E%7Cx" || btn.Text.Text != "Open" {
		t.Fatalf("button %+v %q", btn, btn.URL)
	}
	for _, bad := range []string{"javascript:alert(1)", "ftp://x/y", "//no-scheme"} {
		a.Link = bad
		_, blocks := Render(a)
		raw, _ := json.Marshal(blocks)
		if strings.Contains(string(raw), "javascript") || strings.Contains(string(raw), "ftp:") || strings.Contains(string(raw), "\"button\"") {
			t.Errorf("link %q: rendered %s", bad, raw)
		}
	}
	if got := SafeURL("https://user:pw@host.example/x"); got != "https://host.example/x" {
		t.Errorf("SafeURL kept credentials: %q", got)
	}
}

func TestSnippetMarksInBold(t *testing.T) {
	s := "Troops exchanged fire across the LoC & shelled posts"
	i := strings.Index(s, "exchanged fire")
	j := strings.Index(s, "shelled")
	got := snippetMrkdwn(s, [][2]int{{j, j + len("shelled")}, {i, i + len("exchanged fire")}, {i, i + 3}, {-1, 4}, {10, 999}}, MaxSectionText)
	want := "Troops *exchanged fire* across the LoC &amp; *shelled* posts"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// A mark over spaces keeps the stars against the words; one inside a
	// multi-byte rune is moved to rune boundaries.
	s2 := "ab  héllo  cd"
	k := strings.Index(s2, "é")
	if got := snippetMrkdwn(s2, [][2]int{{2, 11}}, 3000); got != "ab *héllo* cd" {
		t.Fatalf("spaces in mark: %q", got)
	}
	if got := snippetMrkdwn(s2, [][2]int{{k + 1, k + 2}}, 3000); !utf8.ValidString(got) {
		t.Fatalf("invalid UTF-8 from mark inside a rune: %q", got)
	}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// checkLimits asserts Slack's limits on every block.
func checkLimits(t *testing.T, blocks []slack.Block) {
	t.Helper()
	if len(blocks) > MaxBlocks {
		t.Errorf("%d blocks", len(blocks))
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			if runes(b.Text.Text) > MaxHeaderText {
				t.Errorf("header %d runes", runes(b.Text.Text))
			}
		case *slack.SectionBlock:
			if runes(b.Text.Text) > MaxSectionText || !utf8.ValidString(b.Text.Text) {
				t.Errorf("section %d runes, valid %v", runes(b.Text.Text), utf8.ValidString(b.Text.Text))
			}
			checkEntities(t, b.Text.Text)
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if tx, ok := e.(*slack.TextBlockObject); ok && runes(tx.Text) > MaxContextText {
					t.Errorf("context %d runes", runes(tx.Text))
				}
			}
		case *slack.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				btn := e.(*slack.ButtonBlockElement)
				if runes(btn.Text.Text) > MaxButtonText || runes(btn.URL) > MaxURL {
					t.Errorf("button text %d url %d", runes(btn.Text.Text), runes(btn.URL))
				}
			}
		}
	}
}

// checkEntities fails on an "&" that does not start one of our entities
// (a truncation that cut one in half).
func checkEntities(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
			t.Errorf("broken entity at %q", rest[:min(10, len(rest))])
		}
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("Ünïcødé & <tag> 🙂 ", 2000)
	snippet := strings.Repeat("word & more ", 1000)
	var marks [][2]int
	for i := 0; i+4 < len(snippet); i += 12 {
		marks = append(marks, [2]int{i, i + 4})
	}
	a := store.Alert{
		Kind: store.KindItem, Title: long, FeedName: long, Rule: long,
		Link:    "https://news.example/" + strings.Repeat("a", 2900),
		Snippet: snippet, Marks: marks, Published: time.Now(),
	}
	text, blocks := Render(a)
	checkLimits(t, blocks)
	if runes(text) > maxFallback || !utf8.ValidString(text) {
		t.Errorf("fallback %d runes", runes(text))
	}
	checkEntities(t, text)
	for _, b := range blocks {
		if sb, ok := b.(*slack.SectionBlock); ok && strings.Count(sb.Text.Text, "*")%2 != 0 {
			t.Errorf("unbalanced bold in section ending %q", sb.Text.Text[len(sb.Text.Text)-40:])
		}
	}
	head := blocks[0].(*slack.SectionBlock).Text.Text
	if !strings.HasSuffix(head, "…>*") {
		t.Errorf("long title not cut with an ellipsis inside the link: %q", head[len(head)-20:])
	}

	// Too long a URL: no link, no button, never an error.
	a.Link = "https://news.example/" + strings.Repeat("b", 3100)
	_, blocks = Render(a)
	checkLimits(t, blocks)
	if _, ok := blocks[len(blocks)-1].(*slack.ActionBlock); ok {
		t.Error("button kept with a URL over the limit")
	}

	// A group of 300 long alerts: within limits, and it says how many it took.
	many := make([]store.Alert, 300)
	for i := range many {
		many[i] = a
	}
	gtext, gblocks, n := RenderGroup(true, many)
	checkLimits(t, gblocks)
	if n < 1 || n > maxGroupItems {
		t.Fatalf("group took %d", n)
	}
	if runes(gtext) > maxFallback {
		t.Errorf("group text %d runes", runes(gtext))
	}
	checkEntities(t, gtext)
	if h := gblocks[0].(*slack.HeaderBlock).Text.Text; !strings.HasPrefix(h, "Digest: ") {
		t.Errorf("digest header %q", h)
	}

	// Many short alerts: 40 per message.
	for i := range many {
		many[i] = store.Alert{Kind: store.KindItem, Title: "Short", Link: "https://news.example/s", Rule: "r"}
	}
	_, gblocks, n = RenderGroup(false, many)
	checkLimits(t, gblocks)
	if n != maxGroupItems {
		t.Errorf("group of short alerts took %d, want %d", n, maxGroupItems)
	}
}

func TestTruncationHelpers(t *testing.T) {
	if got := escTrunc("a&b", 5); got != "a&am…" && got != "a…" {
		// the entity must never be cut: "a&amp;b" is 7 runes, so it is "a…"
		t.Fatalf("escTrunc cut an entity: %q", got)
	}
	if got := escTrunc("a&b", 5); got != "a…" {
		t.Fatalf("escTrunc = %q", got)
	}
	if got := escTrunc("héllo", 5); got != "héllo" {
		t.Fatalf("escTrunc exact = %q", got)
	}
	if got := truncRunes("héllo wörld", 6); got != "héllo…" {
		t.Fatalf("truncRunes = %q", got)
	}
	if got := clean("  a\n\tb\x00c\u200b \x1b[1m "); got != "a bc [1m" {
		t.Fatalf("clean = %q", got)
	}
}

func FuzzRender(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, h, "https://news.example/x", 0, 3)
	}
	f.Add("héllo", "wörld 🙂 & <b>", "http://a/b|c", 1, 2)
	f.Fuzz(func(t *testing.T, title, snippet, link string, m0, m1 int) {
		a := store.Alert{Kind: store.KindItem, Title: title, Snippet: snippet, Link: link, FeedName: title, Rule: snippet,
			Marks: [][2]int{{m0, m1}, {m1, m0 + m1}}}
		text, blocks := Render(a)
		checkLimits(t, blocks)
		if !utf8.ValidString(text) {
			t.Fatal("invalid UTF-8 text")
		}
		raw, err := json.Marshal(blocks)
		if err != nil {
			t.Fatal(err)
		}
		prefix := "<" + strings.ReplaceAll(SafeURL(link), "&", "&amp;") + "|"
		for _, s := range append(jsonStrings(t, raw), text) {
			// The only '<' allowed opens the link we built.
			for i := 0; i < len(s); i++ {
				if s[i] == '<' && (SafeURL(link) == "" || !strings.HasPrefix(s[i:], prefix)) {
					t.Fatalf("raw '<' in %q", s)
				}
			}
		}
	})
}
