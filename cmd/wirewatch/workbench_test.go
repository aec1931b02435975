package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// freshWire serves testdata/reference.rss (the reference article among
// four near misses) as published an hour ago.
func freshWire(t *testing.T) *httptest.Server {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "reference.rss"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := regexp.MustCompile(`<pubDate>[^<]*</pubDate>`).ReplaceAll(body, []byte("<pubDate>"+time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z)+"</pubDate>"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(fresh)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTryWhatArrived is the rule workbench end to end: the daemon polls a
// loopback feed and keeps its items' texts; then `try -since` finds in the
// store what a new rule would have caught, and what an edit changes, and
// the daemon's playground shows the same.
func TestTryWhatArrived(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	feed := freshWire(t)
	cfg := guardedConfig + "\n[[feeds]]\nname = \"Wire\"\nurl = \"" + feed.URL + "\"\nschedule = \"@every 1s\"\n" +
		"\n[[rules]]\nname = \"Strikes\"\nquery = \"strike\"\nchannels = [\"#desk\"]\n"
	d, _ := startDaemon(t, cfg)
	d.waitFor("the wire's items", func() bool { return d.metric("wirewatch_items_new_total") >= 5 })
	path := filepath.Join(d.dir, "config.toml")

	// A new rule, tried on what arrived.
	out, errOut, code := wirewatch(t, nil, "try", "-config", path, "-since", "1d", "-query", `"deep into Afghanistan"`)
	if code != 0 {
		t.Fatalf("try -since: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "[deep into Afghanistan]") || !strings.Contains(out, "1 of 5 stored items") || !strings.Contains(out, "PER DAY") {
		t.Fatalf("try -since does not show the reference article among the 5 stored items:\n%s", out)
	}
	// An edit compared with the rule in use: the near misses it drops.
	out, _, code = wirewatch(t, nil, "try", "-config", path, "-since", "1d", "-rule", "Strikes", "-against", `strike NOT (cricket OR transporters)`)
	if code != 0 || strings.Count(out, "ADDED (only this version)") != 2 || strings.Contains(out, "REMOVED (only -against)") || !strings.Contains(out, "2 items only this version matches") {
		t.Fatalf("try -against: exit %d, want the cricket and transporters items as ADDED by the rule in use:\n%s", code, out)
	}
	// Nothing stored that long ago.
	out, _, _ = wirewatch(t, nil, "try", "-config", path, "-since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "-query", "strike")
	if !strings.Contains(out, "0 of 0 stored items") {
		t.Errorf("try -since in the future:\n%s", out)
	}

	// The playground of the running daemon, over the same store.
	code, body := httpGet(t, "http://"+d.addr+"/try/results?q="+url.QueryEscape(`"deep into Afghanistan"`))
	if code != 200 || !strings.Contains(body, `data-matched="1" data-scanned="5"`) || !strings.Contains(body, "<mark>deep into Afghanistan</mark>") {
		t.Fatalf("playground: %d\n%s", code, body)
	}
	code, body = httpGet(t, "http://"+d.addr+"/try")
	if code != 200 || !strings.Contains(body, `<option value="strike">Strikes</option>`) {
		t.Fatalf("the playground does not offer the configured rule: %d\n%s", code, body)
	}
}
