package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// dump reads the whole of a table with q and calls fn with each row.
func dump[T any](ctx context.Context, s *db, q string, scan func(scanner) (T, error), fn func(T) error) error {
	return backend.QueryEach(query(ctx, s.r, q), func(r *sql.Rows) (T, error) { return scan(r) }, fn)
}

// DumpFeeds reads every feed, ordered by key.
func (s *db) DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error {
	return dump(ctx, s, `SELECT `+backend.FeedCols+`, configured FROM feeds ORDER BY key`, func(sc scanner) (store.FeedRecord, error) {
		var conf int64
		f, err := scanFeed(sc, &conf)
		return store.FeedRecord{FeedState: f, Configured: conf != 0}, err
	}, fn)
}

// DumpItems reads every item, ordered by feed and id.
func (s *db) DumpItems(ctx context.Context, fn func(store.Item) error) error {
	return dump(ctx, s, `SELECT `+backend.ItemCols+` FROM items ORDER BY feed_key, item_id`, scanItem, fn)
}

// DumpAlerts reads every alert in delivery order.
func (s *db) DumpAlerts(ctx context.Context, fn func(store.Alert) error) error {
	return dump(ctx, s, `SELECT `+backend.AlertCols+` FROM alerts ORDER BY seq`, func(sc scanner) (store.Alert, error) { return scanAlert(sc) }, fn)
}

// LoadFeeds writes feeds, replacing those present, without leases.
func (s *db) LoadFeeds(ctx context.Context, feeds []store.FeedRecord) error {
	return s.tx(ctx, func(tx *wtx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO feeds (`+backend.FeedCols+`, configured)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET `+backend.LoadFeedSet+`, lease_owner = '', lease_until = 0`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, r := range feeds {
			f := r.FeedState
			if _, err := st.ExecContext(ctx, f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, tm(f.NextDue),
				tm(f.LastPoll), tm(f.LastSuccess), f.LastError, f.ErrorStreak, tm(f.FailingSince),
				b2i(f.HealthAlerted), b2i(f.Initialized), f.Polls, f.NotModified, b2i(r.Configured)); err != nil {
				return fmt.Errorf("feed %q: %w", f.Key, err)
			}
		}
		return nil
	})
}

// LoadItems writes items not yet present.
func (s *db) LoadItems(ctx context.Context, items []store.Item) error {
	return s.tx(ctx, func(tx *wtx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO items (`+backend.ItemCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, it := range items {
			ms, err := backend.EncodeMatches(it.Matches)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, it.FeedKey, it.ID, it.Title, it.Link, tm(it.Published), tm(it.FirstSeen), it.Outcome, ms); err != nil {
				return fmt.Errorf("item %q of feed %q: %w", it.ID, it.FeedKey, err)
			}
		}
		return nil
	})
}

// Backup writes a consistent copy of the whole database to a new file at
// path (VACUUM INTO), safe while Wirewatch runs: it reads one snapshot and
// does not block writers. The file at path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error {
	conn, err := s.db.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	defer conn.Close()
	// Read connections are query_only, which also forbids VACUUM INTO.
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO ?`, path)
	if _, err2 := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`); err2 != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse it writable
	}
	if err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	return nil
}
