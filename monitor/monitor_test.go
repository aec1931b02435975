package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// wire is a loopback feed server whose items and status the test changes.
type wire struct {
	mu     sync.Mutex
	items  []string // <item> elements
	status int
	etag   string
	hits   int
	cond   int // requests that carried If-None-Match
}

func (w *wire) add(guid, title, desc string, published time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = append([]string{fmt.Sprintf("<item><guid>%s</guid><title>%s</title><link>https://news.example.org/%s</link><pubDate>%s</pubDate><description>%s</description></item>",
		guid, title, guid, published.UTC().Format(time.RFC1123Z), desc)}, w.items...)
	w.etag = fmt.Sprintf(`"v%d-%d"`, len(w.items), w.hits)
}

func (w *wire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hits++
	if w.status != 0 {
		rw.WriteHeader(w.status)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		w.cond++
		if inm == w.etag {
			rw.WriteHeader(http.StatusNotModified)
			return
		}
	}
	rw.Header().Set("ETag", w.etag)
	rw.Header().Set("Content-Type", "application/rss+xml")
	fmt.Fprintf(rw, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title><link>https://news.example.org/</link>%s</channel></rss>`, strings.Join(w.items, ""))
}

type harness struct {
	t     *testing.T
	clock *clock
	store store.Store
	mon   *Monitor
}

func newHarness(t *testing.T, feeds []Feed, ruleQueries map[string]string, opts func(*Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newHarnessOn(t, st, feeds, ruleQueries, opts)
}

// newHarnessOn is newHarness on a given (migrated) store.
func newHarnessOn(t *testing.T, st store.Store, feeds []Feed, ruleQueries map[string]string, opts func(*Options)) *harness {
	t.Helper()
	var rs []*rules.Rule
	routes := map[string]Route{}
	for name, q := range ruleQueries {
		r, err := rules.Compile(name, q)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
		routes[name] = Route{Channels: []string{"#" + strings.ToLower(strings.ReplaceAll(name, " ", "-"))}}
	}
	c := &clock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	o := Options{
		Store:   st,
		Fetcher: fetch.New(fetch.Options{AllowPrivate: true, Timeout: 5 * time.Second}),
		Feeds:   feeds,
		Rules:   &RuleSet{Index: rules.NewIndex(rs), Routes: routes},
		Now:     c.Now,
		Owner:   "test",
		Logger:  slog.New(slog.DiscardHandler),
	}
	if opts != nil {
		opts(&o)
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, clock: c, store: st, mon: m}
}

func (h *harness) pollAll() []Result {
	h.t.Helper()
	return h.mon.PollAll(context.Background(), false)
}

func (h *harness) alerts() []store.Alert {
	h.t.Helper()
	as, err := h.store.Alerts(context.Background(), store.AlertFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

func TestPollQueuesEachMatchOnce(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour, Channels: []string{"#all-wire"}}},
		map[string]string{"Strikes": `strike AND Afghanistan`, "Talks": `"talks" AND Istanbul`}, nil)
	now := h.clock.Now()
	w.add("a1", "Pakistan warns of strikes deep into Afghanistan", "Asif said", now.Add(-time.Hour))
	w.add("a2", "Istanbul talks end without a deal", "No agreement", now.Add(-2*time.Hour))
	w.add("a3", "Weather in Karachi", "Rain", now.Add(-3*time.Hour))

	res := h.pollAll()
	if res[0].Err != nil || res[0].Items != 3 || res[0].New != 3 || res[0].Queued != 4 {
		t.Fatalf("first poll: %+v", res[0])
	}
	got := map[string]bool{}
	for _, a := range h.alerts() {
		got[a.Rule+" "+a.Channel+" "+a.ItemID] = true
		if a.FeedName != "Wire" || a.Link == "" || a.Title == "" || a.Snippet == "" {
			t.Errorf("alert lacks rendering fields: %+v", a)
		}
	}
	for _, want := range []string{"Strikes #strikes a1", "Strikes #all-wire a1", "Talks #talks a2", "Talks #all-wire a2"} {
		if !got[want] {
			t.Errorf("missing alert %q; have %v", want, got)
		}
	}

	// The same document again: 304, nothing new.
	h.clock.Advance(10 * time.Minute)
	res = h.pollAll()
	if !res[0].NotModified || res[0].Queued != 0 {
		t.Errorf("second poll: %+v", res[0])
	}
	// A new item plus the old ones: only the new one alerts.
	w.add("a4", "Strikes reported near Afghanistan border", "", h.clock.Now())
	h.clock.Advance(10 * time.Minute)
	res = h.pollAll()
	if res[0].New != 1 || res[0].Queued != 2 {
		t.Errorf("third poll: %+v", res[0])
	}
	if n := len(h.alerts()); n != 6 {
		t.Errorf("outbox has %d alerts, want 6", n)
	}
	st, err := h.store.Feed(context.Background(), "wire")
	if err != nil {
		t.Fatal(err)
	}
	if st.Polls != 3 || st.NotModified != 1 || st.ETag == "" || !st.Initialized {
		t.Errorf("feed state: %+v", st)
	}
	if w.cond < 2 {
		t.Errorf("conditional requests: %d, want at least 2", w.cond)
	}
}

func TestFirstPollBackfill(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`}, nil)
	now := h.clock.Now()
	w.add("old", "Old strike story", "", now.Add(-48*time.Hour))
	w.add("recent", "Recent strike story", "", now.Add(-time.Hour))
	res := h.pollAll()
	if res[0].New != 2 || res[0].Queued != 1 {
		t.Fatalf("first poll: %+v", res[0])
	}
	if as := h.alerts(); len(as) != 1 || as[0].ItemID != "recent" {
		t.Errorf("alerts: %+v", as)
	}
	// After the first poll, an item is alerted whatever its date: a late
	// item is still news to the desk.
	w.add("late", "Late strike story", "", now.Add(-72*time.Hour))
	h.clock.Advance(time.Hour)
	if res := h.pollAll(); res[0].Queued != 1 {
		t.Errorf("late item: %+v", res[0])
	}
}

func TestBrokenFeedDoesNotStopOthers(t *testing.T) {
	good, bad := &wire{}, &wire{status: http.StatusInternalServerError}
	gs, bs := httptest.NewServer(good), httptest.NewServer(bad)
	defer gs.Close()
	defer bs.Close()
	h := newHarness(t, []Feed{
		{Key: "bad", Name: "Bad", URL: bs.URL, Every: 5 * time.Minute, Backfill: time.Hour},
		{Key: "good", Name: "Good", URL: gs.URL, Every: 5 * time.Minute, Backfill: time.Hour},
	}, map[string]string{"Strikes": `strike`}, func(o *Options) { o.OpsChannel = "#ops"; o.HealthAfter = 30 * time.Minute })
	good.add("g1", "Strike news", "", h.clock.Now())

	res := h.pollAll()
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), `feed "Bad"`) {
		t.Errorf("bad feed error should name the feed: %v", res[0].Err)
	}
	if res[1].Err != nil || res[1].Queued != 1 {
		t.Errorf("good feed: %+v", res[1])
	}
	st, _ := h.store.Feed(context.Background(), "bad")
	if st.ErrorStreak != 1 || st.LastError == "" || !st.NextDue.After(h.clock.Now()) {
		t.Errorf("bad feed state: %+v", st)
	}

	// Failing for longer than HealthAfter: exactly one ops alert...
	for range 5 {
		h.clock.Advance(10 * time.Minute)
		h.pollAll()
	}
	ops := func() []store.Alert {
		var out []store.Alert
		for _, a := range h.alerts() {
			if a.Kind == store.KindOps {
				out = append(out, a)
			}
		}
		return out
	}
	if got := ops(); len(got) != 1 || got[0].Channel != "#ops" || !strings.Contains(got[0].Text, "Bad") {
		t.Fatalf("ops alerts after 50 min of failure: %+v", got)
	}
	// ...and one recovery message when it comes back.
	bad.mu.Lock()
	bad.status = 0
	bad.mu.Unlock()
	h.clock.Advance(10 * time.Minute)
	h.pollAll()
	h.clock.Advance(10 * time.Minute)
	h.pollAll()
	if got := ops(); len(got) != 2 || !strings.Contains(got[0].Text+got[1].Text, "is back") {
		t.Errorf("ops alerts after recovery: %+v", got)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	bad := &wire{status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(bad)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "bad", Name: "Bad", URL: srv.URL, Every: time.Minute}}, map[string]string{"R": "x"},
		func(o *Options) { o.MaxBackoff = time.Hour })
	var delays []time.Duration
	for range 12 {
		h.pollAll()
		st, _ := h.store.Feed(context.Background(), "bad")
		delays = append(delays, st.NextDue.Sub(h.clock.Now()))
		h.clock.Advance(st.NextDue.Sub(h.clock.Now()))
	}
	for i, d := range delays {
		if d <= 0 || d > time.Hour {
			t.Errorf("delay %d = %v, want within (0, 1h]", i, d)
		}
	}
	if delays[6] <= delays[0] {
		t.Errorf("backoff does not grow: %v", delays)
	}
	if delays[11] < 30*time.Minute {
		t.Errorf("backoff should reach the cap's range (>= half of 1h with jitter): %v", delays)
	}
}

func TestDryRunRecordsNothing(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour}},
		map[string]string{"Strikes": `strike`}, nil)
	w.add("a1", "Strike", "", h.clock.Now())
	res := h.mon.PollAll(context.Background(), true)
	if len(res[0].Alerts) != 1 || res[0].Queued != 1 || !res[0].DryRun {
		t.Fatalf("dry run: %+v", res[0])
	}
	if as := h.alerts(); len(as) != 0 {
		t.Errorf("dry run queued %d alerts", len(as))
	}
	if unseen, _ := h.store.UnseenItems(context.Background(), "wire", []string{"a1"}); len(unseen) != 1 {
		t.Errorf("dry run recorded the item as seen")
	}
}

func TestRunPollsDueFeedsUntilCancelled(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: time.Minute, Backfill: time.Hour}},
		map[string]string{"Strikes": `strike`}, func(o *Options) { o.Now = time.Now })
	w.add("a1", "Strike", "", time.Now())
	// Make the feed due now.
	st, err := h.store.Feed(context.Background(), "wire")
	if err != nil {
		t.Fatal(err)
	}
	st.NextDue = time.Now().Add(-time.Second)
	if _, err := h.store.CommitPoll(context.Background(), store.Poll{Feed: st}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.mon.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for len(h.alerts()) == 0 {
		select {
		case <-deadline:
			cancel()
			t.Fatal("Run did not poll the due feed")
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
}

func TestSchedulingHints(t *testing.T) {
	mux := http.NewServeMux()
	var mu sync.Mutex
	items := 0
	mux.HandleFunc("/ttl", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><ttl>45</ttl><item><guid>x</guid><title>x</title></item></channel></rss>`)
	})
	mux.HandleFunc("/limited", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>N</title></channel></rss>`)
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var b strings.Builder
		for i := range items {
			fmt.Fprintf(&b, "<item><guid>%d</guid><title>t%d</title></item>", i, i)
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>B</title>%s</channel></rss>`, b.String())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cron, err := cronParser().Parse("0 6 * * *")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, []Feed{
		{Key: "ttl", Name: "TTL", URL: srv.URL + "/ttl", Every: 5 * time.Minute},
		{Key: "limited", Name: "Limited", URL: srv.URL + "/limited", Every: 5 * time.Minute},
		{Key: "moved", Name: "Moved", URL: srv.URL + "/old", Every: 5 * time.Minute},
		{Key: "cron", Name: "Cron", URL: srv.URL + "/new", Schedule: cron},
		{Key: "busy", Name: "Busy", URL: srv.URL + "/busy", Every: 10 * time.Minute, MinEvery: time.Minute, MaxEvery: 30 * time.Minute},
	}, map[string]string{"R": "x"}, func(o *Options) { o.MaxInterval = 30 * time.Minute })
	h.pollAll()
	state := func(key string) store.FeedState {
		st, err := h.store.Feed(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	now := h.clock.Now()
	// <ttl>45</ttl> stretches 5m, but only up to MaxInterval (30m) + 10% jitter.
	if d := state("ttl").NextDue.Sub(now); d < 30*time.Minute || d > 33*time.Minute {
		t.Errorf("ttl feed next due in %v, want 30m..33m", d)
	}
	// Retry-After: 7200 is obeyed.
	if d := state("limited").NextDue.Sub(now); d != 2*time.Hour {
		t.Errorf("rate-limited feed next due in %v, want 2h", d)
	}
	if u := state("moved").URL; u != srv.URL+"/new" {
		t.Errorf("permanent redirect: stored URL %q, want %q", u, srv.URL+"/new")
	}
	if due := state("cron").NextDue; !due.Equal(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("cron feed next due %v, want tomorrow 06:00", due)
	}

	// Adaptive: quiet polls stretch the interval up to MaxEvery, new items
	// shrink it down to MinEvery.
	interval := func() time.Duration { st := state("busy"); return st.NextDue.Sub(st.LastPoll) }
	for range 10 {
		h.clock.Advance(interval())
		h.pollAll()
	}
	if d := interval(); d != 30*time.Minute {
		t.Errorf("quiet adaptive feed: interval %v, want max_every 30m", d)
	}
	for range 10 {
		mu.Lock()
		items++
		mu.Unlock()
		h.clock.Advance(interval())
		h.pollAll()
	}
	if d := interval(); d != time.Minute {
		t.Errorf("busy adaptive feed: interval %v, want min_every 1m", d)
	}
}

func TestMute(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour}},
		map[string]string{"Strikes": `strike`}, nil)
	until := h.clock.Now().Add(time.Hour)
	rs := *h.mon.rules.Load()
	rs.Routes = map[string]Route{"Strikes": {Channels: []string{"#desk"}, MuteUntil: until}}
	h.mon.SetRules(&rs)
	w.add("m1", "Strike while muted", "", h.clock.Now())
	if res := h.pollAll(); res[0].New != 1 || res[0].Queued != 0 {
		t.Fatalf("muted rule: %+v", res[0])
	}
	// After the mute: new items alert, the muted one does not come back.
	h.clock.Advance(2 * time.Hour)
	w.add("m2", "Strike after the mute", "", h.clock.Now())
	if res := h.pollAll(); res[0].New != 1 || res[0].Queued != 1 {
		t.Fatalf("after the mute: %+v", res[0])
	}
	// A muted feed alerts nobody.
	h.mon.SetFeeds([]Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, MuteUntil: h.clock.Now().Add(time.Hour)}})
	w.add("m3", "Strike on a muted feed", "", h.clock.Now())
	h.clock.Advance(10 * time.Minute)
	if res := h.pollAll(); res[0].New != 1 || res[0].Queued != 0 {
		t.Fatalf("muted feed: %+v", res[0])
	}
}

// Three outlets report one story in their own words; a fourth item is a
// different story on the same topic.
var storyItems = []struct{ guid, title, lead string }{
	{"dawn-1", "Pakistan will strike 'deep into Afghanistan' if attacked, Khawaja Asif warns Taliban", "Defence Minister Khawaja Asif warned the Taliban regime on Wednesday that Islamabad would strike deep into Afghanistan if Afghan soil was used to launch terror attacks on Pakistan."},
	{"geo-1", "Asif warns Kabul: Pakistan ready to strike deep inside Afghanistan", "Khawaja Asif said Pakistan would conduct strikes deep into Afghan territory if terror attacks were launched from Afghan soil, after talks in Istanbul failed."},
	{"tribune-1", "Defence minister threatens strikes deep into Afghanistan after Istanbul talks fail", "Pakistan's defence minister Khawaja Asif on Wednesday threatened to strike deep into Afghanistan, warning the Taliban that attacks from Afghan soil would bring retaliation."},
	{"paktika-1", "Pakistani jets strike TTP hideouts across the border in Afghanistan's Paktika, Taliban say", "The Taliban administration said Pakistani aircraft struck targets in Paktika province near the border overnight, killing civilians; Islamabad did not confirm the strikes, the military said."},
}

func TestStoriesGroupAcrossFeedsAndRestarts(t *testing.T) {
	var wires []*wire
	var feeds []Feed
	for i := range 3 {
		w := &wire{}
		srv := httptest.NewServer(w)
		defer srv.Close()
		wires = append(wires, w)
		feeds = append(feeds, Feed{Key: fmt.Sprint("f", i), Name: fmt.Sprint("Feed ", i), URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour})
	}
	h := newHarness(t, feeds, map[string]string{"Strikes": `strike AND Afghanistan`}, nil)
	rs := *h.mon.rules.Load()
	rs.Routes = map[string]Route{"Strikes": {Channels: []string{"#desk"}, Group: true}}
	h.mon.SetRules(&rs)
	now := h.clock.Now()
	for i, it := range storyItems[:3] {
		wires[i].add(it.guid, it.title, it.lead, now)
	}
	wires[0].add(storyItems[3].guid, storyItems[3].title, storyItems[3].lead, now)
	h.pollAll()

	byItem := map[string]store.Alert{}
	for _, a := range h.alerts() {
		byItem[a.ItemID] = a
	}
	// Feeds are polled concurrently: whichever report came first opened
	// the story; the point is that there is one.
	other := byItem["paktika-1"]
	storyOf := func(id string) string { return byItem[id].StoryID }
	if storyOf("dawn-1") == "" || storyOf("dawn-1") != storyOf("geo-1") || storyOf("geo-1") != storyOf("tribune-1") {
		t.Fatalf("the three reports are not one story: %q %q %q", storyOf("dawn-1"), storyOf("geo-1"), storyOf("tribune-1"))
	}
	if other.StoryID != other.ID || other.StoryID == storyOf("dawn-1") {
		t.Errorf("the Paktika story joined the Asif story")
	}
	heads := 0
	for _, a := range byItem {
		if a.StoryID == a.ID {
			heads++
			if len(a.Signature) == 0 {
				t.Errorf("story head %s has no signature", a.ItemID)
			}
		}
	}
	if heads != 2 {
		t.Errorf("%d stories, want 2", heads)
	}

	// A new process on the same store (a restart) knows the open stories.
	h2 := &harness{t: t, clock: h.clock, store: h.store}
	m2, err := New(Options{Store: h.store, Fetcher: h.mon.o.Fetcher, Feeds: feeds, Rules: &rs, Now: h.clock.Now, Owner: "second", Logger: h.mon.log})
	if err != nil {
		t.Fatal(err)
	}
	h2.mon = m2
	h.clock.Advance(10 * time.Minute)
	wires[1].add("geo-2", "Khawaja Asif repeats warning of strikes deep into Afghanistan", "Defence minister Khawaja Asif again warned the Taliban that Pakistan would strike deep into Afghanistan if terror attacks came from Afghan soil.", h.clock.Now())
	h2.pollAll()
	found := false
	for _, a := range h.alerts() {
		if a.ItemID == "geo-2" {
			found = true
			if a.StoryID != storyOf("dawn-1") {
				t.Errorf("after a restart the new report opened story %q, want %q", a.StoryID, storyOf("dawn-1"))
			}
		}
	}
	if !found {
		t.Error("the report after the restart raised no alert")
	}
}

// remove takes an item off the feed.
func (w *wire) remove(guid string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.items = slices.DeleteFunc(w.items, func(it string) bool { return strings.Contains(it, "<guid>"+guid+"</guid>") })
	w.etag = fmt.Sprintf(`"v%d-%d"`, len(w.items), w.hits)
}

// With a retention period the store forgets items that left their feed
// long ago and prunes finished alerts, and nothing alerts twice for it: an
// item still listed stays seen, and a forgotten item listed again is old
// news.
func TestRetention(t *testing.T) {
	const retention = 90 * 24 * time.Hour
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`}, func(o *Options) { o.Retention = retention })
	ctx := context.Background()
	start := h.clock.Now()
	w.add("a1", "Strike near the Afghan border", "", start.Add(-time.Hour))
	w.add("a2", "Second strike reported", "", start.Add(-time.Hour))
	if res := h.pollAll(); res[0].Err != nil || res[0].Queued != 2 {
		t.Fatalf("first poll: %+v", res[0])
	}
	// The notifier delivers both.
	ch, claimed, err := h.store.ClaimChannel(ctx, "n", start, time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	for _, a := range claimed {
		if err := h.store.MarkSent(ctx, a.ID, "1.1", start); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.store.ReleaseChannel(ctx, ch, "n", start); err != nil {
		t.Fatal(err)
	}

	// 100 days on, a1 has left the feed, a2 is still listed, a3 is new.
	h.clock.Advance(100 * 24 * time.Hour)
	w.remove("a1")
	w.add("a3", "A new strike", "", h.clock.Now())
	if res := h.pollAll(); res[0].Err != nil || res[0].New != 1 || res[0].Queued != 1 {
		t.Fatalf("poll after 100 days: %+v, want only a3 new and alerted", res[0])
	}
	unseen, err := h.store.UnseenItems(ctx, "wire", []string{"a1", "a2", "a3"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(unseen, []string{"a1"}) {
		t.Fatalf("unseen %v, want [a1] (forgotten; a2 still listed, a3 just seen)", unseen)
	}

	// Run prunes the alerts delivered 100 days ago and keeps a3's.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.mon.Run(runCtx) }()
	deadline := time.After(20 * time.Second)
	for len(h.alerts()) != 1 {
		select {
		case <-deadline:
			cancel()
			t.Fatalf("old alerts not pruned: %d left", len(h.alerts()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if as := h.alerts(); as[0].ItemID != "a3" || as[0].State != store.StateQueued {
		t.Fatalf("left %+v, want a3's queued alert", as[0])
	}
	// The publisher lists a1 again, with its old date: it is recorded but,
	// its alert pruned and the item forgotten, only its age keeps it quiet.
	w.add("a1", "Strike near the Afghan border", "", start.Add(-time.Hour))
	h.clock.Advance(10 * time.Minute)
	if res := h.pollAll(); res[0].Err != nil || res[0].New != 1 || res[0].Queued != 0 {
		t.Fatalf("poll with a forgotten item listed again: %+v, want it recorded without an alert", res[0])
	}

	if n := len(h.alerts()); n != 1 {
		t.Fatalf("%d alerts after a1 came back, want a3's only", n)
	}
}
