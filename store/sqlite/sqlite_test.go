package sqlite_test

import (
	"log/slog"
	"path/filepath"
	"testing"

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
