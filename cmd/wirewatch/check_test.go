package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// brokenConfig has one of each kind of problem: a duration below its
// minimum, wrong types, misspelt keys, a schedule polling every second, a
// rule that does not compile (inside a multi-line query), a duplicate rule
// name, and mistyped operators.
const brokenConfig = `[store]
retention = "3d"

[fetch]
allow_private = "yes"
timout = "20s"

[slack]
chanel = "#news"

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"
every = 5
channels = "#desk"

[[feeds]]
name = "Geo"
url = "https://www.geo.tv/rss/1/1"
schedule = "@every 0s"

[[feeds]]
name = "Tribune"
url = "https://tribune.com.pk/feed/home"
evrey = "10m"

[[rules]]
name = "Talks collapse"
query = '''
(talks OR negotiations)
NEAR/8 (fail* OR collapse)
AND (Pakistan OR Afghanistan
'''

[[rules]]
name = "Talks collapse"
query = '''
Pakistan near/5 Kabul
AND atleast(2, strike OR airstrike)
'''
`

// TestCheckReportsEveryProblem: one run of check reports every problem of
// the file, in file order, each at its line and column in the file (inside
// a multi-line query too), naming the feed or rule, in words.
func TestCheckReportsEveryProblem(t *testing.T) {
	path := writeConfig(t, t.TempDir(), brokenConfig)
	stdout, stderr, code := wirewatch(t, nil, "check", "-config", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := strings.ReplaceAll(`F:2:13: store.retention: "3d" is below the minimum of 7d (use "0" to keep everything)
F:5:17: fetch.allow_private must be true or false, e.g. allow_private = false
F:6:1: unknown key "timout" in [fetch]; did you mean "timeout"?
F:9:1: unknown key "chanel" in [slack]; did you mean "channel"?
F:14:9: feed "Dawn": every must be a duration in quotes, e.g. every = "5m"
F:15:12: feed "Dawn": channels must be a list of strings, e.g. channels = ["#desk"]
F:20:12: feed "Geo": schedule: "@every 0s" polls every 1s, more often than the minimum of 30s; write "@every 30s" or more, or every = "30s"
F:25:1: feed "Tribune": unknown key "evrey"; did you mean "every"?
F:32:5: rule "Talks collapse": unbalanced parentheses: this ( is never closed
F:36:8: rule "Talks collapse": a rule with this name is already defined on line 27
F:38:10: warning: rule "Talks collapse": lowercase "near/5" is searched as a word; write NEAR/5 for the operator
F:39:5: warning: rule "Talks collapse": lowercase "atleast(" is searched as the word "atleast" and a group; write ATLEAST(2, …) for the operator
`, "F:", path+":")
	if stdout != want {
		t.Errorf("check printed:\n%s\nwant:\n%s", stdout, want)
	}
	if want := path + ": 10 problem(s)\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// TestCheckStopsOnSignal: check on a huge file stops at SIGINT, saying so,
// instead of running on.
func TestCheckStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	path := manyRulesConfig(t, dir, 100000)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "check", "-config", path)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until the process has read the file (its signal handler is set
	// before that), so that the signal lands while it works on it.
	for read := int64(0); read < info.Size(); {
		select {
		case err := <-done:
			t.Fatalf("check ended before the signal: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-time.After(time.Millisecond):
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", cmd.Process.Pid))
		if err != nil {
			cmd.Process.Kill()
			<-done
			t.Skipf("cannot see how much the process has read: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				read, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = <-done
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("check after SIGINT: %v, want exit status 1\n%s%s", err, stdout.String(), stderr.String())
	}
	if want := "wirewatch check: " + path + ": interrupted\n"; stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q, want stderr %q", stdout.String(), stderr.String(), want)
	}
}

// TestCheckCancelled: the check path itself (config, rules, examples)
// gives up with the context.
func TestCheckCancelled(t *testing.T) {
	path := manyRulesConfig(t, t.TempDir(), 3000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := cmdCheck(ctx, []string{"-config", path}, io.Discard, io.Discard)
	if err == nil || !strings.HasSuffix(err.Error(), ": interrupted") {
		t.Errorf("cancelled check: %v", err)
	}
	if _, err := loadContext(ctx, path); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled load: %v", err)
	}
}
