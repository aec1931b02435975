package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// DumpFeeds reads every feed, ordered by key.
func (s *db) DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error {
	return backend.QueryEach(query(ctx, s.pool, `SELECT `+backend.FeedCols+`, configured FROM feeds ORDER BY key`), func(r pgx.Rows) (store.FeedRecord, error) {
		var rec store.FeedRecord
		f, err := scanFeed(r, &rec.Configured)
		rec.FeedState = f
		return rec, err
	}, fn)
}

// DumpItems reads every item, ordered by feed and id.
func (s *db) DumpItems(ctx context.Context, fn func(store.Item) error) error {
	return backend.QueryEach(query(ctx, s.pool, `SELECT `+backend.ItemCols+` FROM items ORDER BY feed_key, item_id`),
		func(r pgx.Rows) (store.Item, error) { return scanItem(r) }, fn)
}

// DumpAlerts reads every alert in delivery order.
func (s *db) DumpAlerts(ctx context.Context, fn func(store.Alert) error) error {
	return backend.QueryEach(query(ctx, s.pool, `SELECT `+backend.AlertCols+` FROM alerts ORDER BY seq`), scanAlertRow, fn)
}

// LoadFeeds writes feeds, replacing those present, without leases.
func (s *db) LoadFeeds(ctx context.Context, feeds []store.FeedRecord) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, r := range feeds {
			f := r.FeedState
			b.Queue(`INSERT INTO feeds (`+backend.FeedCols+`, configured)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
				ON CONFLICT (key) DO UPDATE SET `+backend.LoadFeedSet+`, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'`,
				f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, f.NextDue, f.LastPoll, f.LastSuccess,
				f.LastError, f.ErrorStreak, f.FailingSince, f.HealthAlerted, f.Initialized, f.Polls, f.NotModified,
				r.Configured)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// LoadItems writes items not yet present.
func (s *db) LoadItems(ctx context.Context, items []store.Item) error {
	n := len(items)
	feeds, ids, titles, links := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pubs, seens := make([]time.Time, n), make([]time.Time, n)
	outcomes, matches := make([]string, n), make([]string, n)
	for i, it := range items {
		feeds[i], ids[i], titles[i], links[i], pubs[i], seens[i] = it.FeedKey, it.ID, it.Title, it.Link, it.Published, it.FirstSeen
		outcomes[i] = it.Outcome
		var err error
		if matches[i], err = backend.EncodeMatches(it.Matches); err != nil {
			return err
		}
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO items (`+backend.ItemCols+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
				$7::text[], $8::text[])
			ON CONFLICT DO NOTHING`, feeds, ids, titles, links, pubs, seens, outcomes, matches)
		return err
	})
}
