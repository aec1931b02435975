package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
)

// Sizes of the replica benchmark: one loopback feed server with benchFeeds
// feeds (benchItems items each, none matching a rule), and a backlog of
// benchAlerts alerts spread round-robin over benchChannels channels.
const (
	benchFeeds    = 4000
	benchItems    = 10
	benchAlerts   = 6000
	benchChannels = 150 // 40 alerts each: under the burst, so pacing never waits
	// benchConcurrency is [monitor] concurrency. The monitor claims due
	// feeds once a second for its free slots, so a replica polls at most
	// this many feeds a second (measured: 64 gives 64 feeds/s): it is set
	// to the maximum so that the machine, not the claim tick, is the limit.
	// All feeds are on one host, so [fetch] per_host is at its maximum
	// (64) too; a loopback fetch takes about a millisecond, so 64
	// requests at once keep up.
	benchConcurrency = 1024
)

// BenchmarkReplicas measures poll throughput and alert throughput of 1, 2
// and 3 `wirewatch run` processes sharing one PostgreSQL schema (a fresh one
// per sub-benchmark), on the same loopback feed set and a recording fake
// Slack:
//
//   - feeds/s: benchFeeds feeds, registered beforehand with a far due time,
//     are all made due at once (one UPDATE); the clock runs until every feed
//     has been polled (feeds.polls > 0). Each feed must be fetched exactly
//     once.
//   - alerts/s: benchAlerts alerts over benchChannels channels are queued in
//     one transaction through the store API while the replicas run; the
//     clock runs until the fake Slack holds them all. Each must be posted
//     exactly once. Pacing is [slack] interval = 10ms (the minimum) with a
//     burst of 50, so Slack pacing is not the limit.
//
// Each phase logs where the CPU went (replicas, PostgreSQL, this process:
// the feed server and fake Slack, other processes, idle) from /proc, both
// per unit of work (stable) and as a share of the machine (which shows
// whether it was saturated, or busy with something else), and the
// PostgreSQL transactions per feed or alert from pg_stat_database. The
// times include the wait for the first claim (the monitor claims once a
// second; an idle notifier looks once a second): logged as "first ...
// after".
//
//	WIREWATCH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//	  go test -run '^$' -bench BenchmarkReplicas -benchtime 1x ./cmd/wirewatch/
func BenchmarkReplicas(b *testing.B) {
	if os.Getenv("WIREWATCH_TEST_POSTGRES_URL") == "" {
		b.Skip("WIREWATCH_TEST_POSTGRES_URL is not set; skipping the PostgreSQL replica benchmark (e.g. postgres://postgres@127.0.0.1:5432/test)")
	}
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			var feedRate, alertRate float64
			for range b.N {
				f, a := replicaBenchRun(b, n)
				feedRate += f
				alertRate += a
			}
			b.ReportMetric(feedRate/float64(b.N), "feeds/s")
			b.ReportMetric(alertRate/float64(b.N), "alerts/s")
		})
	}
}

// replicaBenchRun runs both phases once with n replicas on a fresh schema
// and returns feeds/s and alerts/s.
func replicaBenchRun(b *testing.B, n int) (feedsPerSec, alertsPerSec float64) {
	b.StopTimer()
	ctx := context.Background()
	pgURL := pgSchemaURL(b)

	// The feed server: /f/N is feed N, benchItems recent items that no rule
	// matches (parsed, identified, matched and recorded as seen).
	hits := make([]atomic.Int32, benchFeeds)
	published := time.Now().Add(-time.Hour).UTC()
	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f/"))
		if err != nil || i < 0 || i >= benchFeeds {
			http.NotFound(w, r)
			return
		}
		hits[i].Add(1)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		var sb strings.Builder
		fmt.Fprintf(&sb, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench feed %d</title><link>https://news.example.org/%d</link>`, i, i)
		for j := range benchItems {
			fmt.Fprintf(&sb, "<item><guid>bench-%d-%d</guid><title>Weather update %d for region %d</title><link>https://news.example.org/%d/%d</link><description>Light rain is expected in region %d later today, with clearing skies by the evening.</description><pubDate>%s</pubDate></item>",
				i, j, j, i, i, j, i, published.Add(-time.Duration(j)*time.Minute).Format(time.RFC1123Z))
		}
		sb.WriteString("</channel></rss>")
		w.Write([]byte(sb.String()))
	}))
	defer feedSrv.Close()
	slack := slackfake.New()
	defer slack.Close()

	dir := b.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `
[store]
postgres = %q
[slack]
token = "xoxb-bench"
api_url = %q
interval = "10ms"
burst = 50
group_after = -1
lease = "30s"
[fetch]
timeout = "20s"
allow_private = true
per_host = 64
[monitor]
concurrency = %d
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#bench-00"]
`, pgURL, slack.APIURL(), benchConcurrency)
	keys := make([]store.FeedDef, benchFeeds)
	far := time.Now().Add(24 * time.Hour)
	for i := range benchFeeds {
		u := fmt.Sprintf("%s/f/%d", feedSrv.URL, i)
		keys[i] = store.FeedDef{Key: fmt.Sprintf("bench-%05d", i), URL: u, Due: far}
		fmt.Fprintf(&cfg, "\n[[feeds]]\nid = %q\nname = \"Bench feed %d\"\nurl = %q\nevery = \"1h\"\n", keys[i].Key, i, u)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}

	// Register the feeds first, due tomorrow, so that the replicas' own
	// start-up sync keeps that due time (instead of spreading new feeds
	// over minutes) and nothing is polled before the clock starts.
	st, err := postgres.Open(ctx, pgURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := st.SyncFeeds(ctx, keys); err != nil {
		b.Fatal(err)
	}

	procs := make([]*exec.Cmd, n)
	logs := make([]string, n)
	for i := range n {
		logs[i] = filepath.Join(dir, fmt.Sprintf("replica%d.log", i))
		logf, err := os.Create(logs[i])
		if err != nil {
			b.Fatal(err)
		}
		defer logf.Close()
		cmd := exec.Command(binary, "run", "-config", cfgPath)
		cmd.Env = cleanEnv()
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		procs[i] = cmd
	}
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.Process.Kill()
				p.Wait()
			}
		}
	}()
	fail := func(format string, args ...any) {
		b.Helper()
		for i, l := range logs {
			out, _ := os.ReadFile(l)
			b.Logf("replica %d log tail:\n%s", i, tail(string(out), 10))
		}
		b.Fatalf(format, args...)
	}
	// Wait until every replica runs, and give its monitor time to sync.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < n; {
		out, _ := os.ReadFile(logs[i])
		if strings.Contains(string(out), "wirewatch running") {
			i++
			continue
		}
		if time.Now().After(deadline) {
			fail("replica %d did not start", i)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	pool := st.Pool()
	count := func(q string) int {
		var c int
		if err := pool.QueryRow(ctx, q).Scan(&c); err != nil {
			b.Fatal(err)
		}
		return c
	}

	// Phase 1: every feed due at once.
	before := takeSample(ctx, pool, procs, false)
	b.StartTimer()
	start := time.Now()
	if _, err := pool.Exec(ctx, `UPDATE feeds SET next_due = $1`, start); err != nil {
		b.Fatal(err)
	}
	deadline = start.Add(90 * time.Second)
	var first time.Duration // until the first poll committed: the claim tick
	for {
		c := count(`SELECT count(*) FROM feeds WHERE polls > 0`)
		if c > 0 && first == 0 {
			first = time.Since(start)
		}
		if c == benchFeeds {
			break
		}
		if time.Now().After(deadline) {
			fail("after 90s only %d of %d feeds were polled", c, benchFeeds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	pollTime := time.Since(start)
	b.StopTimer()
	after := takeSample(ctx, pool, procs, true)
	feedsPerSec = float64(benchFeeds) / pollTime.Seconds()
	twice := 0
	for i := range hits {
		if hits[i].Load() != 1 {
			twice++
		}
	}
	if twice > 0 {
		b.Errorf("%d feeds were fetched other than exactly once", twice)
	}
	var split []string
	for _, l := range logs {
		out, _ := os.ReadFile(l)
		split = append(split, strconv.Itoa(strings.Count(string(out), `msg="feed polled"`)))
	}
	b.Logf("replicas=%d poll: %d feeds in %.2fs = %.0f feeds/s (first poll after %.2fs, then %.0f feeds/s); polls per replica %s; %s",
		n, benchFeeds, pollTime.Seconds(), feedsPerSec, first.Seconds(), float64(benchFeeds)/(pollTime-first).Seconds(),
		strings.Join(split, "/"), after.since(before, benchFeeds, "feed"))

	// Phase 2: a backlog of alerts over many channels.
	now := time.Now().UTC()
	alerts := make([]store.Alert, benchAlerts)
	for i := range alerts {
		ch := fmt.Sprintf("#bench-%02d", i%benchChannels)
		item := fmt.Sprintf("story-%d", i)
		alerts[i] = store.Alert{
			ID: store.AlertID("bench-wire", item, "Strikes", ch), Kind: store.KindItem, Channel: ch,
			FeedKey: "bench-wire", FeedName: "Bench wire", ItemID: item, GUID: item, Rule: "Strikes",
			Title:     fmt.Sprintf("Strike %d reported near the border", i),
			Link:      fmt.Sprintf("https://news.example.org/story/%d", i),
			Published: now, Snippet: "Officials said the strike hit a depot.", Marks: [][2]int{{19, 25}},
			CreatedAt: now,
		}
	}
	if q, err := st.Enqueue(ctx, alerts); err != nil || q != benchAlerts {
		b.Fatalf("enqueue: %d queued, %v", q, err)
	}
	before = takeSample(ctx, pool, procs, false)
	b.StartTimer()
	start = time.Now()
	deadline = start.Add(90 * time.Second)
	first = 0 // until the first post: the notifier's idle poll interval
	for {
		c := slack.Len()
		if c > 0 && first == 0 {
			first = time.Since(start)
		}
		if c >= benchAlerts {
			break
		}
		if time.Now().After(deadline) {
			fail("after 90s Slack has %d of %d alerts", c, benchAlerts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	alertTime := time.Since(start)
	b.StopTimer()
	after = takeSample(ctx, pool, procs, true)
	alertsPerSec = float64(benchAlerts) / alertTime.Seconds()

	// Stop the replicas, then check exactly once in Slack and in the store.
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range procs {
		if err := p.Wait(); err != nil {
			b.Errorf("replica %d after SIGTERM: %v", i, err)
		}
		procs[i] = nil
	}
	ids := alertIDs(slack)
	if len(ids) != benchAlerts {
		b.Errorf("Slack has %d distinct alerts, want %d", len(ids), benchAlerts)
	}
	for id, c := range ids {
		if c != 1 {
			b.Errorf("alert %s posted %d times", id, c)
		}
	}
	if sent := count(`SELECT count(*) FROM alerts WHERE state = 'sent'`); sent != benchAlerts {
		b.Errorf("store has %d alerts sent, want %d", sent, benchAlerts)
	}
	b.Logf("replicas=%d alerts: %d alerts over %d channels in %.2fs = %.0f alerts/s (first post after %.2fs, then %.0f alerts/s); %s",
		n, benchAlerts, benchChannels, alertTime.Seconds(), alertsPerSec, first.Seconds(), float64(benchAlerts)/(alertTime-first).Seconds(),
		after.since(before, benchAlerts, "alert"))
	return feedsPerSec, alertsPerSec
}

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTicks = 100

// sample is a snapshot of where CPU time went, in clock ticks from /proc
// (Linux; zero elsewhere), and of PostgreSQL's transaction count.
type sample struct {
	ok                          bool
	total, idle                 int64 // all cores, from /proc/stat
	replicas, postgres, harness int64
	xacts                       int64
}

// takeSample reads the CPU counters now. At the end of a phase (end), it
// then waits for PostgreSQL's statistics: each backend reports its
// transaction counts to pg_stat_database about once a second.
func takeSample(ctx context.Context, pool *pgxpool.Pool, procs []*exec.Cmd, end bool) (s sample) {
	defer func() {
		if end {
			time.Sleep(1100 * time.Millisecond)
		}
		_ = pool.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.xacts)
	}()
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		s.total += v
		if i == 3 || i == 4 { // idle, iowait
			s.idle += v
		}
	}
	s.ok = true
	for _, p := range procs {
		if p != nil {
			_, t := procTicks(strconv.Itoa(p.Process.Pid))
			s.replicas += t
		}
	}
	_, s.harness = procTicks("self")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		// Backends and their exited children (reaped by the postmaster).
		if comm, t := procTicks(e.Name()); comm == "postgres" {
			s.postgres += t
		}
	}
	return s
}

// procTicks returns a process's command name and its user+system CPU
// ticks, including its reaped children's.
func procTicks(pid string) (string, int64) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0
	}
	f := strings.Fields(s[closing+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return "", 0
	}
	var t int64
	for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
		v, _ := strconv.ParseInt(f[i], 10, 64)
		t += v
	}
	return s[open+1 : closing], t
}

// since describes the CPU and transactions between s0 and s, per unit.
func (s sample) since(s0 sample, units int, unit string) string {
	xacts := fmt.Sprintf("%d PostgreSQL transactions (%.1f per %s, approximate)", s.xacts-s0.xacts, float64(s.xacts-s0.xacts)/float64(units), unit)
	if !s.ok || !s0.ok || s.total <= s0.total {
		return xacts
	}
	all := float64(s.total - s0.total)
	pct := func(v int64) float64 { return 100 * float64(v) / all }
	// CPU milliseconds per unit of work: unlike shares of the machine,
	// these do not depend on what else the machine was doing.
	ms := func(v int64) float64 { return float64(v) * 1000 / clockTicks / float64(units) }
	rep, pg, h := s.replicas-s0.replicas, s.postgres-s0.postgres, s.harness-s0.harness
	busy := (s.total - s0.total) - (s.idle - s0.idle)
	return fmt.Sprintf("CPU ms per %s: replicas %.2f, PostgreSQL %.2f, feed server+fake Slack %.2f; share of all cores: replicas %.0f%%, PostgreSQL %.0f%%, feed server+fake Slack %.0f%%, other processes %.0f%%, idle %.0f%%; %s",
		unit, ms(rep), ms(pg), ms(h), pct(rep), pct(pg), pct(h), pct(busy-rep-pg-h), pct(s.idle-s0.idle), xacts)
}
