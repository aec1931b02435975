package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// tx runs fn in a transaction.
func (s *db) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// querier runs a query: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
}

// query is q on db, for backend.QueryAll and QueryEach. (pgx closes the
// rows of a query that failed itself.)
func query(ctx context.Context, db querier, q string, args ...any) backend.Query[pgx.Rows] {
	return func() (rows pgx.Rows, close func(), err error) {
		rows, err = db.Query(ctx, q, args...)
		return rows, func() {
			if rows != nil {
				rows.Close()
			}
		}, err
	}
}

// ut is t in UTC (the zero time stays zero: '0001-01-01 00:00:00+00' is
// "none" in the schema).
func ut(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// pgLimit is a LIMIT argument: limit, or NULL (no limit) for limit <= 0.
func pgLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}
