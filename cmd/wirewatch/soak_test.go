package main

import (
	"flag"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// The soak test is outside the normal suite: it runs only with -soak, e.g.
//
//	go test -run TestSoak -timeout 40m ./cmd/wirewatch -soak=20m
var (
	soakFor    = flag.Duration("soak", 0, "run TestSoak for this long (0: skip it)")
	soakFeeds  = flag.Int("soak-feeds", 1000, "feeds in TestSoak")
	soakSample = flag.Duration("soak-sample", 30*time.Second, "how often TestSoak samples the daemon")
)

// Soak configuration: short windows, so that everything the daemon keeps
// for a while fills within minutes and must then stay flat.
const (
	soakEvery     = time.Minute     // each feed is polled and changes this often
	soakStory     = 2 * time.Minute // [monitor] story_window
	soakRetention = 5 * time.Minute // [store] retention (floor lowered by WIREWATCH_MIN_RETENTION) and keep_text
	soakPerFeed   = 10              // items in each feed document
)

// soakFeed serves n feeds at /f/0 … /f/n-1 that keep changing: each gets a
// new item every soakEvery (their phases spread over the period) and lists
// its last soakPerFeed. About one item in six matches a rule, and matching
// items of one period share a story across feeds.
type soakFeed struct{ n int }

var soakPlaces = []string{"Kabul", "Quetta", "Peshawar", "Kandahar", "Islamabad", "Herat", "Torkham", "Chaman"}

func (s soakFeed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f/"))
	if err != nil || i < 0 || i >= s.n {
		http.NotFound(w, r)
		return
	}
	period := int64(soakEvery / time.Second)
	phase := int64(i) * period / int64(s.n)
	now := time.Now().Unix()
	cur := (now + phase) / period
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Soak %d</title>`, i)
	for k := cur; k > cur-soakPerFeed; k-- {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d/%d", i, k)
		v := h.Sum32()
		published := time.Unix(k*period-phase, 0).UTC()
		title := fmt.Sprintf("Council %d reviews budget line %d for the district", i, v%997)
		if v%6 == 0 {
			// One story per place and period, reported by many feeds.
			title = fmt.Sprintf("Strike reported near %s as border talks stall (%d)", soakPlaces[int(k)%len(soakPlaces)], k)
		}
		fmt.Fprintf(&b, "<item><guid>s%d-%d</guid><title>%s</title><link>https://soak.example.org/%d/%d</link><description>Report %d of feed %d. %s</description><pubDate>%s</pubDate></item>",
			i, k, title, i, k, k, i, strings.Repeat("Filler text for the body. ", int(v%20)), published.Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>")
	w.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprint(w, b.String())
}

type soakSampleRow struct {
	at         time.Duration
	rss        float64 // bytes
	heap       float64 // bytes of Go heap in use
	goroutines float64
	fds        float64
	storeBytes int64
	fetches    float64
	alerts     int // messages in the fake Slack
	load       string
}

// TestSoak runs the daemon (SQLite) for -soak against -soak-feeds loopback
// feeds that keep changing and a fake Slack, samples its resident memory,
// goroutines, open files and store size, prints them as a table, and fails
// if memory or goroutines still grow once the story window, the retention
// period and the kept texts are full.
func TestSoak(t *testing.T) {
	if *soakFor <= 0 {
		t.Skip("soak test: run with -soak DURATION (e.g. go test -run TestSoak -timeout 40m ./cmd/wirewatch -soak=20m; go test needs the = form)")
	}
	if raceEnabled {
		t.Log("note: built with -race; memory figures are the race detector's")
	}
	feeds := httptest.NewServer(soakFeed{n: *soakFeeds})
	defer feeds.Close()
	slack := slackfake.New()
	defer slack.Close()
	// The fake Slack keeps every message; it runs in the test process, not
	// in the daemon measured.
	dir := t.TempDir()
	addr := freePort(t)
	var fb strings.Builder
	for i := range *soakFeeds {
		fmt.Fprintf(&fb, "\n[[feeds]]\nname = \"Soak %d\"\nurl = \"%s/f/%d\"\nevery = %q\n", i, feeds.URL, i, soakEvery)
	}
	state := filepath.Join(dir, "state.db")
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`
[store]
path = %q
retention = %q
keep_text = %q
[http]
listen = %q
[slack]
token = "xoxb-soak"
api_url = %q
interval = "10ms"
burst = 10
[fetch]
timeout = "10s"
allow_private = true
per_host = 8
[monitor]
story_window = %q
concurrency = 8
[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk-a", "#desk-b"]
[[rules]]
name = "Border"
query = "border AND (Kabul OR Quetta OR Torkham)"
channels = ["#desk-c"]
[[rules]]
name = "Budget"
query = "budget AND \"line 7\""
channels = ["#desk-d"]
`, state, soakRetention, soakRetention, addr, slack.APIURL(), soakStory)+fb.String())
	logf, err := os.Create(filepath.Join(dir, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := startRunEnv(t, logf, []string{config.EnvMinRetention + "=" + soakRetention.String()}, "run", "-config", cfgPath, "-log-level", "info")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	}()
	logTail := func() string { b, _ := os.ReadFile(filepath.Join(dir, "run.log")); return tail(string(b), 30) }

	start := time.Now()
	var rows []soakSampleRow
	sample := func() soakSampleRow {
		code, body := httpGet(t, "http://"+addr+"/metrics")
		if code != 200 {
			return soakSampleRow{at: time.Since(start), rss: -1}
		}
		var size int64
		for _, f := range []string{state, state + "-wal"} {
			if fi, err := os.Stat(f); err == nil {
				size += fi.Size()
			}
		}
		load, _ := os.ReadFile("/proc/loadavg")
		return soakSampleRow{
			at:         time.Since(start).Round(time.Second),
			rss:        metricValue(body, "process_resident_memory_bytes"),
			heap:       metricValue(body, "go_memstats_heap_inuse_bytes"),
			goroutines: metricValue(body, "go_goroutines"),
			fds:        metricValue(body, "process_open_fds"),
			storeBytes: size,
			fetches:    sumMetric(body, "wirewatch_fetches_total"),
			alerts:     slack.Len(),
			load:       strings.Join(strings.Fields(string(load))[:3], " "),
		}
	}
	tick := time.NewTicker(*soakSample)
	defer tick.Stop()
	for time.Since(start) < *soakFor {
		select {
		case err := <-done:
			t.Fatalf("the daemon exited during the soak: %v\nlog tail:\n%s", err, logTail())
		case <-tick.C:
		}
		r := sample()
		if r.rss < 0 {
			t.Logf("%v: /metrics did not answer", r.at)
			continue
		}
		rows = append(rows, r)
		t.Logf("%8v  rss %6.1f MB  heap %6.1f MB  goroutines %4.0f  fds %3.0f  store %6.1f MB  fetches %7.0f  slack msgs %6d  load %s",
			r.at, r.rss/1e6, r.heap/1e6, r.goroutines, r.fds, float64(r.storeBytes)/1e6, r.fetches, r.alerts, r.load)
	}

	// The table, for the README.
	full := soakRetention + 2*time.Minute // retention and keep_text full, and pruned (every minute) twice
	var tb strings.Builder
	fmt.Fprintf(&tb, "\n| time | RSS (MB) | Go heap (MB) | goroutines | open fds | store (MB) | fetches | Slack messages | load (1/5/15 min) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		mark := ""
		if r.at >= full {
			mark = " *"
		}
		fmt.Fprintf(&tb, "| %v%s | %.1f | %.1f | %.0f | %.0f | %.1f | %.0f | %d | %s |\n", r.at, mark, r.rss/1e6, r.heap/1e6, r.goroutines, r.fds, float64(r.storeBytes)/1e6, r.fetches, r.alerts, r.load)
	}
	t.Logf("%d feeds, every %v; story window %v, retention and keep_text %v; * = windows full%s", *soakFeeds, soakEvery, soakStory, soakRetention, tb.String())

	t.Logf("warnings and errors the daemon logged:\n%s", logSummary(filepath.Join(dir, "run.log")))
	if rows == nil || rows[len(rows)-1].fetches < float64(*soakFeeds) {
		t.Fatalf("the daemon did not poll every feed once in the soak\nlog tail:\n%s", logTail())
	}
	if rows[len(rows)-1].alerts == 0 {
		t.Fatalf("no alert reached Slack in the soak\nlog tail:\n%s", logTail())
	}
	var after []soakSampleRow
	for _, r := range rows {
		if r.at >= full {
			after = append(after, r)
		}
	}
	if len(after) < 6 {
		t.Logf("the soak was too short to judge growth: %d samples after the windows filled at %v (run for at least %v)", len(after), full, full+6**soakSample)
		return
	}
	// Once everything is full, the second half of the samples must not be
	// above the first half beyond noise: medians compared, with slack for
	// the garbage collector's rhythm and the SQLite page cache.
	half := len(after) / 2
	med := func(rs []soakSampleRow, f func(soakSampleRow) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss1, rss2 := med(after[:half], func(r soakSampleRow) float64 { return r.rss }), med(after[half:], func(r soakSampleRow) float64 { return r.rss })
	g1, g2 := med(after[:half], func(r soakSampleRow) float64 { return r.goroutines }), med(after[half:], func(r soakSampleRow) float64 { return r.goroutines })
	h1, h2 := med(after[:half], func(r soakSampleRow) float64 { return r.heap }), med(after[half:], func(r soakSampleRow) float64 { return r.heap })
	f1, f2 := med(after[:half], func(r soakSampleRow) float64 { return r.fds }), med(after[half:], func(r soakSampleRow) float64 { return r.fds })
	t.Logf("after the windows filled: RSS median %.1f MB then %.1f MB; Go heap %.1f MB then %.1f MB; goroutines %.0f then %.0f; fds %.0f then %.0f", rss1/1e6, rss2/1e6, h1/1e6, h2/1e6, g1, g2, f1, f2)
	if rss2 > rss1*1.15+8e6 {
		t.Errorf("resident memory keeps growing once the windows are full: median %.1f MB, then %.1f MB", rss1/1e6, rss2/1e6)
	}
	if h2 > h1*1.15+8e6 {
		t.Errorf("the Go heap keeps growing once the windows are full: median %.1f MB, then %.1f MB", h1/1e6, h2/1e6)
	}
	if g2 > g1*1.1+10 {
		t.Errorf("goroutines keep growing once the windows are full: median %.0f, then %.0f", g1, g2)
	}
	if f2 > f1+10 {
		t.Errorf("open files keep growing once the windows are full: median %.0f, then %.0f", f1, f2)
	}
}

// sumMetric adds up every series of a metric in a Prometheus text body.
func sumMetric(body, name string) float64 {
	var total float64
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name) || (len(line) > len(name) && line[len(name)] != '{' && line[len(name)] != ' ') {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err == nil {
				total += v
			}
		}
	}
	return total
}
