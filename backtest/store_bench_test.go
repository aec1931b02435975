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
	"github.com/wirewatch/wirewatch/rules"
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
	mem := desk(b, 100_000, now)
	ctx := context.Background()
	var err error
	var defs []store.FeedDef
	for i := range 1000 {
		defs = append(defs, store.FeedDef{Key: fmt.Sprintf("feed-%d", i), URL: fmt.Sprintf("https://example.org/%d", i), Due: now})
	}
	if err := st.SyncFeeds(ctx, defs); err != nil {
		b.Fatal(err)
	}
	// As the monitor stores them: in the order they were first seen, a
	// poll at a time (here 100 items, of one feed each).
	var p store.Poll
	flush := func() {
		if _, err := st.CommitPoll(ctx, p); err != nil {
			b.Fatal(err)
		}
		p.Items = p.Items[:0]
	}
	n := 0
	err = mem.ItemTexts(ctx, time.Time{}, func(_, itemID string, seen time.Time, rec []byte) error {
		if len(p.Items) == 0 {
			f, err := st.Feed(ctx, fmt.Sprintf("feed-%d", (n/100)%1000))
			if err != nil {
				return err
			}
			p.Feed = f
		}
		n++
		p.Items = append(p.Items, store.Item{FeedKey: p.Feed.Key, ID: itemID, Title: "t", FirstSeen: seen, Text: append([]byte(nil), rec...)})
		if len(p.Items) == 100 {
			flush()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Items) > 0 {
		flush()
	}
	z := rules.NewAnalyzer()
	for _, c := range []struct{ name, q string }{{"cross-border", crossBorder}, {"talks-collapse", talksCollapse}, {"broad", broad}, {"wildcard", `negotiat*`}} {
		r, err := rules.Compile(c.name, c.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var first time.Duration
			var sum *backtest.Summary
			for b.Loop() {
				start := time.Now()
				first = 0
				sum, err = backtest.Run(ctx, st, []*rules.Rule{r}, backtest.Options{Since: now.Add(-8 * 24 * time.Hour), Analyzer: z}, func(*backtest.Result) error {
					if first == 0 {
						first = time.Since(start)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if sum.Scanned != 100_000 {
				b.Fatalf("scanned %d items", sum.Scanned)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "ms-first")
			b.ReportMetric(float64(sum.Matched), "matches")
			b.ReportMetric(100*float64(sum.Skipped)/float64(sum.Scanned), "%skipped")
		})
	}
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
		ctx := t.Context()
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var defs []store.FeedDef
		for i := range 1000 {
			defs = append(defs, store.FeedDef{Key: fmt.Sprintf("feed-%d", i), URL: fmt.Sprintf("https://example.org/%d/feed", i), Due: now})
		}
		if err := st.SyncFeeds(ctx, defs); err != nil {
			t.Fatal(err)
		}
		var p store.Poll
		n := 0
		err = mem.ItemTexts(ctx, time.Time{}, func(_, itemID string, seen time.Time, rec []byte) error {
			if len(p.Items) == 0 {
				if p.Feed, err = st.Feed(ctx, fmt.Sprintf("feed-%d", (n/100)%1000)); err != nil {
					return err
				}
			}
			n++
			it := store.Item{FeedKey: p.Feed.Key, ID: "https://www.example.org/news/2026/11/" + itemID, Title: "A headline of the usual length, about seventy characters or so", FirstSeen: seen}
			if withText {
				it.Text, recs = append([]byte(nil), rec...), recs+len(rec)
			}
			if p.Items = append(p.Items, it); len(p.Items) == 100 {
				_, err := st.CommitPoll(ctx, p)
				p.Items = p.Items[:0]
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
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
