package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// daemon is a `wirewatch run` child process for a test, with its log file,
// its operator endpoint and a fake Slack.
type daemon struct {
	t     *testing.T
	dir   string
	addr  string
	slack *slackfake.Server
	done  chan error
}

// startDaemon writes cfg (a format string taking the state file, the
// operator endpoint's address and the fake Slack's URL) and starts `run`
// with extra flags; it returns once /healthz answers.
func startDaemon(t *testing.T, cfg string, flags ...string) (*daemon, string) {
	t.Helper()
	return startDaemonWith(t, func(state, addr, slackURL string) string { return fmt.Sprintf(cfg, state, addr, slackURL) }, flags...)
}

// startDaemonWith is startDaemon with the config built by cfg.
func startDaemonWith(t *testing.T, cfg func(state, addr, slackURL string) string, flags ...string) (*daemon, string) {
	t.Helper()
	d := &daemon{t: t, dir: t.TempDir(), addr: freePort(t), slack: slackfake.New(), done: make(chan error, 1)}
	t.Cleanup(d.slack.Close)
	body := cfg(filepath.Join(d.dir, "state.db"), d.addr, d.slack.APIURL())
	path := writeConfig(t, d.dir, body)
	logf, err := os.Create(filepath.Join(d.dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := startRunArgs(t, logf, append([]string{"run", "-config", path}, flags...)...)
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-d.done
		}
	})
	d.waitFor("/healthz", func() bool { c, _ := httpGet(t, "http://"+d.addr+"/healthz"); return c == 200 })
	return d, body
}

func (d *daemon) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "run.log"))
	return string(b)
}

func (d *daemon) waitFor(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s\nlog tail:\n%s", what, tail(d.log(), 25))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) metric(prefix string) float64 {
	_, body := httpGet(d.t, "http://"+d.addr+"/metrics")
	return metricValue(body, prefix)
}

func (d *daemon) inChannel(ch, text string) bool {
	for _, m := range d.slack.MessagesIn(ch) {
		if strings.Contains(m.Text+string(m.Blocks), text) {
			return true
		}
	}
	return false
}
