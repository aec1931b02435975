package monitor

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// maxFeeds serves feed N at /f/N: an RSS document of just under size
// bytes made of small items (about 110 bytes each: 10 MB is about 95,000
// items, like the feeds of issue 18.8). It is written as it is served,
// chunked and without Content-Length, so the server holds no copy of it
// and the fetcher cannot size its buffer in advance (the worst case).
// Bumping version makes every item of every feed new.
type maxFeeds struct {
	size    int
	version atomic.Int64
}

func (s *maxFeeds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f/"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	bw := bufio.NewWriterSize(w, 64<<10)
	writeMaxFeed(bw, i, s.version.Load(), s.size)
	bw.Flush()
}

// writeMaxFeed writes feed i at version v and returns its item count.
// Version 0 is one item (the feed's first poll, which records it); later
// versions fill size with new, undated items (a poll after the first
// analyses and matches every one), their titles one or two common words
// and four or five rare ones: about one item in thirty raises an alert.
func writeMaxFeed(w io.Writer, i int, v int64, size int) int {
	cw := &countWriter{w: w}
	fmt.Fprintf(cw, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Max %d</title><link>https://max%d.example.org/</link>`, i, i)
	const tail = "</channel></rss>"
	n := 0
	for ; v > 0 || n < 1; n++ {
		h := uint64(v)<<40 | uint64(i)<<32 | uint64(n)
		second := pseudoWord(h | 1<<28)
		if n%8 == 0 {
			second = words[(i*11+n*5+3)%len(words)] // about 1 item in 30 raises an alert
		}
		item := fmt.Sprintf(`<item><guid isPermaLink="false">%d-%d</guid><title>%s %s %s %s %s %s</title></item>`,
			v, n, words[(i*7+n*13)%len(words)], pseudoWord(h), pseudoWord(h|1<<29), second, pseudoWord(h|1<<30), pseudoWord(h|1<<31))
		if cw.n+len(item)+len(tail) > size {
			break
		}
		io.WriteString(cw, item)
	}
	io.WriteString(cw, tail)
	return n
}

// pseudoWord is one of 4,096 made-up words, picked by a hash of h: it
// makes the items' texts differ as news does (items that all look alike
// would all join one story).
func pseudoWord(h uint64) string {
	const syl = "kalomineruvasotipezedubagifohuje"
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 29
	var b [6]byte
	for k := range 3 {
		j := (h >> (k * 4)) % 16 * 2
		b[2*k], b[2*k+1] = syl[j], syl[j+1]
	}
	return string(b[:])
}

type countWriter struct {
	w io.Writer
	n int
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// heapPeak samples the Go heap (live and not yet swept objects) every
// few milliseconds and keeps the highest value.
type heapPeak struct {
	stop, done chan struct{}
	peak       uint64
}

func sampleHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			h.peak = max(h.peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the peak in MB.
func (h *heapPeak) Stop() float64 {
	close(h.stop)
	<-h.done
	return float64(h.peak) / (1 << 20)
}

// maxPoll is the worst case of issue 18.8 with the defaults: n feeds of
// the default size cap (10 MB, about 95,000 items each) polled at once
// through the real poll path (loopback HTTP, parse, the real SQLite
// store, matching against 20 rules, kept texts, story grouping), every
// item new and, after the feeds' first poll, analysed and matched.
type maxPoll struct {
	srv    *httptest.Server
	feeds  *maxFeeds
	mon    *Monitor
	items  int // per feed
	queued int // alerts queued by the last pass
}

func newMaxPoll(tb testing.TB, n, size int, opts func(*Options)) *maxPoll {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	mf := &maxFeeds{size: size}
	srv := httptest.NewServer(mf)
	tb.Cleanup(srv.Close)
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "state.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	var rs []*rules.Rule
	routes := map[string]Route{}
	for i := range 20 {
		name := fmt.Sprintf("r%d", i)
		r, err := rules.Compile(name, fmt.Sprintf("%s AND %s", words[i%len(words)], words[(i*7+3)%len(words)]))
		if err != nil {
			tb.Fatal(err)
		}
		rs = append(rs, r)
		routes[name] = Route{Channels: []string{"#desk"}, Group: i%2 == 0}
	}
	feeds := make([]Feed, n)
	for i := range feeds {
		feeds[i] = Feed{Key: strconv.Itoa(i), Name: "Max " + strconv.Itoa(i), URL: fmt.Sprintf("%s/f/%d", srv.URL, i),
			Every: 5 * time.Minute, Backfill: 24 * time.Hour}
	}
	o := Options{
		Store: st,
		// The defaults but for the per-host limit: every feed is on
		// this one loopback host.
		Fetcher:   fetch.New(fetch.Options{AllowPrivate: true, PerHost: n, Timeout: time.Minute}),
		Feeds:     feeds,
		Rules:     &RuleSet{Index: rules.NewIndex(rs), Routes: routes},
		Now:       func() time.Time { return now },
		Retention: 90 * 24 * time.Hour,
		KeepText:  7 * 24 * time.Hour,
		Logger:    slog.New(slog.DiscardHandler),
	}
	if opts != nil {
		opts(&o)
	}
	m, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Sync(context.Background()); err != nil {
		tb.Fatal(err)
	}
	for _, r := range m.PollAll(context.Background(), false) {
		if r.Err != nil || r.New != 1 {
			tb.Fatalf("first poll of %s: %+v", r.Feed, r)
		}
	}
	return &maxPoll{srv: srv, feeds: mf, mon: m, items: writeMaxFeed(io.Discard, 0, 1, size)}
}

// pass makes every item new and polls every feed once, at once.
func (p *maxPoll) pass(tb testing.TB) {
	p.feeds.version.Add(1)
	res := p.mon.PollAll(context.Background(), false)
	p.queued = 0
	for _, r := range res {
		p.queued += r.Queued
		if r.Err != nil || r.New < p.items-10 || r.New > p.items+10 {
			tb.Fatalf("feed %s: %d items, %d new (want about %d): %v", r.Feed, r.Items, r.New, p.items, r.Err)
		}
	}
}

// BenchmarkPollMaxFeeds polls 8 (or 16, the default concurrency) feeds of
// 10 MB, about 95,000 new items each, at once, as issue 18.8 did (1.9
// GB). Reported: the peak of the Go heap during the pass, the process's
// peak RSS (run one sub-benchmark per process, so that nothing else
// raised it) and the heap the process keeps after it. "default" has the
// default document budget (DefaultDocumentBudget); "unbudgeted" lets
// every poll parse at once.
//
//	go test -run '^$' -bench 'PollMaxFeeds/default/feeds=8$' -benchtime 1x -benchmem ./monitor/
//	go test -run '^$' -bench 'PollMaxFeeds/default/feeds=16$' -benchtime 1x -benchmem ./monitor/
//	go test -run '^$' -bench 'PollMaxFeeds/unbudgeted/feeds=8$' -benchtime 1x -benchmem ./monitor/
func BenchmarkPollMaxFeeds(b *testing.B) {
	for _, n := range []int{8, 16} {
		b.Run(fmt.Sprintf("default/feeds=%d", n), func(b *testing.B) { benchMaxFeeds(b, n, nil) })
	}
	b.Run("unbudgeted/feeds=8", func(b *testing.B) {
		benchMaxFeeds(b, 8, func(o *Options) { o.DocumentBudget = 1 << 40 })
	})
}

func benchMaxFeeds(b *testing.B, n int, opts func(*Options)) {
	const size = 10 << 20
	p := newMaxPoll(b, n, size, opts)
	b.SetBytes(int64(n * size))
	b.ReportAllocs()
	h := sampleHeap()
	for b.Loop() {
		p.pass(b)
	}
	b.ReportMetric(h.Stop(), "peak-heap-MB")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	b.ReportMetric(float64(p.items), "items/feed")
	b.ReportMetric(float64(p.queued)/float64(n), "alerts/feed")
	// What the process keeps between polls (the story index of the
	// alerts, the analyser's word forms), not the polls' own.
	runtime.GC()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	b.ReportMetric(float64(live[0].Value.Uint64())/(1<<20), "kept-heap-MB")
	runtime.KeepAlive(p)
}

// pollMemoryChild, in the environment, makes TestPollMemoryIsBounded the
// measured process: "FEEDS,BYTES,BUDGET".
const pollMemoryChild = "WIREWATCH_TEST_POLLMEM"

// TestPollMemoryIsBounded polls feeds of thousands of items at once, all
// items new, in a process of its own (so that its peak RSS is the
// poll's), and checks the Go heap's peak against a bound that the poll
// before issue 18.8 exceeded about twice over, holding every copy of
// every item of every feed at once. Default size: 3 feeds of 3 MB with a
// 4 MB document budget (a few seconds; before: 162 MB, after: 49 MB);
// WIREWATCH_FULL=1: 8 feeds of 10 MB with the defaults, the benchmark's
// case (about 30 s; before: 1,004 MB, after: 352 MB).
func TestPollMemoryIsBounded(t *testing.T) {
	if spec := os.Getenv(pollMemoryChild); spec != "" {
		var n, size int
		var budget int64
		if _, err := fmt.Sscanf(spec, "%d,%d,%d", &n, &size, &budget); err != nil {
			t.Fatal(err)
		}
		p := newMaxPoll(t, n, size, func(o *Options) { o.DocumentBudget = budget })
		h := sampleHeap()
		p.pass(t)
		fmt.Printf("POLLMEM %.0f %.0f %d\n", h.Stop(), peakRSSMB(), p.items)
		return
	}
	if testing.Short() {
		t.Skip("polls megabytes of feeds in a process of its own")
	}
	if raceEnabled {
		t.Skip("memory is measured without the race detector (its process is many times slower and bigger): go test -run TestPollMemoryIsBounded ./monitor/")
	}
	n, size, budget, bound := 3, 3<<20, int64(4<<20), 90.0
	if testsize.Full() {
		n, size, budget, bound = 8, 10<<20, DefaultDocumentBudget, 450
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPollMemoryIsBounded$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d,%d", pollMemoryChild, n, size, budget))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the measured process: %v\n%s", err, out)
	}
	var heap, rss float64
	var items int
	i := strings.Index(string(out), "POLLMEM ")
	if i < 0 {
		t.Fatalf("no measurement in the output:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "POLLMEM %g %g %d", &heap, &rss, &items); err != nil {
		t.Fatalf("%v in %q", err, out[i:])
	}
	t.Logf("%d feeds of %d MB (%d items each), document budget %d MB: peak heap %.0f MB, peak RSS %.0f MB",
		n, size>>20, items, budget>>20, heap, rss)
	if heap > bound {
		t.Errorf("the poll's heap peaked at %.0f MB, over %.0f MB", heap, bound)
	}
}
