package metrics_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// Feed-health gauges come from the real SQLite store at scrape time.
func TestWatchFeeds(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "wirewatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.Migrate(ctx))
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	must(st.SyncFeeds(ctx, []store.FeedDef{
		{Key: "a", URL: "https://a.example/feed", Due: t0},
		{Key: "b", URL: "https://b.example/feed", Due: t0},
		{Key: "c", URL: "https://c.example/feed", Due: t0},
	}))
	commit := func(key string, edit func(*store.FeedState)) {
		f, err := st.Feed(ctx, key)
		must(err)
		edit(&f)
		_, err = st.CommitPoll(ctx, store.Poll{Feed: f})
		must(err)
	}
	commit("a", func(f *store.FeedState) { // fine, 10 minutes ago
		f.LastPoll, f.LastSuccess, f.Polls = t0.Add(-10*time.Minute), t0.Add(-10*time.Minute), 1
	})
	commit("b", func(f *store.FeedState) { // succeeded 3 h ago, failing since
		f.LastPoll, f.LastSuccess, f.Polls = t0.Add(-time.Minute), t0.Add(-3*time.Hour), 5
		f.ErrorStreak, f.FailingSince, f.LastError = 4, t0.Add(-2*time.Hour), "timeout"
	})
	commit("c", func(f *store.FeedState) { // never worked
		f.LastPoll, f.ErrorStreak, f.FailingSince, f.LastError = t0.Add(-time.Minute), 1, t0.Add(-time.Minute), "404"
	})

	s := metrics.New()
	s.WatchFeeds(st.Feeds, func() time.Time { return t0 })
	f := scrape(t, s)
	for name, want := range map[string]float64{
		"wirewatch_feed_state_up":                     1,
		"wirewatch_feeds_failing":                     2,
		"wirewatch_feeds_never_succeeded":             1,
		"wirewatch_feed_last_success_max_age_seconds": 3 * 3600,
	} {
		if got := value(t, f, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	// The store going away does not break the scrape; it says so.
	st.Close()
	f = scrape(t, s)
	if got := value(t, f, "wirewatch_feed_state_up"); got != 0 {
		t.Errorf("feed_state_up = %v with the store closed, want 0", got)
	}
	if _, ok := f["wirewatch_feeds_failing"]; ok {
		t.Error("feeds_failing exposed without a store read")
	}
}
