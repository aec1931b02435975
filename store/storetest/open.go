package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// EnvPostgresURL names the environment variable with the test database's
// URL; PostgreSQL tests skip without it.
const EnvPostgresURL = "WIREWATCH_TEST_POSTGRES_URL"

// Quiet is a logger that drops everything, for stores under test.
var Quiet = slog.New(slog.DiscardHandler)

// OpenSQLite returns a migrated SQLite store on a fresh file in a
// temporary directory, closed when tb ends.
func OpenSQLite(tb testing.TB, opts ...sqlite.Option) *sqlite.Store {
	tb.Helper()
	s, err := sqlite.Open(filepath.Join(tb.TempDir(), "wirewatch.db"), append([]sqlite.Option{sqlite.WithLogger(Quiet)}, opts...)...)
	return Migrated(tb, s, err)
}

// Migrated fails tb on err, else migrates s and closes it when tb ends:
// the end of opening a store for a test.
func Migrated[S store.Store](tb testing.TB, s S, err error) S {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return s
}

// PostgresURL is the test database's URL, or skips tb.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test)", EnvPostgresURL)
	}
	return u
}

// FreshSchema returns a new schema name, dropped when tb ends, so that
// tests (and engineers) sharing one database never meet.
func FreshSchema(tb testing.TB, url string) string {
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

// OpenPostgres returns a migrated PostgreSQL store in a fresh schema,
// closed when tb ends, or skips tb without EnvPostgresURL.
func OpenPostgres(tb testing.TB, opts ...postgres.Option) *postgres.Store {
	tb.Helper()
	url := PostgresURL(tb)
	opts = append([]postgres.Option{postgres.WithSchema(FreshSchema(tb, url)), postgres.WithLogger(Quiet)}, opts...)
	s, err := postgres.Open(tb.Context(), url, opts...)
	return Migrated(tb, s, err)
}

// AtVersion fails tb on err, else migrates s (a backend's test build, with
// MigrateToForTest) to schema version v only and closes it when tb ends:
// the start of an upgrade test.
func AtVersion[S store.Store](tb testing.TB, s S, err error, v int) S {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	m, ok := any(s).(interface {
		MigrateToForTest(ctx context.Context, v int) error
	})
	if !ok {
		tb.Fatalf("%T cannot migrate to a given version", s)
	}
	if err := m.MigrateToForTest(tb.Context(), v); err != nil {
		tb.Fatal(err)
	}
	return s
}
