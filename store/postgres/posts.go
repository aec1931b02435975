package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// RecordPost records a post to channel at at and forgets those before
// forgetBefore.
func (s *db) RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM channel_posts WHERE channel = $1 AND at < $2`, channel, forgetBefore); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO channel_posts (channel, at) VALUES ($1, $2)`, channel, at)
		return err
	})
}

// Posts reads the times of the posts to channel since since, oldest first.
func (s *db) Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT at FROM channel_posts WHERE channel = $1 AND at >= $2 ORDER BY at`, channel, since),
		func(r pgx.Rows) (time.Time, error) {
			t, err := pgx.RowTo[time.Time](r)
			return t.UTC(), err
		})
}
