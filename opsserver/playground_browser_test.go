package opsserver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/opsserver"
)

// browser finds Debian's chromium (or another Chrome), and skips the test
// where none is installed. WIREWATCH_CHROME names one explicitly.
func browser(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WIREWATCH_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no browser installed (apt-get install chromium, or set WIREWATCH_CHROME): the playground's browser test cannot run")
	return ""
}

// newBrowser starts a headless browser with a fresh profile and no
// network of its own beyond the loopback server under test.
func newBrowser(t *testing.T) (context.Context, *consoleLog) {
	t.Helper()
	path := browser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	// Everything the page writes to its console (CSP violations, script
	// errors), to fail on.
	console := &consoleLog{}
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			console.add(string(m.Type) + ": " + m.String())
		}
	}()
	return ctx, console
}

type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

func (c *consoleLog) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, s)
}

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// TestPlaygroundInBrowser drives the playground in a real browser: an
// editor types a rule and reads the matches as they appear, with the
// matched words highlighted and the chart; types a broken rule and sees
// the error at its place; picks a configured rule; and a keystroke while a
// search runs cancels it.
func TestPlaygroundInBrowser(t *testing.T) {
	slow := &slowSource{src: wire(t, time.Now()), gate: make(chan struct{})}
	close(slow.gate)
	s := startPlayground(t, slow, opsserver.Options{})
	// The browser is started after the server so that it is closed first
	// (cleanups run last in, first out): the server then shuts down with no
	// client connected.
	ctx, console := newBrowser(t)
	base := "http://" + s.Addr()

	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v\nconsole: %s", sel, err, console)
		}
		return v
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v\nconsole: %s", js, err, console)
		}
		return v
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nconsole: %s", what, err, console)
		}
	}
	clear := func(id string) { eval(`document.getElementById("` + id + `").value = ""; "ok"`) }
	retype := func(id, v string) []chromedp.Action[chromedp.Void] {
		clear(id)
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(css("#"+id), v)}
	}

	// Type a rule; the results come without pressing anything.
	do("typing a rule",
		chromedp.Navigate(base+"/try"),
		chromedp.WaitVisible(css("#q")),
		chromedp.SendKeys(css("#q"), `"deep into Afghanistan"`),
		chromedp.WaitVisible(css(`#results[data-query='"deep into Afghanistan"'] #summary`)),
	)
	want, err := backtest.Run(context.Background(), slow.src, compileRule(t, `"deep into Afghanistan"`), backtest.Options{Since: time.Now().Add(-7 * 24 * time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if summary := text("#summary"); want.Matched < 3 || !strings.HasPrefix(strings.TrimSpace(summary), fmt.Sprintf("%d of %d items", want.Matched, want.Scanned)) {
		t.Errorf("after typing, the summary says %q; want %d of %d items", summary, want.Matched, want.Scanned)
	}
	if n := eval(`String(document.querySelectorAll("#matches li.match").length)`); n != fmt.Sprint(want.Matched) {
		t.Errorf("%s matches listed, want %d", n, want.Matched)
	}
	if marks := eval(`Array.from(document.querySelectorAll("#matches mark")).map(m => m.textContent).join("|")`); !strings.Contains(strings.ToLower(marks), "deep into afghanistan") {
		t.Errorf("the matched words are not highlighted: %q", marks)
	}
	if bars := eval(`String(document.querySelectorAll("#chart g.day").length)`); bars < "7" || len(bars) != 1 {
		t.Errorf("the chart has %s days", bars)
	}

	// A broken rule: the error, at its place, replaces the results.
	do("typing a broken rule", append(retype("q", `Pakistan AND strike NEAR/99 border`), chromedp.WaitVisible(css("#error")))...)
	msg, at := text("#error .msg"), text("#error mark.at")
	col := eval(`document.getElementById("error").dataset.col`)
	if col != "21" || at != "N" || !strings.Contains(msg, "50") {
		t.Errorf("error %q at column %s, marked %q; want column 21 (NEAR/99), marked N", msg, col, at)
	}

	// A lowercase operator: check's warning.
	do("typing a lowercase operator", append(retype("q", `Pakistan or Afghanistan`), chromedp.WaitVisible(css("#warnings")))...)
	if w := text("#warnings"); !strings.Contains(w, "OR") {
		t.Errorf("lowercase operator: warning %q", w)
	}

	// A configured rule as a starting point, compared with itself: nothing
	// differs; edited, the items it drops are listed.
	eval(`const s = document.getElementById("start"); s.selectedIndex = 1; String(s.dispatchEvent(new Event("change")))`)
	do("its results", chromedp.WaitVisible(css(`#summary .added`)))
	if s := text("#summary"); !strings.Contains(s, "0 only with this version") || !strings.Contains(s, "0 only with the other") {
		t.Errorf("a rule compared with itself differs: %q", s)
	}
	const configured = `Pakistan AND strike NEAR/10 "deep into"`
	diff, err := backtest.Run(context.Background(), slow.src, compileRule(t, configured+` NOT Khawaja`), backtest.Options{Since: time.Now().Add(-7 * 24 * time.Hour), Against: compileRule(t, configured)[0]}, nil)
	if err != nil || diff.Removed == 0 {
		t.Fatalf("NOT Khawaja drops %d items (%v)", diff.Removed, err)
	}
	do("editing it", chromedp.SendKeys(css("#q"), ` NOT Khawaja`), chromedp.WaitVisible(css(`#matches li.removed`)))
	if n := eval(`String(document.querySelectorAll("#matches li.removed").length)`); n != fmt.Sprint(diff.Removed) {
		t.Errorf("%s items listed as dropped by NOT Khawaja, want %d", n, diff.Removed)
	}
	if q := eval(`document.getElementById("q").value`); q != configured+` NOT Khawaja` {
		t.Errorf("the rule reads %q", q)
	}

	// A keystroke while a search runs cancels it.
	slow.mu.Lock()
	slow.gate = make(chan struct{})
	slow.mu.Unlock()
	started0, canceled0 := slow.counts()
	clear("against")
	do("typing", retype("q", "Pakistan")...)
	waitFor(t, "the first search to start", func() bool { s, _ := slow.counts(); return s > started0 })
	do("typing on", chromedp.SendKeys(css("#q"), " strike"))
	waitFor(t, "the first search to be cancelled", func() bool { _, c := slow.counts(); return c > canceled0 })
	close(slow.gate)
	do("waiting for the last results", chromedp.WaitVisible(css(`#results[data-query="Pakistan strike"] #summary`)))
	if s := text("#summary"); !strings.Contains(s, "of") {
		t.Errorf("final summary %q", s)
	}
	if c := console.String(); strings.Contains(c, "Content Security Policy") || strings.Contains(c, "exception") || strings.Contains(c, "error:") {
		t.Errorf("the page logged errors:\n%s", c)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
