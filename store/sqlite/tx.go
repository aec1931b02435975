package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// wtx is a write transaction whose statements are prepared once per store:
// parsing SQL costs more than running it with modernc.org/sqlite.
type wtx struct {
	*sql.Tx
	s *db
}

func (t *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	t.s.mu.Lock()
	ps := t.s.stmts[q]
	if ps == nil {
		t.s.missing[q] = true
	}
	t.s.mu.Unlock()
	if ps != nil {
		return t.Tx.StmtContext(ctx, ps), nil
	}
	// The writer's one connection is this transaction's: prepare within
	// it now, and on the writer (for next time) once it is free.
	return t.Tx.PrepareContext(ctx, q)
}

func (t *wtx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) { return t.stmt(ctx, q) }

func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.Tx.QueryRowContext(ctx, q, args...) // carries the error
	}
	return st.QueryRowContext(ctx, args...)
}

// prepareMissing prepares on the writer the statements transactions
// asked for. It runs outside any transaction (the writer has one
// connection); a statement that fails to prepare is simply tried again.
//
// s.mu is never held while waiting for the writer connection: a
// transaction holding the connection takes s.mu in stmt, so holding both
// the other way round would deadlock.
func (s *db) prepareMissing(ctx context.Context) {
	s.mu.Lock()
	var todo []string
	for q := range s.missing {
		delete(s.missing, q)
		if s.stmts[q] == nil {
			todo = append(todo, q)
		}
	}
	s.mu.Unlock()
	for _, q := range todo {
		st, err := s.w.PrepareContext(context.WithoutCancel(ctx), q)
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q] = st
		} else {
			st.Close()
		}
		s.mu.Unlock()
	}
}

// syncFor is the synchronous level for a transaction: the configured one,
// or NORMAL for a non-durable transaction when FULL is configured.
func (s *db) syncFor(durable bool) string {
	if durable || s.sync != "FULL" {
		return s.sync
	}
	return "NORMAL"
}

func (s *db) tx(ctx context.Context, fn func(tx *wtx) error) error {
	return s.txSync(ctx, true, fn)
}

// txSync is tx with a choice of durability. A transaction that only
// records what a later poll would record again (a feed's state after a 304
// or an unchanged document) need not wait for the disk: with durable
// false and synchronous=FULL configured, it commits with
// synchronous=NORMAL. WAL frames are appended in order and the next FULL
// commit syncs the whole log, so a relaxed commit is lost only together
// with everything after the last durable one, and only on a power cut,
// never on a process crash. At worst a feed is polled again.
func (s *db) txSync(ctx context.Context, durable bool, fn func(tx *wtx) error) error {
	defer s.prepareMissing(ctx)
	conn, err := s.w.Conn(ctx) // the one writer connection, ours until Close
	if err != nil {
		return err
	}
	defer conn.Close()
	if want := s.syncFor(durable); want != s.curSync {
		// SQLite allows this only outside a transaction.
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+want); err != nil {
			return fmt.Errorf("synchronous: %w", err)
		}
		s.curSync = want
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &wtx{Tx: sqlTx, s: s}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier runs a query: the read pool or a write transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// query is q on db, for backend.QueryAll and QueryEach.
func query(ctx context.Context, db querier, q string, args ...any) backend.Query[*sql.Rows] {
	return func() (*sql.Rows, func(), error) {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, nil, err
		}
		return rows, func() { rows.Close() }, nil
	}
}

// --- encoding: times as Unix microseconds (0: none), booleans as 0/1 ---

func tm(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func ft(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// sqlLimit is a LIMIT argument: limit, or -1 (no limit) for limit <= 0.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
