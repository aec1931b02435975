// Package postgres owns the PostgreSQL implementation of store.Store, for
// several Wirewatch replicas sharing one state (driver: jackc/pgx/v5 with a
// pgxpool connection pool).
//
// Work sharing: ClaimDueFeeds and ClaimChannel pick rows with
// SELECT ... FOR UPDATE SKIP LOCKED and mark them with a lease (owner and
// expiry) in the same transaction, so concurrent replicas never take the same
// feed or channel, and a dead replica's feeds and channels are taken over
// once its leases expire. Per-channel pacing (ReleaseChannel's nextSendAt)
// lives in the channels table, so it holds across replicas. Seen items and
// alert ids are unique keys, so two replicas that fetch the same item queue
// its alert once.
//
// Migrate runs the embedded numbered migrations under a session advisory
// lock, so replicas starting together apply each migration once. WithSchema
// puts all tables in one schema (created by Migrate if missing). The
// Store's methods come from store/internal/backend (cleaning, checks,
// error names, claim order and prune batches, shared with store/sqlite);
// this package is the backend.Driver that runs PostgreSQL's SQL.
//
// Files, by what they own:
//
//	postgres.go   the Store and its driver (db), Schema, Pool, Close
//	open.go       Open and its options
//	tx.go         transactions, row reads, time and limit encoding
//	migrate.go    the numbered schema migrations (migrations/*.sql)
//	feeds.go      feeds: configuration sync, state, due claims, leases
//	items.go      seen items: which are new, a poll's commit, forgetting
//	outbox.go     alerts: insert, channel claims, sent/retry/failed marks, release
//	alerts.go     reading alerts: listings, by id, story heads (the monitor's story index)
//	posts.go      the posts to a channel, for its hourly cap
//	retention.go  pruning finished alerts
//	dump.go       reading out and loading the whole state (store.Copy)
//	probe.go      the heartbeat readiness writes
//	texts.go      item texts kept for backtests ([store] keep_text): written with a poll, read by time, pruned
package postgres

import (
	"embed"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// Store is the PostgreSQL store. It is safe for concurrent use, also by
// several processes.
type Store struct {
	*backend.Store // store.Store, store.Dumper and store.Loader over db
	db             *db
}

// Schema is the schema given to WithSchema ("" without it).
func (s *Store) Schema() string { return s.db.schema }

// Pool is the connection pool, for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.db.pool }

// migrationFS holds the numbered schema migrations (see migrate.go).
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// db is the backend.Driver: the pool.
type db struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger
}

var _ backend.Driver = (*db)(nil)

func (s *db) Name() string  { return "postgres" }
func (s *db) NoRows() error { return pgx.ErrNoRows }

// Close closes the pool.
func (s *db) Close() error {
	s.pool.Close()
	return nil
}
