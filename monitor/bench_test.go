package monitor

import (
	"context"
	"fmt"
	"log/slog"
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

	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// farm is one loopback server serving n feeds at /f/N with 50 items each.
// A feed's content changes when its version is bumped; unchanged feeds
// answer conditional requests with 304.
type farm struct {
	mu      sync.Mutex
	version []int
}

var words = strings.Fields(`government minister talks border security economy election court police protest
strike attack ceasefire trade inflation budget cricket match weather flood earthquake health hospital school
university energy power fuel prices bank market investment agreement parliament opposition party leader`)

func (f *farm) body(i, v int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed %d</title><link>https://feed%d.example.org/</link>`, i, i)
	for k := range 50 {
		id := v + k // each version adds one item at the top and drops the oldest
		fmt.Fprintf(&b, "<item><guid>https://feed%d.example.org/%d</guid><title>", i, id)
		for w := range 10 {
			b.WriteString(words[(i*7+id*13+w*3)%len(words)] + " ")
		}
		fmt.Fprintf(&b, "</title><link>https://feed%d.example.org/%d</link><pubDate>%s</pubDate><description>", i, id, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Add(time.Duration(id)*time.Minute).Format(time.RFC1123Z))
		for w := range 60 {
			b.WriteString(words[(i*11+id*5+w*7)%len(words)] + " ")
		}
		b.WriteString("</description></item>")
	}
	b.WriteString("</channel></rss>")
	return []byte(b.String())
}

func (f *farm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f/"))
	if err != nil || i < 0 || i >= len(f.version) {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	v := f.version[i]
	f.mu.Unlock()
	etag := fmt.Sprintf(`"%d-%d"`, i, v)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write(f.body(i, v))
}

// BenchmarkPollPass polls 10,000 feeds from one loopback server: after a
// first pass that reads every feed, each measured pass finds 80% of the
// feeds unchanged (304) and 20% changed (50 items, one of them new).
// Reported: feeds/s, CPU seconds per pass (the whole process, loopback
// server included) and the process's peak RSS.
//
//	go test -run '^$' -bench BenchmarkPollPass -benchtime 3x -benchmem ./monitor/
func BenchmarkPollPass(b *testing.B) {
	const n = 10000
	f := &farm{version: make([]int, n)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	var rs []*rules.Rule
	for i := range 100 {
		r, err := rules.Compile(fmt.Sprintf("r%d", i), fmt.Sprintf("%s AND %s", words[i%len(words)], words[(i*7+3)%len(words)]))
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r)
	}
	feeds := make([]Feed, n)
	for i := range feeds {
		feeds[i] = Feed{Key: strconv.Itoa(i), Name: "Feed " + strconv.Itoa(i), URL: fmt.Sprintf("%s/f/%d", srv.URL, i), Every: 5 * time.Minute, Backfill: time.Hour}
	}
	m, err := New(Options{
		Store:       st,
		Fetcher:     fetch.New(fetch.Options{AllowPrivate: true, PerHost: 32, Timeout: 30 * time.Second}),
		Feeds:       feeds,
		Rules:       &RuleSet{Index: rules.NewIndex(rs), Routes: map[string]Route{}},
		Concurrency: 32,
		Retention:   90 * 24 * time.Hour, // the default: each changed feed also forgets old items
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuSeconds()
	check(b, m.PollAll(ctx, false), n, 0)
	b.Logf("first pass (every feed 200, 50 items each, %d items recorded): %.1fs wall, %.1f CPU-s", n*50, time.Since(start).Seconds(), cpuSeconds()-cpu0)

	round := 0
	var wall time.Duration
	var cpu float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		round++
		f.mu.Lock()
		for i := range f.version {
			if i%5 == round%5 {
				f.version[i]++
			}
		}
		f.mu.Unlock()
		b.StartTimer()
		t0, c0 := time.Now(), cpuSeconds()
		check(b, m.PollAll(ctx, false), n, n/5)
		wall += time.Since(t0)
		cpu += cpuSeconds() - c0
	}
	b.ReportMetric(float64(n*b.N)/wall.Seconds(), "feeds/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/pass")
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

func check(b *testing.B, res []Result, n, changed int) {
	b.Helper()
	notMod, failed, newItems := 0, 0, 0
	for _, r := range res {
		if r.Err != nil {
			failed++
			if failed < 3 {
				b.Log(r.Err)
			}
		}
		if r.NotModified {
			notMod++
		}
		newItems += r.New
	}
	if failed > 0 {
		b.Fatalf("%d of %d feeds failed", failed, n)
	}
	if changed > 0 && (notMod != n-changed || newItems != changed) {
		b.Fatalf("pass: %d not modified, %d new items; want %d and %d", notMod, newItems, n-changed, changed)
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMB reads the process's peak resident set size (VmHWM) on Linux.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmHWM:"), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
