package postgres

import (
	"context"
	"time"
)

// MigrateToForTest applies the migrations up to version v only.
func (s *Store) MigrateToForTest(ctx context.Context, v int) error { return s.migrateTo(ctx, v) }

// PruneAlertsInBatchesForTest is PruneAlerts with a given batch size.
func (s *Store) PruneAlertsInBatchesForTest(ctx context.Context, before time.Time, batch int) (int, error) {
	return s.pruneAlerts(ctx, before, batch)
}
