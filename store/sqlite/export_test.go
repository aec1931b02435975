package sqlite

import (
	"context"
	"time"
)

// ExecForTest runs a statement on the writer, for tests that need to put a
// file in a state the API cannot produce.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.w.ExecContext(ctx, q, args...)
	return err
}

// MigrateToForTest applies the migrations up to version v only.
func (s *Store) MigrateToForTest(ctx context.Context, v int) error { return s.migrateTo(ctx, v) }

// PruneAlertsInBatchesForTest is PruneAlerts with a given batch size.
func (s *Store) PruneAlertsInBatchesForTest(ctx context.Context, before time.Time, batch int) (int, error) {
	return s.pruneAlerts(ctx, before, batch)
}
