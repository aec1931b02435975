package postgres

import (
	"context"
	"time"
)

// PruneBatch deletes at most batch alerts that finished before before
// (index alerts_done).
func (s *db) PruneBatch(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts
		WHERE state IN ('sent', 'failed') AND done_at < $1 LIMIT $2)`, before, batch)
	return int(tag.RowsAffected()), err
}
