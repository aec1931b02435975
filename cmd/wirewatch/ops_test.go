package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the first sample whose line starts with
// prefix (name and labels), or -1.
func metricValue(body, prefix string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			f, err := strconv.ParseFloat(strings.TrimSpace(line[strings.LastIndexByte(line, ' '):]), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// liveWire is a feed whose items the test appends to.
type liveWire struct {
	mu    sync.Mutex
	items []string
}

func (w *liveWire) add(guid, title string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append(w.items, fmt.Sprintf("<item><guid>%s</guid><title>%s</title><link>https://news.example.org/%s</link><pubDate>%s</pubDate></item>", guid, title, guid, time.Now().UTC().Format(time.RFC1123Z)))
}

func (w *liveWire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(rw, `<?xml version="1.0"?><rss version="2.0"><channel><title>Live</title>%s</channel></rss>`, strings.Join(w.items, ""))
}

// TestOperations runs the daemon with its operator endpoint and checks what
// an operator relies on: health, readiness and metrics that move after a
// poll; the healthcheck subcommand; a reload (file change or SIGHUP) with a
// broken rule keeps the old rules working and reports the problem once,
// with its line, to the ops channel; a valid change takes effect on the
// next poll; SIGTERM exits 0.
func TestOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	wire := &liveWire{}
	feed := httptest.NewServer(wire)
	defer feed.Close()
	slack := slackfake.New()
	defer slack.Close()
	addr := freePort(t)
	dir := t.TempDir()
	base := fmt.Sprintf(`
[store]
path = %q
[http]
listen = %q
[slack]
token = "xoxb-ops"
api_url = %q
ops_channel = "#ops"
interval = "20ms"
[fetch]
allow_private = true
[monitor]
min_poll_interval = "1s"
[[feeds]]
name = "Live"
url = %q
schedule = "@every 1s"

[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk"]
`, filepath.Join(dir, "state.db"), addr, slack.APIURL(), feed.URL)
	cfgPath := writeConfig(t, dir, base)
	logf, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := startRunArgs(t, logf, "run", "-config", cfgPath)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-done
		done <- nil
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(dir, "run.log"))
				t.Fatalf("timed out waiting for %s\nlog tail:\n%s", what, tail(string(log), 25))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	inChannel := func(ch, text string) bool {
		for _, m := range slack.MessagesIn(ch) {
			if strings.Contains(m.Text+string(m.Blocks), text) {
				return true
			}
		}
		return false
	}

	waitFor("/healthz", func() bool { c, _ := httpGet(t, "http://"+addr+"/healthz"); return c == 200 })
	if c, body := httpGet(t, "http://"+addr+"/readyz"); c != 200 {
		t.Errorf("/readyz: %d %s", c, body)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "run.log")); strings.Count(string(log), "endpoint listening") != 1 {
		t.Errorf("the start logs the endpoint %d times, want once:\n%s", strings.Count(string(log), "endpoint listening"), log)
	}
	if out, stderr, code := wirewatch(t, nil, "healthcheck", "-config", cfgPath); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("healthcheck: exit %d %s %s", code, out, stderr)
	}

	wire.add("s1", "Strike on the border")
	waitFor("the first alert", func() bool { return inChannel("desk", "Strike on the border") })
	waitFor("metrics to move", func() bool {
		_, body := httpGet(t, "http://"+addr+"/metrics")
		return metricValue(body, `wirewatch_fetches_total{result="ok"}`) >= 1 &&
			metricValue(body, `wirewatch_alerts_sent_total{kind="item"}`) >= 1 &&
			metricValue(body, `wirewatch_rule_matches_total{rule="Strikes"}`) >= 1 &&
			metricValue(body, "wirewatch_alert_delivery_seconds_count") >= 1
	})
	if c, body := httpGet(t, "http://"+addr+"/"); c != 200 || !strings.Contains(body, "Live") {
		t.Errorf("status page: %d", c)
	}

	// A broken rule, saved atomically as editors do: refused, reported once.
	broken := base + "\n[[rules]]\nname = \"Broken\"\nquery = 'talks AND (Istanbul'\n"
	brokenLine := strings.Count(broken, "\n")
	atomicWrite(t, cfgPath, broken)
	waitFor("the ops report of the broken rule", func() bool { return inChannel("ops", "Broken") })
	ops := slack.MessagesIn("ops")
	if !strings.Contains(ops[0].Text+string(ops[0].Blocks), fmt.Sprintf(":%d:", brokenLine)) {
		t.Errorf("ops message does not name the line %d: %s", brokenLine, ops[0].Text)
	}
	_, body := httpGet(t, "http://"+addr+"/metrics")
	if metricValue(body, `wirewatch_config_reloads_total{result="error"}`) < 1 {
		t.Errorf("reload error not counted")
	}
	// Still ready, and /readyz says the running config is the previous one.
	if c, body := httpGet(t, "http://"+addr+"/readyz"); c != 200 || !strings.Contains(body, "was refused, so the previous configuration") || !strings.Contains(body, "Broken") {
		t.Errorf("/readyz after a refused reload: %d %s", c, body)
	}
	// SIGHUP with the same broken file: still refused, not reported again.
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the SIGHUP reload", func() bool {
		_, body := httpGet(t, "http://"+addr+"/metrics")
		return metricValue(body, `wirewatch_config_reloads_total{result="error"}`) >= 2
	})
	// The old rules keep working.
	wire.add("s2", "Second strike reported")
	waitFor("an alert under the old rules", func() bool { return inChannel("desk", "Second strike reported") })
	if n := len(slack.MessagesIn("ops")); n != 1 {
		t.Errorf("ops channel got %d messages about the same broken file, want 1", n)
	}

	// A valid change takes effect on the next poll.
	atomicWrite(t, cfgPath, base+"\n[[rules]]\nname = \"Talks\"\nquery = 'talks AND Istanbul'\nchannels = [\"#diplomacy\"]\n")
	waitFor("the reload", func() bool {
		_, body := httpGet(t, "http://"+addr+"/metrics")
		return metricValue(body, `wirewatch_config_reloads_total{result="ok"}`) >= 1
	})
	wire.add("t1", "Istanbul talks collapse")
	waitFor("an alert under the new rule", func() bool { return inChannel("diplomacy", "Istanbul talks collapse") })

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
		done <- nil // for the deferred cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop within 15 s of SIGTERM")
	}
	ids := alertIDs(slack)
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
}

// atomicWrite replaces path as editors do: write a temporary file, rename.
func atomicWrite(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
