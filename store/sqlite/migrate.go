package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store/internal/migrate"
)

// Migrate applies every migration not yet recorded in schema_migrations
// (up to version target; 0: all), each in its own write transaction, so
// processes sharing the file apply each migration once. It refuses a
// database whose schema is newer than this binary.
func (s *db) Migrate(ctx context.Context, target int) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	for done := false; !done; {
		// The next migration, in a transaction that reads the version
		// again: another process may have applied it meanwhile.
		err := s.tx(ctx, func(tx *wtx) error {
			var cur sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			pending, err := migrate.Pending(ms, int(cur.Int64), target)
			if err != nil || len(pending) == 0 {
				done = true
				return err
			}
			m := pending[0]
			if _, err := tx.Tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro()); err != nil {
				return err
			}
			s.log.Info("store migrated", "backend", "sqlite", "path", s.path, "version", m.Version, "migration", m.Name)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
