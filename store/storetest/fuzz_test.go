package storetest_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// FuzzWritePath writes an item and its alert with fuzzed text through
// CommitPoll, and an ops alert through Enqueue, into SQLite and (with
// WIREWATCH_TEST_POSTGRES_URL set) PostgreSQL: every backend must accept
// them and read back the same, clean values, so that the two can never
// disagree about what they take again (issue 17.1).
//
//	WIREWATCH_TEST_POSTGRES_URL=... go test -fuzz FuzzWritePath ./store/storetest/
func FuzzWritePath(f *testing.F) {
	f.Add("item-1", "Strike \x00 deep", "https://example.org/a", "rule", "#desk", "… strike …", "feed down")
	stores := []store.Store{storetest.OpenSQLite(f)}
	if os.Getenv(storetest.EnvPostgresURL) != "" {
		stores = append(stores, storetest.OpenPostgres(f))
	}
	for _, s := range stores {
		if err := s.SyncFeeds(f.Context(), []store.FeedDef{{Key: "fuzz", URL: "http://127.0.0.1/fuzz", Due: storetest.T0}}); err != nil {
			f.Fatal(err)
		}
	}
	n := 0
	f.Fuzz(func(t *testing.T, id, title, link, rule, channel, snippet, text string) {
		n++
		// Unique per run, so each input is new to the stores.
		id = fmt.Sprintf("%d/%s", n, id)
		if channel == "" || store.CleanText(channel, store.MaxName) == "" {
			channel = "#c" + channel
		}
		item := store.Item{FeedKey: "fuzz", ID: id, Title: title, Link: link, Published: storetest.T0, FirstSeen: storetest.T0}
		a := store.Alert{ID: store.AlertID("fuzz", id, rule, channel), Kind: store.KindItem, Channel: channel,
			FeedKey: "fuzz", ItemID: id, Rule: rule, Title: title, Link: link, Snippet: snippet,
			Marks: [][2]int{{0, len(snippet) / 2}}, CreatedAt: storetest.T0}
		ops := store.Alert{ID: fmt.Sprintf("ops-%d", n), Kind: store.KindOps, Channel: channel, Text: text, CreatedAt: storetest.T0}
		var got [][]store.Alert
		for _, s := range stores {
			ctx := t.Context()
			fs, err := s.Feed(ctx, "fuzz")
			if err != nil {
				t.Fatal(err)
			}
			fs.LastPoll = storetest.T0
			if _, err := s.CommitPoll(ctx, store.Poll{Feed: fs, Items: []store.Item{item}, Alerts: []store.Alert{a}}); err != nil {
				t.Fatalf("%T refused the poll: %v", s, err)
			}
			if _, err := s.Enqueue(ctx, []store.Alert{ops}); err != nil {
				t.Fatalf("%T refused the ops alert: %v", s, err)
			}
			unseen, err := s.UnseenItems(ctx, "fuzz", []string{id})
			if err != nil || len(unseen) != 0 {
				t.Fatalf("%T: the item is not found by its id: unseen %q, %v", s, unseen, err)
			}
			var as []store.Alert
			for _, want := range []store.Alert{a, ops} {
				r, err := s.Alert(ctx, want.ID)
				if err != nil {
					t.Fatalf("%T: alert %q not found by its id: %v", s, want.ID, err)
				}
				c := store.CleanAlert(want)
				if r.Rule != c.Rule || r.Title != c.Title || r.Link != c.Link || r.Snippet != c.Snippet ||
					r.Text != c.Text || r.Channel != c.Channel || r.ItemID != c.ItemID || !slices.Equal(r.Marks, c.Marks) {
					t.Fatalf("%T read back\n%q\nwant\n%q", s, []any{r.Rule, r.Title, r.Link, r.Snippet, r.Marks, r.Text, r.Channel},
						[]any{c.Rule, c.Title, c.Link, c.Snippet, c.Marks, c.Text, c.Channel})
				}
				r.CreatedAt, r.NextAttempt = time.Time{}, time.Time{}
				as = append(as, r)
			}
			got = append(got, as)
		}
		for i := 1; i < len(got); i++ {
			if fmt.Sprintf("%#v", got[i]) != fmt.Sprintf("%#v", got[0]) {
				t.Fatalf("the stores disagree:\n%#v\n%#v", got[0], got[i])
			}
		}
	})
}
