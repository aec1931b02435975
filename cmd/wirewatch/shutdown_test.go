package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// TestSIGTERMDuringPoll: SIGTERM while a feed is being fetched (its server
// hangs) and alerts wait in the outbox (Slack answers 500) makes `run` exit
// 0 within the grace period; the queued alerts are not lost: the next
// process delivers each exactly once.
func TestSIGTERMDuringPoll(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	feed, _ := feedServer(t, "reference.rss")
	var slowStarted atomic.Int64
	release := make(chan struct{}) // closed once the slow feed has served its purpose
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slowStarted.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(30 * time.Second):
		}
	}))
	defer slow.Close()
	slack := slackfake.New()
	defer slack.Close()
	slack.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		f := slackfake.HTTPError(500)
		return &f
	})

	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[slack]
token = "xoxb-term"
api_url = %q
[fetch]
timeout = "4s"
allow_private = true
[[feeds]]
name = "Slow wire"
url = %q
[[feeds]]
name = "Test wire"
url = %q
`, filepath.Join(dir, "state.db"), slack.APIURL(), slow.URL, feed.URL)+exampleRules(t))
	logf, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := startRunArgs(t, logf, "run", "-config", cfgPath, "-grace", "2s")

	// Wait until Slack has refused a post (alerts are queued) and the slow
	// feed's fetch is in flight.
	deadline := time.Now().Add(20 * time.Second)
	for (slack.CallCount("chat.postMessage") == 0 || slowStarted.Load() == 0) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if slack.CallCount("chat.postMessage") == 0 || slowStarted.Load() == 0 {
		t.Fatal("the daemon did not get to polling and delivering")
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	took := time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "run.log"))
		t.Fatalf("run after SIGTERM: %v\n%s", err, tail(string(log), 20))
	}
	if took > 3500*time.Millisecond {
		t.Errorf("run took %v to stop; the grace period is 2s", took)
	}
	if n := slack.Len(); n != 0 {
		t.Fatalf("Slack accepted %d messages while it answered 500", n)
	}

	// Slack is back, and the slow feed answers at once: the next process
	// delivers the queued alerts, once.
	close(release)
	slack.ClearFaults()
	slack.FaultFunc(nil)
	if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
		t.Fatalf("once: exit %d: %s", code, stderr)
	}
	ids := alertIDs(slack)
	if len(ids) < 2 {
		t.Fatalf("after restart Slack has %d alerts, want the reference article's alerts", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
	for _, m := range slack.Messages() {
		if !strings.Contains(m.Text+string(m.Blocks), "deep into Afghanistan") && !strings.Contains(m.Text, "Also matches rule") {
			t.Errorf("unexpected message: %s", m.Text)
		}
	}
}
