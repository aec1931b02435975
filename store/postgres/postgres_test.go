package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// testURL is the test database, or skips the test.
func testURL(tb testing.TB) string { return storetest.PostgresURL(tb) }

// freshSchema returns a new schema name, dropped when tb ends.
func freshSchema(tb testing.TB, url string) string { return storetest.FreshSchema(tb, url) }

var quiet = storetest.Quiet

// open returns a migrated store in a fresh schema.
func open(tb testing.TB) *postgres.Store { return storetest.OpenPostgres(tb) }

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
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
	storetest.RunCopy(t, func(t *testing.T) store.Store { return storetest.OpenSQLite(t) },
		func(t *testing.T) store.Store { return open(t) })
}

// And back, so an operator can leave PostgreSQL too.
func TestCopyPostgresToSQLite(t *testing.T) {
	testURL(t)
	storetest.RunCopy(t, func(t *testing.T) store.Store { return open(t) },
		func(t *testing.T) store.Store { return storetest.OpenSQLite(t) })
}

func BenchmarkCommitPoll(b *testing.B) { storetest.BenchCommitPoll(b, open(b)) }

func BenchmarkOutbox(b *testing.B) { storetest.BenchOutbox(b, open(b)) }

// BenchmarkFindItems is explain's lookup in 100,000 items.
func BenchmarkFindItems(b *testing.B) { storetest.BenchFindItems(b, open(b), 100_000) }

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
		s = storetest.AtVersion(t, s, err, 1)
		ctx := t.Context()
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

// The scale benchmarks (issue 18): see storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	storetest.BenchScale(b, func(tb testing.TB) store.Store { return open(tb) })
}
