package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store/sqlite"
)

// The secrets of the feed URLs in TestFeedCredentialsNeverShow: a password
// in the user info and an API key in the query.
const (
	secretPass = "hunter2PASS"
	secretKey  = "topKEY123"
)

// TestFeedCredentialsNeverShow is issue 18.5: feeds whose URLs carry a
// password (http://u:PASS@host/...) and an API key (?apikey=KEY) fail in
// every way a fetch fails (connection refused, 500, timeout, redirect
// loop, a body that does not parse, a web page whose advertised feed URL
// is resolved against the secret one), and neither secret may show anywhere
// a person looks: the daemon's JSON log, `once`'s text log, the status
// page, the store's last_error, `wirewatch feeds` (table and JSON),
// `wirewatch try` and `wirewatch check -fetch`. The host and path do show,
// so the operator can tell the feeds apart.
func TestFeedCredentialsNeverShow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?apikey="+secretKey+"&n=1", http.StatusFound)
	})
	mux.HandleFunc("/garbled", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title><![CDAT a</title></item></channel></rss>`)
	})
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><html><head><title>News</title><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body>News</body></html>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	closed := freePort(t) // nothing listens there: connection refused
	secretURL := func(hostport, path string) string {
		return fmt.Sprintf("http://editor:%s@%s%s?apikey=%s&lang=en", secretPass, hostport, path, secretKey)
	}
	feeds := []struct{ name, url string }{
		{"Refused", secretURL(closed, "/feed")},
		{"Broken", secretURL(host, "/broken")},
		{"Slow", secretURL(host, "/slow")},
		{"Loop", secretURL(host, "/loop")},
		{"Garbled", secretURL(host, "/garbled")},
		{"Page", secretURL(host, "/page")},
	}
	dir := t.TempDir()
	addr := freePort(t)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "[store]\npath = %q\n[http]\nlisten = %q\n[fetch]\nallow_private = true\ntimeout = \"1s\"\n", filepath.Join(dir, "state.db"), addr)
	for _, f := range feeds {
		fmt.Fprintf(&cfg, "\n[[feeds]]\nname = %q\nurl = %q\nevery = \"1h\"\n", f.name, f.url)
	}
	cfg.WriteString("\n[[rules]]\nname = \"R\"\nquery = \"strike\"\n")
	cfgPath := writeConfig(t, dir, cfg.String())

	leaks := func(where, text string) {
		t.Helper()
		for _, s := range []string{secretPass, secretKey} {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("%s shows %s: …%s…", where, s, text[max(0, i-120):min(len(text), i+40)])
			}
		}
	}

	// The daemon, logging JSON, polls each feed once (they fail) and shows
	// them on its status page.
	logPath := filepath.Join(dir, "run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := startRunArgs(t, logf, "run", "-config", cfgPath, "-log-format", "json", "-log-level", "debug")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := httpGet(t, "http://"+addr+"/metrics")
		if metricValue(body, "wirewatch_feeds_failing") == float64(len(feeds)) {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the feeds did not all fail:\n%s", tail(string(log), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, page := httpGet(t, "http://"+addr+"/")
	leaks("the status page", page)
	for _, f := range feeds {
		if !strings.Contains(page, "/"+strings.ToLower(f.name)) && f.name != "Refused" {
			t.Errorf("the status page does not show where feed %s is", f.name)
		}
	}
	for _, want := range []string{"connection refused", "500", "timeout", "redirects", "malformed", "HTML page"} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page does not show the %q error", want)
		}
	}
	out, errOut, _ := wirewatch(t, nil, "feeds", "-config", cfgPath)
	leaks("wirewatch feeds", out+errOut)
	out, errOut, _ = wirewatch(t, nil, "feeds", "-config", cfgPath, "-json")
	leaks("wirewatch feeds -json", out+errOut)
	if !strings.Contains(out, host+"/broken") {
		t.Errorf("wirewatch feeds -json does not show where the feed is:\n%s", out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
	done <- nil // for the deferred cleanup
	log, _ := os.ReadFile(logPath)
	leaks("the JSON log", string(log))
	if !strings.Contains(string(log), `"url":"http://REDACTED@`) {
		t.Errorf("the JSON log does not name the feed URL, redacted:\n%s", tail(string(log), 10))
	}

	st, err := sqlite.Open(filepath.Join(dir, "state.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	states, err := st.Feeds(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != len(feeds) {
		t.Fatalf("%d feeds in the store, want %d", len(states), len(feeds))
	}
	for _, s := range states {
		if s.LastError == "" {
			t.Errorf("feed %s: no last_error", s.Key)
		}
		leaks("the store's last_error of "+s.Key, s.LastError)
	}

	// `once` logs text; `try` and `check -fetch` print to the terminal.
	_, errOut, _ = wirewatch(t, nil, "once", "-config", cfgPath, "-log-format", "text", "-log-level", "debug")
	leaks("once's text log", errOut)
	if !strings.Contains(errOut, `url="http://REDACTED@`) {
		t.Errorf("the text log does not name the feed URL, redacted:\n%s", tail(errOut, 10))
	}
	args := []string{"try", "-query", "strike"}
	for _, f := range feeds {
		args = append(args, f.url)
	}
	out, errOut, _ = wirewatch(t, nil, args...)
	leaks("wirewatch try", out+errOut)
	out, errOut, _ = wirewatch(t, nil, "check", "-fetch", "-config", cfgPath)
	leaks("wirewatch check -fetch", out+errOut)
}
