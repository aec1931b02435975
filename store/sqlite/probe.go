package sqlite

import (
	"context"
	"time"
)

// Heartbeat writes owner's heartbeat row. It need not reach the disk (a
// power cut loses nothing worth keeping), but it must be written to the
// WAL, so it fails like any write on a full disk or a read-only file.
func (s *db) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	return s.txSync(ctx, false, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO heartbeats (owner, at) VALUES (?, ?)
			ON CONFLICT (owner) DO UPDATE SET at = excluded.at`, owner, tm(now))
		return err
	})
}
