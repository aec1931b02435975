package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// open returns a migrated store on a fresh file in a temporary directory.
func open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "wirewatch.db"), sqlite.WithLogger(quiet))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

func TestPruneInBatches(t *testing.T) {
	s := open(t)
	storetest.RunPruneInBatches(t, s, func(ctx context.Context, before time.Time) (int, error) {
		return s.PruneAlertsInBatchesForTest(ctx, before, 2)
	})
}

func TestCopySQLiteToSQLite(t *testing.T) {
	o := func(t *testing.T) store.Store { return open(t) }
	storetest.RunCopy(t, o, o)
}

func BenchmarkCommitPoll(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) { storetest.BenchCommitPoll(b, openSync(b, sync)) })
	}
}

func BenchmarkOutbox(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) { storetest.BenchOutbox(b, openSync(b, sync)) })
	}
}

func openSync(tb testing.TB, mode string) *sqlite.Store {
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "wirewatch.db"), sqlite.WithLogger(quiet), sqlite.WithSynchronous(mode))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// A state file written by schema version 1 migrates with its rows intact.
func TestUpgradeFromV1(t *testing.T) {
	storetest.RunUpgrade(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "v1.db"), sqlite.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ctx := t.Context()
		if err := s.MigrateToForTest(ctx, 1); err != nil {
			t.Fatal(err)
		}
		t0 := storetest.T0.UnixMicro()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO feeds (key, url, config_url, configured, next_due, last_poll, last_success, polls, initialized)
				VALUES ('a', 'http://127.0.0.1/a', 'http://127.0.0.1/a', 1, ?1, ?1, ?1, 1, 1)`, []any{t0}},
			{`INSERT INTO items (feed_key, item_id, title, link, first_seen)
				VALUES ('a', 'a1', 'Title a1', 'https://example.org/a1', ?)`, []any{t0}},
			{`INSERT INTO alerts (id, kind, channel, state, created_at, attempts, slack_ts, done_at, payload)
				VALUES (?, 'item', '#desk', 'sent', ?, 1, '1.000001', ?, ?)`, []any{storetest.V1SentID, t0, t0 + 1e6,
				`{"feed":"a","feed_name":"Feed a","item":"a1","rule":"rule","title":"Title a1","link":"https://example.org/a1"}`}},
			{`INSERT INTO alerts (id, kind, channel, state, created_at, payload)
				VALUES ('ops-v1', 'ops', '#ops', 'queued', ?, '{"text":"feed a is down"}')`, []any{t0}},
			{`INSERT INTO channels (channel) VALUES ('#desk'), ('#ops')`, nil},
		} {
			if err := s.ExecForTest(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("writing the v1 fixture: %v", err)
			}
		}
		return s
	})
}

func BenchmarkStoryHeads(b *testing.B) { storetest.BenchStoryHeads(b, open(b)) }

// go test -run '^$' -bench 'UnchangedPoll|Drain' -benchtime 1x -benchmem ./store/sqlite/
func BenchmarkUnchangedPoll(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000, 40000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) { storetest.BenchUnchangedPoll(b, open(b), n) })
	}
}

func BenchmarkDrain(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("backlog=%d", n), func(b *testing.B) { storetest.BenchDrain(b, open(b), n) })
	}
}
