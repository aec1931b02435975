package main

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

const guardedConfig = `
[store]
path = %q
[http]
listen = %q
[slack]
token = "xoxb-guard"
api_url = %q
ops_channel = "#ops"
interval = "20ms"
[fetch]
allow_private = true
[monitor]
min_poll_interval = "1s"
`

// TestReloadRefusesToEmptyTheConfig is issue 18.4: an empty (or cut-off)
// config file saved over the running one used to be accepted ("config
// reloaded feeds=0 rules=0" at INFO), silently turning monitoring off. A
// reload that would remove every feed or every rule is now refused like an
// invalid file: the running config goes on polling and alerting, the
// refusal is logged with its reason, shown on the status page, counted,
// and reported once to the ops channel. With run -allow-empty-reload the
// same file is accepted, with a warning.
func TestReloadRefusesToEmptyTheConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	wire := &liveWire{}
	feed := httptest.NewServer(wire)
	defer feed.Close()
	feeds := fmt.Sprintf("\n[[feeds]]\nname = \"Live\"\nurl = %q\nschedule = \"@every 1s\"\n", feed.URL)
	rules := "\n[[rules]]\nname = \"Strikes\"\nquery = \"strike\"\nchannels = [\"#desk\"]\n"

	d, base := startDaemon(t, guardedConfig+feeds+rules)
	cfgPath := filepath.Join(d.dir, "config.toml")
	wire.add("s1", "Strike on the border")
	d.waitFor("the first alert", func() bool { return d.inChannel("desk", "Strike on the border") })

	// An empty file, saved as editors save.
	atomicWrite(t, cfgPath, "")
	d.waitFor("the ops report of the refused empty file", func() bool { return d.inChannel("ops", "every feed") })
	if !strings.Contains(d.log(), "config reload refused") {
		t.Errorf("the refusal is not logged:\n%s", tail(d.log(), 10))
	}
	if strings.Contains(d.log(), "config reloaded") {
		t.Errorf("the empty file was loaded:\n%s", tail(d.log(), 10))
	}
	if v := d.metric(`wirewatch_config_reloads_total{result="error"}`); v != 1 {
		t.Errorf("reload errors counted: %v, want 1", v)
	}
	if _, page := httpGet(t, "http://"+d.addr+"/"); !strings.Contains(page, "Last reload rejected") || !strings.Contains(page, "every feed") {
		t.Errorf("the status page does not show the refusal")
	}
	// The running config goes on.
	wire.add("s2", "Second strike reported")
	d.waitFor("an alert under the running config", func() bool { return d.inChannel("desk", "Second strike reported") })

	// Feeds kept, every rule gone: refused too, reported once more.
	atomicWrite(t, cfgPath, guardedConfigFor(base, feeds))
	d.waitFor("the ops report of the file without rules", func() bool { return d.inChannel("ops", "every rule") })
	wire.add("s3", "Third strike reported")
	d.waitFor("an alert under the running config", func() bool { return d.inChannel("desk", "Third strike reported") })
	if n := len(d.slack.MessagesIn("ops")); n != 2 {
		t.Errorf("%d ops messages, want 2 (one per refused file)", n)
	}

	// Meant: with -allow-empty-reload the empty file is taken, with a warning.
	d2, _ := startDaemon(t, guardedConfig+feeds+rules, "-allow-empty-reload")
	atomicWrite(t, filepath.Join(d2.dir, "config.toml"), "")
	d2.waitFor("the reload of the empty file", func() bool { return d2.metric(`wirewatch_config_reloads_total{result="ok"}`) == 1 })
	if !strings.Contains(d2.log(), "level=WARN") || !strings.Contains(d2.log(), "nothing will be polled") {
		t.Errorf("an allowed empty reload is not logged as a warning:\n%s", tail(d2.log(), 10))
	}
}

// guardedConfigFor returns the daemon's config (its store, endpoint and
// Slack, as in the running file) with only extra appended.
func guardedConfigFor(running, extra string) string {
	i := strings.Index(running, "\n[[feeds]]")
	return running[:i] + extra
}
