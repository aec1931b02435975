package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store/internal/migrate"
)

// Migrate applies every migration not yet recorded in schema_migrations
// (up to version target; 0: all), holding a session advisory lock (per
// schema) meanwhile, so replicas starting together wait for each other
// instead of racing. It refuses a database whose schema is newer than
// this binary.
func (s *db) Migrate(ctx context.Context, target int) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte("wirewatch-migrate:" + s.schema))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The session still holds the lock: drop the connection.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if s.schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %s: %w", s.schema, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var cur int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return err
	}
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return err
	}
	pending, err := migrate.Pending(ms, cur, target)
	if err != nil {
		return err
	}
	for _, m := range pending {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		s.log.Info("store migrated", "backend", "postgres", "schema", s.schema, "version", m.Version, "migration", m.Name)
	}
	return nil
}
