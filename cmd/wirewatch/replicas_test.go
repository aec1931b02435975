package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store/postgres"
)

// pgSchemaURL creates a fresh schema in the test database and returns a URL
// whose connections use it; the schema is dropped when the test ends.
func pgSchemaURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("WIREWATCH_TEST_POSTGRES_URL")
	if base == "" {
		t.Skip("WIREWATCH_TEST_POSTGRES_URL is not set; skipping the PostgreSQL replica test (e.g. postgres://postgres@127.0.0.1:5432/test)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("ww_test_%d_%d", os.Getpid(), rand.IntN(1<<30))
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// publisher is a loopback server with several feeds to which the test
// publishes matching items over time.
type publisher struct {
	mu    sync.Mutex
	items [][]string
}

func (p *publisher) publish(feed, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items[feed] = append(p.items[feed], fmt.Sprintf("<item><guid>f%d-%d</guid><title>Strike %d-%d reported near the Afghanistan border</title><link>https://news.example.org/%d/%d</link><pubDate>%s</pubDate></item>",
		feed, n, feed, n, feed, n, time.Now().UTC().Format(time.RFC1123Z)))
}

func (p *publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f/"))
	if err != nil || i < 0 || i >= len(p.items) {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	body := strings.Join(p.items[i], "")
	p.mu.Unlock()
	fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title>%s</channel></rss>`, i, body)
}

// TestReplicasExactlyOnce runs three `wirewatch run` processes against one
// PostgreSQL database while items are published over time, kills one with
// SIGKILL mid-run, and checks that every alert reaches Slack exactly once
// and that the two survivors finish the dead replica's work.
func TestReplicasExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three daemons")
	}
	pgURL := pgSchemaURL(t)
	const feeds, perFeed = 4, 10
	pub := &publisher{items: make([][]string, feeds)}
	srv := httptest.NewServer(pub)
	defer srv.Close()
	slack := slackfake.New()
	defer slack.Close()

	dir := t.TempDir()
	var fb strings.Builder
	for i := range feeds {
		fmt.Fprintf(&fb, "\n[[feeds]]\nname = \"Feed %d\"\nurl = \"%s/f/%d\"\nschedule = \"@every 1s\"\n", i, srv.URL, i)
	}
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
postgres = %q
[slack]
token = "xoxb-replicas"
api_url = %q
interval = "20ms"
group_after = -1
lease = "3s"
[fetch]
timeout = "2s"
allow_private = true
[monitor]
min_poll_interval = "1s"
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk-a", "#desk-b"]
`, pgURL, slack.APIURL())+fb.String())

	// Migrate once up front; the replicas then race only for work.
	if _, stderr, code := wirewatch(t, nil, "migrate", "-config", cfgPath); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	var procs []*exec.Cmd
	for i := range 3 {
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		procs = append(procs, startRun(t, cfgPath, logf))
	}
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()

	// Items are published batch after batch, each batch once the one
	// before the last is under way in Slack, so that replicas poll and
	// deliver at the same time. One replica is killed while a
	// batch is being delivered: its leases on feeds and channels expire
	// and the others take over.
	want := 2 * feeds * perFeed
	progress := func(what string, n int, timeout time.Duration) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for len(alertIDs(slack)) < n {
			if time.Now().After(deadline) {
				for i := range 3 {
					b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
					t.Logf("replica %d log tail:\n%s", i, tail(string(b), 15))
				}
				t.Fatalf("waiting for %s: Slack has %d distinct alerts after %v, want %d", what, len(alertIDs(slack)), timeout, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for n := range perFeed {
		for f := range feeds {
			pub.publish(f, n)
		}
		// Batch n-1 is under way once one of its alerts is in Slack.
		if n > 0 {
			progress(fmt.Sprintf("batch %d", n-1), 2*feeds*(n-1)+1, 45*time.Second)
		}
		if n == perFeed/2 {
			procs[0].Process.Signal(syscall.SIGKILL)
			procs[0].Wait()
		}
	}
	// The survivors must finish within the lease timeouts (feeds: 2 x 2s
	// fetch timeout + 5s; channels: 3s) plus polling and pacing. They are
	// stopped once the store has every alert sent and none left to post.
	progress("every alert", want, 45*time.Second)
	st, err := postgres.Open(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitAllSent(t, st, want, 30*time.Second, filepath.Join(dir, "replica1.log"))
	for _, p := range procs[1:] {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs[1:] {
		if err := p.Wait(); err != nil {
			t.Errorf("replica after SIGTERM: %v", err)
		}
	}
	procs = nil

	ids := alertIDs(slack)
	if len(ids) != want {
		for i := range 3 {
			b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
			t.Logf("replica %d log tail:\n%s", i, tail(string(b), 15))
		}
		t.Fatalf("Slack has %d distinct alerts, want %d", len(ids), want)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
	// How the polls were spread (whichever replica claims first takes all
	// the feeds due at that moment, so the split varies from run to run).
	for i := range 3 {
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("replica%d.log", i)))
		t.Logf("replica %d: %d polls", i, strings.Count(string(b), `msg="feed polled"`))
	}
	t.Logf("%d alerts, %d messages, each exactly once", len(ids), slack.Len())
}

// TestMigrateFromSQLite moves an installation's SQLite state into
// PostgreSQL with `wirewatch migrate -from-sqlite`: afterwards the same feed
// polled against PostgreSQL alerts nothing twice.
func TestMigrateFromSQLite(t *testing.T) {
	pgURL := pgSchemaURL(t)
	feed, _ := feedServer(t, "reference.rss")
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	common := fmt.Sprintf("[fetch]\nallow_private = true\n[[feeds]]\nname = \"Test wire\"\nurl = %q\n", feed.URL) + exampleRules(t)
	sqliteCfg := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n", db)+common)
	stdout, stderr, code := wirewatch(t, nil, "once", "-config", sqliteCfg)
	if code != 0 || !strings.Contains(stdout, "deep into Afghanistan") {
		t.Fatalf("once on SQLite: exit %d\n%s\n%s", code, stdout, stderr)
	}
	pgDir := t.TempDir()
	pgCfg := writeConfig(t, pgDir, fmt.Sprintf("[store]\npostgres = %q\n", pgURL)+common)
	stdout, stderr, code = wirewatch(t, nil, "migrate", "-config", pgCfg, "-from-sqlite", db)
	if code != 0 || !strings.Contains(stdout, "copied 1 feeds, 5 items") {
		t.Fatalf("migrate -from-sqlite: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = wirewatch(t, nil, "once", "-config", pgCfg)
	if code != 0 {
		t.Fatalf("once on PostgreSQL: exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "deep into Afghanistan") {
		t.Errorf("after the move, PostgreSQL alerted the same story again:\n%s", stdout)
	}
}
