package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

const envURL = "WIREWATCH_TEST_POSTGRES_URL"

var quiet = slog.New(slog.DiscardHandler)

// testURL is the test database, or skips the test.
func testURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test)", envURL)
	}
	return u
}

// freshSchema returns a new schema name, dropped when tb ends.
func freshSchema(tb testing.TB, url string) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "wwtest_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// open returns a migrated store in a fresh schema.
func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	url := testURL(tb)
	s, err := postgres.Open(tb.Context(), url, postgres.WithSchema(freshSchema(tb, url)), postgres.WithLogger(quiet))
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

// Replicas starting together all migrate; each migration is applied once.
func TestConcurrentMigrate(t *testing.T) {
	url := testURL(t)
	schema := freshSchema(t, url)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	stores := make([]*postgres.Store, replicas)
	for i := range replicas {
		s, err := postgres.Open(t.Context(), url, postgres.WithSchema(schema), postgres.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i].Migrate(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Migrate: %v", i, err)
		}
	}
	var applied, versions int
	err := stores[0].Pool().QueryRow(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&applied, &versions)
	if err != nil {
		t.Fatal(err)
	}
	if applied != versions || applied == 0 {
		t.Fatalf("schema_migrations has %d rows for %d versions", applied, versions)
	}
	// And the schema works for all of them.
	if err := stores[3].SyncFeeds(t.Context(), []store.FeedDef{{Key: "a", URL: "http://127.0.0.1/a", Due: storetest.T0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].Feed(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "postgres://u:secret@127.0.0.1:5432/x?sslmode=bogus"); err == nil {
		t.Fatal("Open accepted an invalid URL")
	} else if contains(err.Error(), "secret") {
		t.Fatalf("Open error leaks the password: %v", err)
	}
	url := testURL(t)
	if _, err := postgres.Open(t.Context(), url, postgres.WithSchema("Robert'); DROP")); err == nil {
		t.Fatal("Open accepted an invalid schema name")
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// The documented migration path: an SQLite state file into PostgreSQL.
func TestCopySQLiteToPostgres(t *testing.T) {
	testURL(t)
	from := func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "wirewatch.db"), sqlite.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.RunCopy(t, from, func(t *testing.T) store.Store { return open(t) })
}

// And back, so an operator can leave PostgreSQL too.
func TestCopyPostgresToSQLite(t *testing.T) {
	testURL(t)
	to := func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "wirewatch.db"), sqlite.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	storetest.RunCopy(t, func(t *testing.T) store.Store { return open(t) }, to)
}

func BenchmarkCommitPoll(b *testing.B) { storetest.BenchCommitPoll(b, open(b)) }

func BenchmarkOutbox(b *testing.B) { storetest.BenchOutbox(b, open(b)) }

// A database migrated by a newer Wirewatch is refused, not half-used.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	s := open(t)
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	err := s.Migrate(t.Context())
	if err == nil || !contains(err.Error(), "newer than this binary") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
	// The advisory lock was released: another Migrate does not hang.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Migrate(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("second Migrate = %v (ctx %v), want the same refusal without waiting", err, ctx.Err())
	}
}

// A database written by schema version 1 migrates with its rows intact.
func TestUpgradeFromV1(t *testing.T) {
	url := testURL(t)
	storetest.RunUpgrade(t, func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), url, postgres.WithSchema(freshSchema(t, url)), postgres.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ctx := t.Context()
		if err := s.MigrateToForTest(ctx, 1); err != nil {
			t.Fatal(err)
		}
		t0 := storetest.T0
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO feeds (key, url, config_url, configured, next_due, last_poll, last_success, polls, initialized)
				VALUES ('a', 'http://127.0.0.1/a', 'http://127.0.0.1/a', true, $1, $1, $1, 1, true)`, []any{t0}},
			{`INSERT INTO items (feed_key, item_id, title, link, first_seen)
				VALUES ('a', 'a1', 'Title a1', 'https://example.org/a1', $1)`, []any{t0}},
			{`INSERT INTO alerts (id, kind, channel, state, created_at, attempts, slack_ts, done_at, payload)
				VALUES ($1, 'item', '#desk', 'sent', $2, 1, '1.000001', $3, $4)`, []any{storetest.V1SentID, t0, t0.Add(time.Second),
				`{"feed":"a","feed_name":"Feed a","item":"a1","rule":"rule","title":"Title a1","link":"https://example.org/a1"}`}},
			{`INSERT INTO alerts (id, kind, channel, state, created_at, payload)
				VALUES ('ops-v1', 'ops', '#ops', 'queued', $1, '{"text":"feed a is down"}')`, []any{t0}},
			{`INSERT INTO channels (channel) VALUES ('#desk'), ('#ops')`, nil},
		} {
			if _, err := s.Pool().Exec(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("writing the v1 fixture: %v", err)
			}
		}
		return s
	})
}

func BenchmarkStoryHeads(b *testing.B) { storetest.BenchStoryHeads(b, open(b)) }

// WIREWATCH_TEST_POSTGRES_URL=... go test -run '^$' -bench 'UnchangedPoll|Drain' -benchtime 1x -benchmem ./store/postgres/
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
