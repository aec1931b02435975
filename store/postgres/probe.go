package postgres

import (
	"context"
	"time"
)

// Heartbeat writes owner's heartbeat row: a database that answers but
// refuses writes (read-only, full) fails it.
func (s *db) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO heartbeats (owner, at) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET at = excluded.at`, owner, now)
	return err
}
