// Package sqlite owns the embedded implementation of store.Store: one SQLite
// file (pure Go driver modernc.org/sqlite, so CGO_ENABLED=0 builds) in WAL
// mode, written through a single connection so writes are serialised, and
// read through a small pool of read-only connections that never wait for a
// writer. Every write takes the database's write lock at BEGIN (BEGIN
// IMMEDIATE), so two processes sharing the file queue for it (busy_timeout)
// instead of failing halfway.
//
// Call Migrate after Open. Times are stored as Unix microseconds (UTC).
// The Store's methods come from store/internal/backend (cleaning, checks,
// error names, claim order and prune batches, shared with store/postgres);
// this package is the backend.Driver that runs SQLite's SQL.
//
// Files, by what they own:
//
//	sqlite.go     the Store and its driver (db), Path, Close
//	open.go       Open and its options; the damaged-file check at start
//	tx.go         write transactions, prepared statements, row reads, encoding
//	migrate.go    the numbered schema migrations (migrations/*.sql)
//	feeds.go      feeds: configuration sync, state, due claims, leases
//	items.go      seen items: which are new, a poll's commit, forgetting
//	outbox.go     alerts: insert, channel claims, sent/retry/failed marks, release
//	alerts.go     reading alerts: listings, by id, story heads (the monitor's story index)
//	posts.go      the posts to a channel, for its hourly cap
//	retention.go  pruning finished alerts
//	dump.go       reading out and loading the whole state (store.Copy), backups
//	probe.go      the heartbeat readiness writes
//	texts.go      item texts kept for backtests ([store] keep_text): written with a poll, read by time, pruned
//
// Backups: the file is in WAL mode, so copy it with `VACUUM INTO 'backup.db'`
// (or the sqlite3 shell's `.backup`, or Store.Backup), never with cp while
// Wirewatch runs.
package sqlite

import (
	"database/sql"
	"embed"
	"errors"
	"log/slog"
	"sync"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	*backend.Store // store.Store, store.Dumper and store.Loader over db
	db             *db
}

// Path is the state file's path.
func (s *Store) Path() string { return s.db.path }

// migrationFS holds the numbered schema migrations (see migrate.go).
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// db is the backend.Driver: the file's connections.
type db struct {
	path string
	w    *sql.DB // exactly one connection: the writer
	r    *sql.DB // read-only pool
	log  *slog.Logger

	mu      sync.Mutex
	stmts   map[string]*sql.Stmt // prepared on the writer, by query text
	missing map[string]bool      // queries to prepare once the writer is free
	unseen  *sql.Stmt            // prepared on the read pool

	sync    string // configured PRAGMA synchronous
	curSync string // the writer connection's current setting; touched only inside a write transaction
}

var _ backend.Driver = (*db)(nil)

func (s *db) Name() string  { return "sqlite" }
func (s *db) NoRows() error { return sql.ErrNoRows }

// Close closes the database.
func (s *db) Close() error {
	s.mu.Lock()
	var errs []error
	for q, st := range s.stmts {
		errs = append(errs, st.Close())
		delete(s.stmts, q)
	}
	if s.unseen != nil {
		errs = append(errs, s.unseen.Close())
		s.unseen = nil
	}
	s.mu.Unlock()
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}
