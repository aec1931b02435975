package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// alertIDs returns every alert id the fake Slack received, with how many
// messages carried it (a grouped message carries several).
func alertIDs(s *slackfake.Server) map[string]int {
	ids := map[string]int{}
	for _, m := range s.Messages() {
		if m.Payload == nil {
			continue
		}
		if list, ok := m.Payload["alert_ids"].(string); ok && list != "" {
			for _, id := range strings.Split(list, ",") {
				ids[id]++
			}
			continue
		}
		if id, ok := m.Payload["alert_id"].(string); ok {
			ids[id]++
		}
	}
	return ids
}

// startRun starts `wirewatch run` as a child process.
func startRun(t *testing.T, cfgPath string, logf *os.File) *exec.Cmd {
	t.Helper()
	return startRunArgs(t, logf, "run", "-config", cfgPath, "-log-level", "debug")
}

// startRunArgs starts wirewatch with args as a child process, its output
// going to logf.
func startRunArgs(t *testing.T, logf *os.File, args ...string) *exec.Cmd {
	t.Helper()
	return startRunEnv(t, logf, nil, args...)
}

// startRunEnv is startRunArgs with env added to the environment.
func startRunEnv(t *testing.T, logf *os.File, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a test that fails half-way leaves no daemon behind
	return cmd
}

// TestCrashExactlyOnce kills `wirewatch run` with SIGKILL at random moments
// while it delivers, restarts it, many times; at the end every alert must be
// in Slack exactly once. Some of Slack's answers are slow (the message is
// recorded, then the answer waits), so that kills land between Slack
// accepting a message and Wirewatch recording it: the restarted process
// must find those in the channel history instead of posting again.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the daemon many times")
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)

	// 15 items to two channels and up to 8 kills; at full size
	// (WIREWATCH_FULL=1) 40 items and up to 24 kills.
	items, maxKills := testsize.Pick(15, 40), testsize.Pick(8, 24)
	var b strings.Builder
	for i := range items {
		fmt.Fprintf(&b, "<item><guid>crash-%02d</guid><title>Strike %d reported near the Afghanistan border</title><link>https://news.example.org/%d</link><pubDate>%s</pubDate></item>",
			i, i, i, time.Now().Add(-time.Duration(items-i)*time.Minute).UTC().Format(time.RFC1123Z))
	}
	body := `<?xml version="1.0"?><rss version="2.0"><channel><title>Crash wire</title>` + b.String() + `</channel></rss>`
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	defer feed.Close()

	slack := slackfake.New()
	defer slack.Close()
	calls := 0
	posting := make(chan struct{}, 64) // a post reached Slack
	slack.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != "chat.postMessage" {
			return nil
		}
		calls++
		select {
		case posting <- struct{}{}:
		default:
		}
		if calls%3 == 0 {
			f := slackfake.AcceptHang(400 * time.Millisecond)
			return &f
		}
		return nil
	})

	dir := t.TempDir()
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
[slack]
token = "xoxb-crash"
api_url = %q
interval = "50ms"
burst = 1
group_after = -1
lease = "2s"
[fetch]
timeout = "5s"
allow_private = true
[[feeds]]
name = "Crash wire"
url = %q
every = "30s"
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk-a", "#desk-b"]
`, filepath.Join(dir, "state.db"), slack.APIURL(), feed.URL))
	logf, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()

	// Each run is killed while it delivers: when its k-th post (k from 1 to
	// 3) reaches Slack, so kills land while Slack holds a message it has
	// accepted but not yet answered, between posts, and during the store
	// writes around them.
	kills := 0
	for i := 0; i < maxKills && len(alertIDs(slack)) < 2*items; i++ {
		for len(posting) > 0 {
			<-posting // posts of the previous run
		}
		cmd := startRun(t, cfgPath, logf)
		waitPosts(t, posting, 1+rng.IntN(3), func() bool { return len(alertIDs(slack)) == 2*items })
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
	}

	// The last run finishes the work; it is stopped once the store has
	// recorded every alert as sent, so nothing is left that it could post
	// again, and SIGTERM lets a post in flight finish before the count.
	cmd := startRun(t, cfgPath, logf)
	st, err := sqlite.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitAllSent(t, st, 2*items, 60*time.Second, filepath.Join(dir, "run.log"))
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}

	ids := alertIDs(slack)
	if len(ids) != 2*items {
		log, _ := os.ReadFile(filepath.Join(dir, "run.log"))
		t.Fatalf("after %d kills Slack has %d distinct alerts, want %d\nlog tail:\n%s", kills, len(ids), 2*items, tail(string(log), 40))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
	perChannel := map[string]int{}
	for _, m := range slack.Messages() {
		perChannel[m.ChannelName]++
	}
	if perChannel["desk-a"] != items || perChannel["desk-b"] != items {
		t.Errorf("messages per channel: %v, want %d each", perChannel, items)
	}
	t.Logf("%d kills; %d messages; %d conversations.history calls", kills, slack.Len(), slack.CallCount("conversations.history"))
}

// waitPosts waits until k posts have reached Slack, or done is true (all
// the work is out), or 30 s passed.
func waitPosts(t *testing.T, posting <-chan struct{}, k int, done func() bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for k > 0 && !done() {
		select {
		case <-posting:
			k--
		case <-tick.C:
		case <-timeout:
			t.Log("no post reached Slack for 30 s")
			return
		}
	}
}

// waitAllSent waits until the store records at least want alerts as sent
// and none queued or being sent, or fails after timeout with the log's tail.
func waitAllSent(t *testing.T, st store.Store, want int, timeout time.Duration, logPath string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		sent, err1 := st.Alerts(ctx, store.AlertFilter{State: store.StateSent})
		queued, err2 := st.Alerts(ctx, store.AlertFilter{State: store.StateQueued})
		sending, err3 := st.Alerts(ctx, store.AlertFilter{State: store.StateSending})
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatalf("reading the outbox: %v", err)
		}
		if len(sent) >= want && len(queued) == 0 && len(sending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("after %v the store has %d alerts sent (want %d), %d queued, %d sending\nlog tail:\n%s",
				timeout, len(sent), want, len(queued), len(sending), tail(string(log), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
