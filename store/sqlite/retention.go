package sqlite

import (
	"context"
	"time"
)

// PruneBatch deletes at most batch alerts that finished before before
// (index alerts_done). Deleting is redone by the next prune if a power
// cut loses it, so it need not wait for the disk.
func (s *db) PruneBatch(ctx context.Context, before time.Time, batch int) (int, error) {
	var n int64
	err := s.txSync(ctx, false, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts
			WHERE state IN ('sent', 'failed') AND done_at < ? LIMIT ?)`, tm(before), batch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
