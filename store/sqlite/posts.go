package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// RecordPost records a post to channel at at and forgets those before
// forgetBefore. Losing the row in a power cut only lets one more message
// through.
func (s *db) RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error {
	return s.txSync(ctx, false, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM channel_posts WHERE channel = ? AND at < ?`, channel, tm(forgetBefore)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_posts (channel, at) VALUES (?, ?)`, channel, tm(at))
		return err
	})
}

// Posts reads the times of the posts to channel since since, oldest first.
func (s *db) Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT at FROM channel_posts WHERE channel = ? AND at >= ? ORDER BY at`, channel, tm(since)),
		func(r *sql.Rows) (time.Time, error) {
			var v int64
			err := r.Scan(&v)
			return ft(v), err
		})
}
