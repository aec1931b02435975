package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

var quiet = storetest.Quiet

// open returns a migrated store on a fresh file in a temporary directory.
func open(tb testing.TB) *sqlite.Store { return storetest.OpenSQLite(tb) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
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
	return storetest.OpenSQLite(tb, sqlite.WithSynchronous(mode))
}

// A state file written by schema version 1 migrates with its rows intact.
func TestUpgradeFromV1(t *testing.T) {
	storetest.RunUpgrade(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "v1.db"), sqlite.WithLogger(quiet))
		s = storetest.AtVersion(t, s, err, 1)
		ctx := t.Context()
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

// BenchmarkFindItems is explain's lookup in 100,000 items.
func BenchmarkFindItems(b *testing.B) { storetest.BenchFindItems(b, open(b), 100_000) }

// The scale benchmarks (issue 18): see storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	storetest.BenchScale(b, func(tb testing.TB) store.Store { return open(tb) })
}
