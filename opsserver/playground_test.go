package opsserver_test

import (
	"context"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/rules"
)

// wire stores the test wires of ../backtest/testdata (the reference
// article among near misses, and one story told by three outlets) as seen
// over the last days, plus an item whose title is an HTML injection.
func wire(t *testing.T, now time.Time) *backtest.Memory {
	t.Helper()
	m := &backtest.Memory{}
	files, err := filepath.Glob(filepath.Join("..", "backtest", "testdata", "*.rss"))
	if err != nil || len(files) < 4 {
		t.Fatalf("test wires: %v %v", files, err)
	}
	n := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := parse.Parse(body, mime.TypeByExtension(".rss"), "https://example.org/feed")
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			n++
			m.Add(filepath.Base(f), it.ID, now.Add(-time.Duration(n)*7*time.Hour), itemtext.Text{Title: it.Title, Summary: it.Summary, Content: it.Content, Feed: doc.Title, Link: it.Link, Published: it.Published})
		}
	}
	m.Add("hostile", "1", now.Add(-time.Hour), itemtext.Text{Title: `<script>alert(1)</script> Pakistan strike "deep into Afghanistan"`, Feed: `<b>Hostile</b>`, Link: "javascript:alert(1)"})
	return m
}

func startPlayground(t *testing.T, src backtest.Source, o opsserver.Options) *opsserver.Server {
	t.Helper()
	o.Texts, o.TextWindow = src, 7*24*time.Hour
	s := startServer(t, o)
	s.SetConfig(opsserver.ConfigInfo{Path: "wirewatch.toml", LoadedAt: time.Now(), RuleQueries: []opsserver.RuleQuery{{Name: "Cross-border strikes", Query: `Pakistan AND strike NEAR/10 "deep into"`}}})
	return s
}

func tryURL(s *opsserver.Server, path, q, against string) string {
	v := url.Values{"q": {q}}
	if against != "" {
		v.Set("against", against)
	}
	return "http://" + s.Addr() + path + "?" + v.Encode()
}

func TestPlaygroundPageAndAssets(t *testing.T) {
	s := startPlayground(t, wire(t, time.Now()), opsserver.Options{})
	code, h, body := get(t, tryURL(s, "/try", `"deep into Afghanistan"`, ""))
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("/try: %d %s", code, h.Get("Content-Type"))
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || regexp.MustCompile(`<script>[^<]`).MatchString(body) || strings.Contains(body, " style=") || strings.Contains(body, "<style") {
		t.Errorf("the page has inline script or style, or the CSP allows it")
	}
	// Without JavaScript, the page itself shows the results (a GET form).
	if !strings.Contains(body, `id="summary" data-matched="`) || !strings.Contains(body, "<mark>deep into Afghanistan</mark>") {
		t.Errorf("the page does not show the results of its query:\n%s", body)
	}
	if !strings.Contains(body, `<option value="Pakistan AND strike NEAR/10 &#34;deep into&#34;">Cross-border strikes</option>`) {
		t.Errorf("the configured rules are not offered")
	}
	for path, ct := range map[string]string{"/try.js": "text/javascript", "/try.css": "text/css"} {
		code, h, body := get(t, "http://"+s.Addr()+path)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), ct) || len(body) < 100 {
			t.Errorf("%s: %d %s, %d bytes", path, code, h.Get("Content-Type"), len(body))
		}
	}
}

func TestPlaygroundResults(t *testing.T) {
	now := time.Now()
	src := wire(t, now)
	s := startPlayground(t, src, opsserver.Options{})
	q := `Pakistan AND (strike OR talks)`
	_, _, body := get(t, tryURL(s, "/try/results", q, ""))
	r := compileRule(t, q)
	sum, err := backtest.Run(context.Background(), src, r, backtest.Options{Since: now.Add(-7 * 24 * time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Matched < 3 || !strings.Contains(body, `data-matched="`+itoa(sum.Matched)+`"`) {
		t.Fatalf("the playground does not show the backtest's %d matches:\n%s", sum.Matched, body)
	}
	if got := strings.Count(body, `<li class="match`); got != sum.Matched {
		t.Errorf("%d matches listed, want %d", got, sum.Matched)
	}
	if strings.Count(body, `<g class="day"`) < 7 || !strings.Contains(body, "<svg") {
		t.Errorf("no chart of the days")
	}
	// Feed text is escaped, and only http(s) links are links.
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>Hostile") || strings.Contains(body, `href="javascript:`) {
		t.Errorf("hostile feed text reached the page unescaped:\n%s", body)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile title is not shown as text")
	}
	// Stories of several reports: the three outlets.
	if !strings.Contains(body, `id="stories"`) || !strings.Contains(body, "3 reports from 3 feeds") {
		t.Errorf("the story of three outlets is not shown:\n%s", body)
	}

	// Comparison: the items only one version matches.
	_, _, body = get(t, tryURL(s, "/try/results", `Pakistan AND (strike OR talks) NOT (cricket OR IMF)`, q))
	if !strings.Contains(body, `class="match removed"`) || !strings.Contains(body, "Pakistan&#39;s IMF talks") || strings.Contains(body, `class="match added"`) {
		t.Errorf("the comparison does not list the IMF item as dropped:\n%s", body)
	}

	// check's warnings.
	_, _, body = get(t, tryURL(s, "/try/results", `Pakistan or India`, ""))
	if !strings.Contains(body, `id="warnings"`) || !strings.Contains(body, "OR") {
		t.Errorf("no warning about a lowercase operator:\n%s", body)
	}
}

func TestPlaygroundShowsTheErrorAtItsPlace(t *testing.T) {
	s := startPlayground(t, wire(t, time.Now()), opsserver.Options{})
	for _, c := range []struct{ q, line, col, at string }{
		{"(Pakistan AND strike", "1", "1", "("},
		{"Pakistan AND\nstrike NEAR/99 border", "2", "8", "N"},
		{`"deep into`, "1", "1", `"`},
	} {
		_, _, body := get(t, tryURL(s, "/try/results", c.q, ""))
		want := `data-line="` + c.line + `" data-col="` + c.col + `"`
		if !strings.Contains(body, want) {
			t.Errorf("%q: error not at line %s col %s:\n%s", c.q, c.line, c.col, body)
			continue
		}
		if !strings.Contains(body, `<mark class="at">`+template(c.at)+`</mark>`) {
			t.Errorf("%q: the place is not marked at %q:\n%s", c.q, c.at, body)
		}
	}
	// The other version's errors too.
	_, _, body := get(t, tryURL(s, "/try/results", "Pakistan", "Pakistan AND ("))
	if !strings.Contains(body, "Other version, line 1") {
		t.Errorf("the other version's error is not shown:\n%s", body)
	}
}

func template(s string) string { return strings.ReplaceAll(s, `"`, "&#34;") }

// slowSource is a Source whose reads wait on a gate, recording the runs
// their caller cancelled.
type slowSource struct {
	src      backtest.Source
	mu       sync.Mutex
	started  int
	canceled int
	gate     chan struct{}
}

func (s *slowSource) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	s.mu.Lock()
	s.started++
	gate := s.gate
	s.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		s.mu.Lock()
		s.canceled++
		s.mu.Unlock()
		return ctx.Err()
	}
	return s.src.ItemTexts(ctx, since, fn)
}

func (s *slowSource) counts() (started, canceled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started, s.canceled
}

func TestPlaygroundDeadline(t *testing.T) {
	slow := &slowSource{src: wire(t, time.Now()), gate: make(chan struct{})}
	s := startPlayground(t, slow, opsserver.Options{TryTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, _, body := get(t, tryURL(s, "/try/results", "Pakistan", ""))
	if time.Since(start) > 5*time.Second || !strings.Contains(body, "Stopped at the deadline") {
		t.Fatalf("a slow store is not cut at the deadline (%v):\n%s", time.Since(start), body)
	}
	if _, canceled := slow.counts(); canceled != 1 {
		t.Fatalf("%d runs stopped", canceled)
	}
}

func TestPlaygroundWithoutTexts(t *testing.T) {
	s := startServer(t, opsserver.Options{})
	_, _, body := get(t, tryURL(s, "/try/results", "Pakistan", ""))
	if !strings.Contains(body, "keeps no item texts") {
		t.Fatalf("no explanation without stored texts:\n%s", body)
	}
	// The parse error still shows: the page is useful to write a rule.
	_, _, body = get(t, tryURL(s, "/try/results", "Pakistan AND (", ""))
	if !strings.Contains(body, `class="error" id="error"`) {
		t.Fatalf("no parse error without stored texts:\n%s", body)
	}
}

func compileRule(t *testing.T, q string) []*rules.Rule {
	t.Helper()
	r, err := rules.Compile("q", q)
	if err != nil {
		t.Fatal(err)
	}
	return []*rules.Rule{r}
}

func itoa(n int) string { return strconv.Itoa(n) }
