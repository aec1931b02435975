package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
)

// DumpFeeds implements store.Dumper.
func (s *Store) DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+feedCols+`, configured FROM feeds ORDER BY key`)
	if err != nil {
		return fmt.Errorf("postgres store: dump feeds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var conf bool
		f, err := scanFeed(rows, &conf)
		if err != nil {
			return fmt.Errorf("postgres store: dump feeds: %w", err)
		}
		if err := fn(store.FeedRecord{FeedState: f, Configured: conf}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DumpItems implements store.Dumper.
func (s *Store) DumpItems(ctx context.Context, fn func(store.Item) error) error {
	rows, err := s.pool.Query(ctx, `SELECT feed_key, item_id, title, link, published, first_seen
		FROM items ORDER BY feed_key, item_id`)
	if err != nil {
		return fmt.Errorf("postgres store: dump items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it store.Item
		if err := rows.Scan(&it.FeedKey, &it.ID, &it.Title, &it.Link, &it.Published, &it.FirstSeen); err != nil {
			return fmt.Errorf("postgres store: dump items: %w", err)
		}
		it.Published, it.FirstSeen = ut(it.Published), ut(it.FirstSeen)
		if err := fn(it); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DumpAlerts implements store.Dumper.
func (s *Store) DumpAlerts(ctx context.Context, fn func(store.Alert) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+alertCols+` FROM alerts ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("postgres store: dump alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return fmt.Errorf("postgres store: dump alerts: %w", err)
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
	return s.tx(ctx, "load feeds", func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range feeds {
			f := r.FeedState
			b.Queue(`INSERT INTO feeds (`+feedCols+`, configured)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
				ON CONFLICT (key) DO UPDATE SET url = excluded.url, config_url = excluded.config_url,
					etag = excluded.etag, last_modified = excluded.last_modified, next_due = excluded.next_due,
					last_poll = excluded.last_poll, last_success = excluded.last_success,
					last_error = excluded.last_error, error_streak = excluded.error_streak,
					failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
					initialized = excluded.initialized, polls = excluded.polls,
					not_modified = excluded.not_modified, configured = excluded.configured,
					lease_owner = '', lease_until = '0001-01-01 00:00:00+00'`,
				f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, f.NextDue, f.LastPoll, f.LastSuccess,
				f.LastError, f.ErrorStreak, f.FailingSince, f.HealthAlerted, f.Initialized, f.Polls, f.NotModified,
				r.Configured)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// LoadItems implements store.Loader.
func (s *Store) LoadItems(ctx context.Context, items []store.Item) error {
	items = store.CleanItems(items)
	n := len(items)
	feeds, ids, titles, links := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pubs, seens := make([]time.Time, n), make([]time.Time, n)
	for i, it := range items {
		feeds[i], ids[i], titles[i], links[i], pubs[i], seens[i] = it.FeedKey, it.ID, it.Title, it.Link, it.Published, it.FirstSeen
	}
	return s.tx(ctx, "load items", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO items (feed_key, item_id, title, link, published, first_seen)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
			ON CONFLICT DO NOTHING`, feeds, ids, titles, links, pubs, seens)
		return err
	})
}

// LoadAlerts implements store.Loader.
func (s *Store) LoadAlerts(ctx context.Context, alerts []store.Alert) (int, error) {
	alerts = store.CleanAlerts(alerts)
	var n int
	err := s.tx(ctx, "load alerts", func(tx pgx.Tx) error {
		var err error
		n, err = insertAlerts(ctx, tx, alerts, true)
		return err
	})
	return n, err
}
