package sqlite

import (
	"context"
	"fmt"

	"github.com/wirewatch/wirewatch/store"
)

// DumpFeeds implements store.Dumper.
func (s *Store) DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+feedCols+`, configured FROM feeds ORDER BY key`)
	if err != nil {
		return fmt.Errorf("sqlite store: dump feeds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var conf int64
		f, err := scanFeed(rows, &conf)
		if err != nil {
			return fmt.Errorf("sqlite store: dump feeds: %w", err)
		}
		if err := fn(store.FeedRecord{FeedState: f, Configured: conf != 0}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DumpItems implements store.Dumper.
func (s *Store) DumpItems(ctx context.Context, fn func(store.Item) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT feed_key, item_id, title, link, published, first_seen
		FROM items ORDER BY feed_key, item_id`)
	if err != nil {
		return fmt.Errorf("sqlite store: dump items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it store.Item
		var pub, seen int64
		if err := rows.Scan(&it.FeedKey, &it.ID, &it.Title, &it.Link, &pub, &seen); err != nil {
			return fmt.Errorf("sqlite store: dump items: %w", err)
		}
		it.Published, it.FirstSeen = ft(pub), ft(seen)
		if err := fn(it); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DumpAlerts implements store.Dumper.
func (s *Store) DumpAlerts(ctx context.Context, fn func(store.Alert) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("sqlite store: dump alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return fmt.Errorf("sqlite store: dump alerts: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// LoadFeeds implements store.Loader.
func (s *Store) LoadFeeds(ctx context.Context, feeds []store.FeedRecord) error {
	feeds = store.CleanFeedRecords(feeds)
	return s.tx(ctx, "load feeds", func(tx *wtx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO feeds (`+feedCols+`, configured)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET url = excluded.url, config_url = excluded.config_url,
				etag = excluded.etag, last_modified = excluded.last_modified, next_due = excluded.next_due,
				last_poll = excluded.last_poll, last_success = excluded.last_success,
				last_error = excluded.last_error, error_streak = excluded.error_streak,
				failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
				initialized = excluded.initialized, polls = excluded.polls,
				not_modified = excluded.not_modified, configured = excluded.configured,
				lease_owner = '', lease_until = 0`)
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

// LoadItems implements store.Loader.
func (s *Store) LoadItems(ctx context.Context, items []store.Item) error {
	items = store.CleanItems(items)
	return s.tx(ctx, "load items", func(tx *wtx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO items (feed_key, item_id, title, link, published, first_seen)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, it := range items {
			if _, err := st.ExecContext(ctx, it.FeedKey, it.ID, it.Title, it.Link, tm(it.Published), tm(it.FirstSeen)); err != nil {
				return fmt.Errorf("item %q of feed %q: %w", it.ID, it.FeedKey, err)
			}
		}
		return nil
	})
}

// LoadAlerts implements store.Loader.
func (s *Store) LoadAlerts(ctx context.Context, alerts []store.Alert) (int, error) {
	alerts = store.CleanAlerts(alerts)
	var n int
	err := s.tx(ctx, "load alerts", func(tx *wtx) error {
		var err error
		n, err = insertAlerts(ctx, tx, alerts, true)
		return err
	})
	return n, err
}
