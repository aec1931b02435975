package postgres

import (
	"context"
)

// MigrateToForTest applies the migrations up to version v only.
func (s *Store) MigrateToForTest(ctx context.Context, v int) error { return s.db.Migrate(ctx, v) }
