package monitor

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// waitFor waits until cond holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slowFeed serves body once release is closed (or a value is sent on
// it), counting the requests: a poll in progress for as long as the test
// wants.
func slowFeed(t *testing.T, body string) (srv *httptest.Server, release chan struct{}, hits *atomic.Int32) {
	release, hits = make(chan struct{}), new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, release, hits
}

// A poll that outlives its lease keeps the lease, its feed takes one slot
// only, and the other feeds go on being polled (issue 18.1: a 40,000-item
// poll outlived its 45 s lease, the process claimed the feed again and
// again, and with concurrency = 3 every slot held that one feed).
func TestLongPollKeepsItsLeaseAndOneSlot(t *testing.T) {
	slow, release, slowHits := slowFeed(t, `<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title><item><guid>s1</guid><title>slow strike</title></item></channel></rss>`)
	defer close(release)
	good := &wire{}
	gs := httptest.NewServer(good)
	defer gs.Close()
	h := newHarness(t, []Feed{
		{Key: "slow", Name: "Slow", URL: slow.URL, Every: time.Minute, Backfill: time.Hour},
		{Key: "good", Name: "Good", URL: gs.URL, Every: time.Minute, Backfill: time.Hour},
	}, map[string]string{"Strikes": `strike`}, func(o *Options) {
		o.Concurrency = 3
		o.Lease = time.Minute
		o.Fetcher = fetch.New(fetch.Options{AllowPrivate: true, Timeout: time.Minute})
	})
	h.mon.leaseCheck = 2 * time.Millisecond
	good.add("g1", "Good strike", "", h.clock.Now())
	ctx := context.Background()
	state := func(key string) store.FeedState {
		st, err := h.store.Feed(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	h.clock.Advance(time.Second) // both due
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.mon.Run(runCtx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, "the slow feed is being fetched", func() bool { return slowHits.Load() == 1 })
	waitFor(t, "the good feed is polled", func() bool { return state("good").Polls == 1 })

	// Four minutes pass while the slow poll runs: four times its lease.
	for i := range 6 {
		h.clock.Advance(40 * time.Second)
		waitFor(t, fmt.Sprintf("the slow feed's lease follows the clock (step %d)", i), func() bool {
			st := state("slow")
			return st.LeaseOwner == "test" && st.LeaseUntil.After(h.clock.Now().Add(30*time.Second))
		})
		if n := slowHits.Load(); n != 1 {
			t.Fatalf("the slow feed was fetched %d times while its first poll ran", n)
		}
	}
	waitFor(t, "the good feed is polled again meanwhile", func() bool {
		st := state("good")
		return st.Polls >= 2 && st.NextDue.After(h.clock.Now())
	})
	if n := slowHits.Load(); n != 1 {
		t.Fatalf("the slow feed was fetched %d times while its first poll ran", n)
	}
	release <- struct{}{}
	waitFor(t, "the slow poll is committed and its lease released", func() bool {
		st := state("slow")
		return st.Polls == 1 && st.LeaseOwner == ""
	})
}

// Should the lease lapse all the same (the store did not answer the
// extensions in time), the process that claims the feed again does not
// start a second poll of it while the first runs.
func TestExpiredLeaseNeverTakesASecondSlot(t *testing.T) {
	slow, release, slowHits := slowFeed(t, `<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title></channel></rss>`)
	h := newHarness(t, []Feed{{Key: "slow", Name: "Slow", URL: slow.URL, Every: time.Minute}},
		map[string]string{"Strikes": `strike`}, func(o *Options) {
			o.Concurrency = 3
			o.Lease = time.Minute
			o.Fetcher = fetch.New(fetch.Options{AllowPrivate: true, Timeout: time.Minute})
		})
	h.mon.leaseCheck = time.Hour // no extension comes in time
	ctx := context.Background()
	h.clock.Advance(time.Second)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.mon.Run(runCtx) }()
	waitFor(t, "the slow feed is being fetched", func() bool { return slowHits.Load() == 1 })
	h.clock.Advance(2 * time.Minute) // the lease lapsed
	waitFor(t, "the process claims the feed again", func() bool {
		st, err := h.store.Feed(ctx, "slow")
		return err == nil && st.LeaseUntil.After(h.clock.Now())
	})
	close(release)
	cancel()
	<-done // Run returns once every poll it started has ended
	if n := slowHits.Load(); n != 1 {
		t.Fatalf("the feed was fetched %d times: a second poll started while the first ran", n)
	}
}

// refuseItems installs, in the store's own database, a trigger that
// refuses to record any item whose title contains "REFUSE-ME": a real
// refusal by the database, the way a constraint or a bad byte would be.
func refuseItems(t *testing.T, st store.Store) {
	t.Helper()
	switch s := st.(type) {
	case *sqlite.Store:
		db, err := sql.Open("sqlite", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TRIGGER refuse_items BEFORE INSERT ON items
			WHEN NEW.title LIKE '%REFUSE-ME%' BEGIN SELECT RAISE(ABORT, 'item refused by the test trigger'); END`); err != nil {
			t.Fatal(err)
		}
	case *postgres.Store:
		for _, q := range []string{
			`CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.title LIKE '%REFUSE-ME%' THEN RAISE EXCEPTION 'item refused by the test trigger'; END IF;
				RETURN NEW;
			END $$`,
			`CREATE TRIGGER refuse_items BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION refuse_items()`,
		} {
			if _, err := s.Pool().Exec(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
	default:
		t.Fatalf("no trigger for %T", st)
	}
}

// One item the store refuses never stops its feed: the poll records the
// other items and their alerts, logs the skipped item with the feed's name
// and the item's id, counts it, and the feed stays healthy (issue 17.2).
func TestOneBadItemNeverStopsItsFeed(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			st := openBackend(t, backend)
			refuseItems(t, st)
			w := &wire{}
			srv := httptest.NewServer(w)
			defer srv.Close()
			var logs lockedBuffer
			ms := metrics.New()
			h := newHarnessOn(t, st, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour}},
				map[string]string{"Strikes": `strike`}, func(o *Options) {
					o.Metrics = ms
					o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				})
			now := h.clock.Now()
			for i := range 7 {
				title := fmt.Sprintf("Strike number %d", i)
				if i == 3 {
					title = "REFUSE-ME strike"
				}
				w.add(fmt.Sprintf("item-%d", i), title, "", now)
			}
			res := h.pollAll()
			if res[0].Err != nil || res[0].New != 6 || res[0].Queued != 6 {
				t.Fatalf("poll with one refused item: err %v, %d new, %d queued; want no error, 6 new items and 6 alerts", res[0].Err, res[0].New, res[0].Queued)
			}
			ctx := context.Background()
			unseen, err := st.UnseenItems(ctx, "wire", []string{"item-0", "item-3", "item-6"})
			if err != nil {
				t.Fatal(err)
			}
			if len(unseen) != 1 || unseen[0] != "item-3" {
				t.Fatalf("unseen %v, want only the refused item-3", unseen)
			}
			f, err := st.Feed(ctx, "wire")
			if err != nil {
				t.Fatal(err)
			}
			if f.ErrorStreak != 0 || f.LastError != "" || f.Polls != 1 || f.ETag == "" || f.LeaseOwner != "" {
				t.Fatalf("feed after the poll: %+v, want healthy, polled once, validators kept", f)
			}
			if got := scrapeLine(t, ms, `wirewatch_items_skipped_total{reason="store_refused"}`); got != "1" {
				t.Fatalf("wirewatch_items_skipped_total{reason=store_refused} = %q, want 1", got)
			}
			line := logs.line("skipping an item")
			if !strings.Contains(line, "feed=Wire") || !strings.Contains(line, "item=item-3") || !strings.Contains(line, "refused by the test trigger") {
				t.Fatalf("log of the skipped item %q, want the feed, the item and the reason", line)
			}
			// The next document: the new item is recorded, the bad one
			// tried again and skipped again.
			w.add("item-7", "Strike seven", "", now)
			h.clock.Advance(10 * time.Minute)
			res = h.pollAll()
			if res[0].Err != nil || res[0].New != 1 || res[0].Queued != 1 {
				t.Fatalf("second poll: err %v, %d new, %d queued; want item-7 only", res[0].Err, res[0].New, res[0].Queued)
			}
		})
	}
}

// scrapeLine returns the value of one series in the metrics exposition.
func scrapeLine(t *testing.T, ms *metrics.Set, series string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ms.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, ln := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(ln, series+" "); ok {
			return v
		}
	}
	return ""
}

// lockedBuffer collects log lines from concurrent polls.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// line returns the first line containing s.
func (l *lockedBuffer) line(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ln := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(ln, s) {
			return ln
		}
	}
	return ""
}

// A JSON Feed whose item has a NUL (\u0000) in its title and body, a 1 MB
// title and 10,000 categories is polled into PostgreSQL: the poll
// succeeds, every item alerts, and the hostile ones are stored cleaned
// (issue 17.1: the NUL failed the whole poll's transaction, on every
// poll, so none of the feed's items ever alerted).
func TestHostileJSONFeedIntoPostgres(t *testing.T) {
	st := storetest.OpenPostgres(t)
	cats := make([]string, 10000)
	for i := range cats {
		cats[i] = fmt.Sprintf(`"category %d"`, i)
	}
	long := strings.Repeat("strike ", 150000) // about 1 MB
	body := fmt.Sprintf(`{"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": [
		{"id": "nul-1", "url": "https://example.org/nul-1", "title": "Strike\u0000 deep into Afghanistan",
		 "content_text": "Asif\u0000 warned of a strike \u0000deep into Afghanistan.", "date_published": "2026-11-24T11:00:00Z"},
		{"id": "ok-2", "url": "https://example.org/ok-2", "title": "Another strike reported",
		 "content_text": "An ordinary strike report.", "date_published": "2026-11-24T11:00:00Z"},
		{"id": "surrogate-3", "url": "https://example.org/s-3", "title": "Strike \ud800 and \uffff",
		 "content_text": "strike", "date_published": "2026-11-24T11:00:00Z"},
		{"id": "big-4", "url": "https://example.org/big-4", "title": %q,
		 "content_text": "strike", "tags": [%s], "date_published": "2026-11-24T11:00:00Z"}
	]}`, long, strings.Join(cats, ","))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/feed+json")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	h := newHarnessOn(t, st, []Feed{{Key: "hostile", Name: "Hostile", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`}, nil)
	res := h.pollAll()
	if res[0].Err != nil || res[0].New != 4 || res[0].Queued != 4 {
		t.Fatalf("poll of the hostile JSON Feed into PostgreSQL: err %v, %d new, %d queued; want 4 and 4", res[0].Err, res[0].New, res[0].Queued)
	}
	byItem := map[string]store.Alert{}
	for _, a := range h.alerts() {
		byItem[a.ItemID] = a
	}
	if a := byItem["nul-1"]; a.Title != "Strike deep into Afghanistan" || strings.ContainsRune(a.Snippet, 0) || a.Snippet == "" {
		t.Errorf("the NUL item's alert: title %q snippet %q, want them cleaned", a.Title, a.Snippet)
	}
	if a := byItem["ok-2"]; a.Title != "Another strike reported" {
		t.Errorf("the ordinary item's alert: %+v", a)
	}
	if a := byItem["surrogate-3"]; a.Title == "" || !store.IsClean(a.Title, store.MaxTitle) {
		t.Errorf("the surrogate item's alert title %q is not clean", a.Title)
	}
	if a := byItem["big-4"]; len(a.Title) > store.MaxTitle || !strings.HasSuffix(a.Title, "…") {
		t.Errorf("the 1 MB title was stored as %d bytes", len(a.Title))
	}
	// And the next poll of the same document finds nothing new: the
	// cleaned ids are the feed's stable identities.
	h.clock.Advance(10 * time.Minute)
	if res := h.pollAll(); res[0].Err != nil || res[0].New != 0 {
		t.Fatalf("second poll: err %v, %d new; want nothing new", res[0].Err, res[0].New)
	}
}

// A store that is full takes small writes and refuses big ones: the
// feed's state alone is recorded, its items are not. That is no item's
// fault, and no item may be skipped for it (skipped items are only tried
// again when the document changes, so a full disk would have lost their
// alerts). The test's trigger answers every item insert the way a full
// PostgreSQL disk does (SQLSTATE 53100 disk_full); once it is gone, the
// next poll records every item and queues every alert (issue 17.3).
func TestFullStoreSkipsNoItem(t *testing.T) {
	st := openBackend(t, "postgres")
	pg := st.(*postgres.Store)
	for _, q := range []string{
		`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
		`CREATE TRIGGER disk_full BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION disk_full()`,
	} {
		if _, err := pg.Pool().Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	ms := metrics.New()
	h := newHarnessOn(t, st, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour}},
		map[string]string{"Strikes": `strike`}, func(o *Options) { o.Metrics = ms })
	now := h.clock.Now()
	for i := range 5 {
		w.add(fmt.Sprintf("item-%d", i), fmt.Sprintf("Strike number %d", i), "", now)
	}
	res := h.pollAll()
	if res[0].Err == nil || !errors.Is(res[0].Err, store.ErrUnavailable) {
		t.Fatalf("poll into a full store: err %v, %d new, %d queued; want the poll to fail with store.ErrUnavailable", res[0].Err, res[0].New, res[0].Queued)
	}
	if got := scrapeLine(t, ms, `wirewatch_items_skipped_total{reason="store_refused"}`); got != "0" {
		t.Fatalf("wirewatch_items_skipped_total{reason=store_refused} = %q, want 0: the full store is no item's fault", got)
	}
	if _, err := pg.Pool().Exec(t.Context(), `DROP TRIGGER disk_full ON items`); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(10 * time.Minute) // the same document, polled again
	res = h.pollAll()
	if res[0].Err != nil || res[0].New != 5 || res[0].Queued != 5 {
		t.Fatalf("poll once the store has room: err %v, %d new, %d queued; want 5 new items and 5 alerts", res[0].Err, res[0].New, res[0].Queued)
	}
}
