package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// The store-outage tests: the store fails under running daemons (a full
// disk, a database restart) and comes back; without a restart of Wirewatch
// every alert must then reach Slack exactly once, the feeds must go on,
// /readyz must say 503 while the store is down and 200 after, and one ops
// message must say what happened.

// outageConfig is the config of the outage tests, for feeds feeds of pub
// at srv, the store given as a [store] line, and the operator endpoint at
// listen ("" for none).
func outageConfig(storeLine, slackURL, srvURL, listen string, feeds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
[store]
%s
outage_after = "2s"
[slack]
token = "xoxb-outage"
api_url = %q
ops_channel = "#ops"
interval = "20ms"
group_after = -1
lease = "3s"
[fetch]
timeout = "5s"
allow_private = true
[monitor]
min_poll_interval = "1s"
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk-a", "#desk-b"]
`, storeLine, slackURL)
	if listen != "" {
		fmt.Fprintf(&b, "[http]\nlisten = %q\n", listen)
	}
	for i := range feeds {
		fmt.Fprintf(&b, "\n[[feeds]]\nname = \"Feed %d\"\nurl = \"%s/f/%d\"\nschedule = \"@every 1s\"\n", i, srvURL, i)
	}
	return b.String()
}

// inFlight holds one fetch and one Slack post in flight so that the store
// fails under them: the fetch's poll must then commit to a failing store,
// and Slack has accepted the post whose outcome must be recorded there.
type inFlight struct {
	pub      http.Handler
	armed    atomic.Bool
	fetching chan struct{} // a fetch is held
	release  chan struct{} // closed: the held fetch goes on
	posting  chan struct{} // a post was accepted and its answer is held
}

func newInFlight(pub http.Handler) *inFlight {
	return &inFlight{pub: pub, fetching: make(chan struct{}, 1), release: make(chan struct{}), posting: make(chan struct{}, 1)}
}

func (h *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.armed.CompareAndSwap(true, false) {
		h.fetching <- struct{}{}
		<-h.release
	}
	h.pub.ServeHTTP(w, r)
}

// arm holds the next fetch, and Slack's answer to the next post for 2 s.
func (h *inFlight) arm(slack *slackfake.Server) {
	var once atomic.Bool
	slack.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != "chat.postMessage" || !once.CompareAndSwap(false, true) {
			return nil
		}
		h.posting <- struct{}{}
		f := slackfake.AcceptHang(2 * time.Second)
		return &f
	})
	h.armed.Store(true)
}

// wait waits until a fetch and a post are held.
func (h *inFlight) wait(t *testing.T, logs func() string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for _, c := range []chan struct{}{h.fetching, h.posting} {
		select {
		case <-c:
		case <-timeout:
			t.Fatalf("no fetch and post in flight after 30 s\n%s", logs())
		}
	}
}

// itemAlertIDs is alertIDs without the ops channel's messages.
func itemAlertIDs(s *slackfake.Server) map[string]int {
	ids := alertIDs(s)
	for _, m := range s.MessagesIn("ops") {
		if id, ok := m.Payload["alert_id"].(string); ok {
			delete(ids, id)
		}
	}
	return ids
}

// checkOutageOutcome checks, after an outage, that Slack has want item
// alerts each exactly once and exactly one store-outage message in #ops.
func checkOutageOutcome(t *testing.T, slack *slackfake.Server, want int, logs func() string) {
	t.Helper()
	ids := itemAlertIDs(slack)
	if len(ids) != want {
		t.Errorf("Slack has %d distinct alerts, want %d\n%s", len(ids), want, logs())
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
	var outage []string
	for _, m := range slack.MessagesIn("ops") {
		text := m.Text + string(m.Blocks)
		if strings.Contains(text, "Store outage") {
			outage = append(outage, m.Text)
		}
	}
	if len(outage) != 1 {
		t.Errorf("#ops has %d store-outage messages, want exactly 1: %q", len(outage), outage)
	} else {
		t.Logf("ops message: %s", outage[0])
	}
	for _, m := range slack.MessagesIn("ops") {
		if !strings.Contains(m.Text, "Store outage") {
			t.Logf("other ops message: %s", m.Text)
		}
	}
}

// logSummary counts a log's WARN and ERROR lines by message.
func logSummary(paths ...string) string {
	counts := map[string]int{}
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "level=ERROR") && !strings.Contains(line, "level=WARN") {
				continue
			}
			lvl, msg := "WARN", ""
			if strings.Contains(line, "level=ERROR") {
				lvl = "ERROR"
			}
			if i := strings.Index(line, "msg="); i >= 0 {
				msg = line[i+4:]
				if strings.HasPrefix(msg, `"`) {
					if j := strings.Index(msg[1:], `"`); j >= 0 {
						msg = msg[:j+2]
					}
				} else if j := strings.IndexByte(msg, ' '); j >= 0 {
					msg = msg[:j]
				}
			}
			counts[lvl+" "+msg]++
		}
	}
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%5d  %s", n, k))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// waitCond waits for cond, or fails after timeout saying what it waited for.
func waitCond(t *testing.T, what string, timeout time.Duration, cond func() bool, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readyz(addr string) (int, string) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSQLiteDiskFullHeals puts the SQLite file on a small tmpfs, fills the
// file system while the daemon polls and delivers, keeps it full for a
// while, and frees it.
func TestSQLiteDiskFullHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a file system under a running daemon")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; skipping the full-disk test")
	}
	mnt := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); skipping the full-disk test", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			exec.Command("umount", "-l", mnt).Run()
			t.Logf("umount %s: %v: %s", mnt, err, out)
		}
	})

	const feeds, batches = 3, 8
	pub := &publisher{items: make([][]string, feeds)}
	hold := newInFlight(pub)
	srv := httptest.NewServer(hold)
	defer srv.Close()
	slack := slackfake.New()
	defer slack.Close()
	slack.AddChannel("ops", false)
	dir := t.TempDir()
	db := filepath.Join(mnt, "state.db")
	addr := freePort(t)
	cfgPath := writeConfig(t, dir, outageConfig(fmt.Sprintf("path = %q", db), slack.APIURL(), srv.URL, addr, feeds))
	logPath := filepath.Join(dir, "run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := startRun(t, cfgPath, logf)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	logs := func() string {
		b, _ := os.ReadFile(logPath)
		return "log tail:\n" + tail(string(b), 40)
	}
	waitCond(t, "/readyz 200 at start", 20*time.Second, func() bool { c, _ := readyz(addr); return c == 200 }, logs)

	batch := func(n int) {
		for f := range feeds {
			pub.publish(f, n)
		}
	}
	alerts := func() int { return len(itemAlertIDs(slack)) }
	batch(0)
	batch(1)
	waitCond(t, "the first alerts", 20*time.Second, func() bool { return alerts() >= 1 }, logs)

	// The disk fills (a file takes every free block) while a feed is
	// fetched and Slack holds its answer to a post it accepted.
	hold.arm(slack)
	batch(2)
	hold.wait(t, logs)
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	close(hold.release)
	t.Logf("disk full with %d alerts in Slack", alerts())
	// More news while the disk is full.
	batch(3)
	waitCond(t, "/readyz 503 while the disk is full", 20*time.Second, func() bool { c, _ := readyz(addr); return c == 503 }, logs)
	_, body := readyz(addr)
	t.Logf("/readyz while full: %s", strings.TrimSpace(body))
	waitCond(t, "the outage to be noticed", 20*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "store outage: every write has failed")
	}, logs)
	// Polling goes on trying for a while.
	waitCond(t, "failed claims", 20*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), "claiming due feeds") >= 4
	}, logs)
	if c, body := readyz(addr); c != 503 {
		t.Errorf("/readyz during the outage: %d %s, want 503", c, body)
	}
	_, m := httpGet(t, "http://"+addr+"/metrics")
	if up, n := metricValue(m, "wirewatch_store_up "), metricValue(m, "wirewatch_store_outages_total "); up != 0 || n != 1 {
		t.Errorf("during the outage wirewatch_store_up = %v, wirewatch_store_outages_total = %v; want 0 and 1", up, n)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "/readyz 200 once the disk has room", 20*time.Second, func() bool { c, _ := readyz(addr); return c == 200 }, logs)
	waitCond(t, "wirewatch_store_up 1 once the disk has room", 20*time.Second, func() bool {
		_, m := httpGet(t, "http://"+addr+"/metrics")
		return metricValue(m, "wirewatch_store_up ") == 1
	}, logs)
	for n := 4; n < batches; n++ {
		batch(n)
	}
	want := 2 * feeds * batches
	waitCond(t, "every alert in Slack", 60*time.Second, func() bool { return alerts() >= want }, logs)
	waitCond(t, "the outage message", 20*time.Second, func() bool {
		for _, m := range slack.MessagesIn("ops") {
			if strings.Contains(m.Text, "Store outage") {
				return true
			}
		}
		return false
	}, logs)
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitAllSent(t, st, want+1, 30*time.Second, logPath)
	select {
	case err := <-done:
		t.Fatalf("the daemon exited: %v\n%s", err, logs())
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("run after SIGTERM: %v", err)
	}
	checkOutageOutcome(t, slack, want, logs)
	t.Logf("warnings and errors logged:\n%s", logSummary(logPath))
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// Small writes take what the big ones left.
	for {
		if _, err := f.Write(buf[:512]); err != nil {
			break
		}
	}
	f.Sync()
}

// pgRestartable says why the local PostgreSQL cluster cannot be restarted
// by this test, or "" if it can.
func pgRestartable(pgURL string) string {
	if os.Getenv("WIREWATCH_PG_RESTART") == "" {
		return "WIREWATCH_PG_RESTART is not set: this test restarts the PostgreSQL cluster, which would break the other packages' PostgreSQL tests running at the same time; run it alone (WIREWATCH_PG_RESTART=1 go test -run TestPostgresRestartHeals ./cmd/wirewatch, as .ci/run does)"
	}
	if os.Geteuid() != 0 {
		return "restarting PostgreSQL needs root"
	}
	u, err := url.Parse(pgURL)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		return "the PostgreSQL server is not local"
	}
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		return "pg_ctlcluster is not installed"
	}
	if versions, _ := os.ReadDir("/etc/postgresql"); len(versions) != 1 {
		return "not exactly one cluster version in /etc/postgresql"
	}
	return ""
}

// pgCluster runs pg_ctlcluster with action (start, stop) on the local
// cluster.
func pgCluster(action string) error {
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		return fmt.Errorf("no cluster in /etc/postgresql: %v", err)
	}
	args := []string{"--skip-systemctl-redirect", versions[0].Name(), "main", action}
	if action == "stop" {
		args = append(args, "-m", "fast")
	}
	out, err := exec.Command("pg_ctlcluster", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// TestPostgresRestartHeals stops the PostgreSQL cluster while three
// replicas poll and deliver, keeps it down for a while, and starts it again.
func TestPostgresRestartHeals(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts PostgreSQL under three daemons")
	}
	pgURL := pgSchemaURL(t)
	if why := pgRestartable(pgURL); why != "" {
		t.Skip(why)
	}
	// Whatever happens, the cluster is up again at the end: other tests
	// use it. (Registered after pgSchemaURL's cleanup, so it runs first.)
	t.Cleanup(func() {
		if err := pgCluster("start"); err != nil && !strings.Contains(err.Error(), "already running") {
			t.Errorf("starting PostgreSQL again: %v", err)
		}
		waitPG(t, pgURL, 30*time.Second)
	})

	const feeds, batches = 4, 8
	pub := &publisher{items: make([][]string, feeds)}
	hold := newInFlight(pub)
	srv := httptest.NewServer(hold)
	defer srv.Close()
	slack := slackfake.New()
	defer slack.Close()
	slack.AddChannel("ops", false)
	dir := t.TempDir()
	if _, stderr, code := wirewatch(t, nil, "migrate", "-config", writeConfig(t, dir, outageConfig(fmt.Sprintf("postgres = %q", pgURL), slack.APIURL(), srv.URL, "", feeds))); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	var (
		addrs []string
		procs []*exec.Cmd
		dones []chan error
	)
	for i := range 3 {
		rdir := filepath.Join(dir, fmt.Sprint(i))
		os.Mkdir(rdir, 0o700)
		addr := freePort(t)
		cfgPath := writeConfig(t, rdir, outageConfig(fmt.Sprintf("postgres = %q", pgURL), slack.APIURL(), srv.URL, addr, feeds))
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd := startRun(t, cfgPath, logf)
		d := make(chan error, 1)
		go func() { d <- cmd.Wait() }()
		addrs, procs, dones = append(addrs, addr), append(procs, cmd), append(dones, d)
	}
	logs := func() string {
		var b strings.Builder
		for i := range 3 {
			l, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
			fmt.Fprintf(&b, "replica %d log tail:\n%s\n", i, tail(string(l), 20))
		}
		return b.String()
	}
	allReady := func(code int) func() bool {
		return func() bool {
			for _, a := range addrs {
				if c, _ := readyz(a); c != code {
					return false
				}
			}
			return true
		}
	}
	waitCond(t, "every replica's /readyz 200 at start", 30*time.Second, allReady(200), logs)
	batch := func(n int) {
		for f := range feeds {
			pub.publish(f, n)
		}
	}
	alerts := func() int { return len(itemAlertIDs(slack)) }
	batch(0)
	batch(1)
	waitCond(t, "the first alerts", 30*time.Second, func() bool { return alerts() >= 1 }, logs)

	// PostgreSQL goes down while a feed is fetched and Slack holds its
	// answer to a post it accepted.
	hold.arm(slack)
	batch(2)
	hold.wait(t, logs)
	if err := pgCluster("stop"); err != nil {
		t.Fatal(err)
	}
	close(hold.release)
	t.Logf("PostgreSQL stopped with %d of %d alerts in Slack", alerts(), 2*feeds*batches)
	batch(3)
	waitCond(t, "every replica's /readyz 503 while PostgreSQL is down", 20*time.Second, allReady(503), logs)
	_, body := readyz(addrs[0])
	t.Logf("/readyz while down: %s", strings.TrimSpace(body))
	waitCond(t, "the outage to be noticed", 20*time.Second, func() bool {
		for i := range 3 {
			b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
			if strings.Contains(string(b), "store outage: every write has failed") {
				return true
			}
		}
		return false
	}, logs)
	waitCond(t, "failed claims", 20*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "replica0.log"))
		return strings.Count(string(b), "claiming due feeds") >= 4
	}, logs)
	if err := pgCluster("start"); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "every replica's /readyz 200 once PostgreSQL is back", 30*time.Second, allReady(200), logs)
	for n := 4; n < batches; n++ {
		batch(n)
	}
	want := 2 * feeds * batches
	waitCond(t, "every alert in Slack", 60*time.Second, func() bool { return alerts() >= want }, logs)
	st, err := postgres.Open(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitAllSent(t, st, want+1, 30*time.Second, filepath.Join(dir, "replica0.log"))
	for i, p := range procs {
		select {
		case err := <-dones[i]:
			t.Fatalf("replica %d exited: %v\n%s", i, err, logs())
		default:
		}
		p.Process.Signal(syscall.SIGTERM)
	}
	for i := range procs {
		if err := <-dones[i]; err != nil {
			t.Errorf("replica %d after SIGTERM: %v", i, err)
		}
	}
	checkOutageOutcome(t, slack, want, logs)
	t.Logf("warnings and errors logged by the three replicas:\n%s", logSummary(filepath.Join(dir, "replica0.log"), filepath.Join(dir, "replica1.log"), filepath.Join(dir, "replica2.log")))
}

// waitPG waits until PostgreSQL at pgURL answers.
func waitPG(t *testing.T, pgURL string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, pgURL)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("PostgreSQL did not come back within %v: %v", timeout, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
