package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTryHTMLPageSuggestsAWorkingCommand: `try URL` on a web page lists the
// feeds the page advertises as commands to run next; each is the user's
// own command line with the feed instead of the page (flags and a query
// with quotes included), and it works when pasted into a shell.
func TestTryHTMLPageSuggestsAWorkingCommand(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no POSIX shell")
	}
	feed, err := os.ReadFile(filepath.Join("testdata", "reference-article.rss"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>Wire</title>
<link rel="alternate" type="application/rss+xml" title="Wire" href="/feed.rss"></head><body>News</body></html>`)
	})
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(feed)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "[fetch]\nallow_private = true\n[[rules]]\nname = \"R\"\nquery = \"Asif\"\n")
	query := `"deep into Afghanistan" AND Asif's`

	for _, args := range [][]string{
		{"try", "-config", cfg, srv.URL + "/"},
		{"try", "-config", cfg, "-query", query, srv.URL + "/"},
	} {
		_, stderr, code := wirewatch(t, nil, args...)
		if code != 1 || !strings.Contains(stderr, "HTML page") {
			t.Fatalf("%q: exit %d\n%s", args, code, stderr)
		}
		var suggestion string
		for _, line := range strings.Split(stderr, "\n") {
			if s := strings.TrimSpace(line); strings.HasPrefix(s, "wirewatch try ") {
				suggestion = s
			}
		}
		if suggestion == "" || !strings.Contains(suggestion, srv.URL+"/feed.rss") {
			t.Fatalf("%q: no suggested command for the advertised feed:\n%s", args, stderr)
		}
		sh := exec.Command("sh", "-c", binary+strings.TrimPrefix(suggestion, "wirewatch"))
		sh.Env = cleanEnv()
		out, err := sh.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "1 matches") {
			t.Errorf("the suggested command %s failed: %v\n%s", suggestion, err, out)
		}
	}
	if got := shellQuote(query); got != `'"deep into Afghanistan" AND Asif'\''s'` {
		t.Errorf("shellQuote(%q) = %s", query, got)
	}
}
