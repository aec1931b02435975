package main

import (
	"context"
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
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
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

	const items = 15
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
	slack.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != "chat.postMessage" {
			return nil
		}
		calls++
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

	kills := 0
	for i := 0; i < 8; i++ {
		cmd := startRun(t, cfgPath, logf)
		time.Sleep(time.Duration(150+rng.IntN(900)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
		if len(alertIDs(slack)) == 2*items {
			break // everything is out; killing more proves nothing new
		}
	}

	cmd := startRun(t, cfgPath, logf)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(alertIDs(slack)) < 2*items && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // room for a duplicate to show up
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
