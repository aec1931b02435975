package backtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// BenchmarkOneRuleWeekSQLite is BenchmarkOneRuleWeek over the real SQLite
// store: the same 100,000 records written by CommitPoll in the order they
// were first seen (100 items a poll) and read back through store.ItemTexts.
//
//	go test -run '^$' -bench OneRuleWeekSQLite -benchmem -cpu 1 -count 5 ./backtest/
func BenchmarkOneRuleWeekSQLite(b *testing.B) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "state.db"), sqlite.WithLogger(storetest.Quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchStored(b, st)
}

// BenchmarkOneRuleWeekPostgres is the same on PostgreSQL (skipped without
// WIREWATCH_TEST_POSTGRES_URL).
//
//	WIREWATCH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test go test -run '^$' -bench OneRuleWeekPostgres -benchmem -cpu 1 -count 5 ./backtest/
func BenchmarkOneRuleWeekPostgres(b *testing.B) {
	benchStored(b, storetest.OpenPostgres(b))
}

func benchStored(b *testing.B, st store.Store) {
	now := time.Now()
	storeDesk(b, st, desk(b, 100_000, now), now, true)
	benchRules(b, st, now)
}

// storeDesk stores mem's items in st as the monitor would: in the order
// they were first seen, a poll at a time (here 100 items, of one of 1,000
// feeds each), with their texts or without.
func storeDesk(tb testing.TB, st store.Store, mem *backtest.Memory, now time.Time, withText bool) (recBytes int) {
	ctx := context.Background()
	var defs []store.FeedDef
	for i := range 1000 {
		defs = append(defs, store.FeedDef{Key: fmt.Sprintf("feed-%d", i), URL: fmt.Sprintf("https://example.org/%d/feed", i), Due: now})
	}
	if err := st.SyncFeeds(ctx, defs); err != nil {
		tb.Fatal(err)
	}
	var p store.Poll
	flush := func() error {
		_, err := st.CommitPoll(ctx, p)
		p.Items = p.Items[:0]
		return err
	}
	n := 0
	err := mem.ItemTexts(ctx, time.Time{}, func(_, itemID string, seen time.Time, rec []byte) error {
		if len(p.Items) == 0 {
			f, err := st.Feed(ctx, fmt.Sprintf("feed-%d", (n/100)%1000))
			if err != nil {
				return err
			}
			p.Feed = f
		}
		n++
		it := store.Item{FeedKey: p.Feed.Key, ID: "https://www.example.org/news/2026/11/" + itemID, Title: "A headline of the usual length, about seventy characters or so", FirstSeen: seen}
		if withText {
			it.Text, recBytes = append([]byte(nil), rec...), recBytes+len(rec)
		}
		if p.Items = append(p.Items, it); len(p.Items) == 100 {
			return flush()
		}
		return nil
	})
	if err == nil && len(p.Items) > 0 {
		err = flush()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return recBytes
}

// TestStoredTextSize measures what keeping texts costs on disk: the SQLite
// file with 100,000 items of the desk (1,000 feeds) stored with their text
// and without. It runs at full size only (WIREWATCH_FULL=1 go test -run
// TestStoredTextSize -v ./backtest/), and the README quotes it.
func TestStoredTextSize(t *testing.T) {
	if !testsize.Full() || testing.Short() {
		t.Skip("a measurement: WIREWATCH_FULL=1 go test -run TestStoredTextSize -v ./backtest/")
	}
	now := time.Now()
	mem := desk(t, 100_000, now)
	size := func(withText bool) (file int64, recs int) {
		path := filepath.Join(t.TempDir(), "state.db")
		st, err := sqlite.Open(path, sqlite.WithLogger(storetest.Quiet))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		recs = storeDesk(t, st, mem, now, withText)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size(), recs
	}
	without, _ := size(false)
	with, recs := size(true)
	t.Logf("100,000 items: SQLite file %d MB without texts, %d MB with (%d B an item on disk; records %d B an item)",
		without>>20, with>>20, (with-without)/100_000, recs/100_000)
}
