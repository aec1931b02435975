package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// A full database (PRAGMA max_page_count holds the file at its size, the
// way a full disk does) still takes the writes that fit in its pages and
// refuses the others with SQLITE_FULL: those errors say the store is
// unavailable (store.ErrUnavailable), so that no item is blamed for them.
// (A refusal of the data itself does not: monitor's
// TestOneBadItemNeverStopsItsFeed.)
func TestFullFileIsUnavailable(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.SyncFeeds(ctx, []store.FeedDef{{Key: "wire", URL: "https://news.example.org/rss"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if err := st.Heartbeat(ctx, "me", now); err != nil {
		t.Fatal(err)
	}
	if err := st.ExecForTest(ctx, `PRAGMA max_page_count = 1`); err != nil { // no more pages than now
		t.Fatal(err)
	}
	feed, err := st.Feed(ctx, "wire")
	if err != nil {
		t.Fatal(err)
	}
	var items []store.Item
	for i := range 200 {
		items = append(items, store.Item{FeedKey: "wire", ID: fmt.Sprintf("item-%d", i), Title: strings.Repeat("Strike ", 200), FirstSeen: now, Outcome: store.OutcomeNoMatch})
	}
	_, err = st.CommitPoll(ctx, store.Poll{Feed: feed, Items: items})
	if err == nil || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a poll into a full file: %v, want an error wrapping store.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "full") {
		t.Errorf("error %q does not say the file is full", err)
	}
	// What fits still goes in: the full store takes small writes.
	if err := st.Heartbeat(ctx, "me", now.Add(time.Second)); err != nil {
		t.Errorf("heartbeat into a full file whose row exists: %v", err)
	}
}
