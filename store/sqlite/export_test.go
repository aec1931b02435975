package sqlite

import (
	"context"
)

// ExecForTest runs a statement on the writer, for tests that need to put a
// file in a state the API cannot produce.
func (s *Store) ExecForTest(ctx context.Context, q string, args ...any) error {
	_, err := s.db.w.ExecContext(ctx, q, args...)
	return err
}

// MigrateToForTest applies the migrations up to version v only.
func (s *Store) MigrateToForTest(ctx context.Context, v int) error { return s.db.Migrate(ctx, v) }
