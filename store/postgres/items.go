package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// UnseenItems returns the positions in ids of those not recorded for the
// feed: one index lookup per id, and only the unseen come back (usually
// none).
func (s *db) UnseenItems(ctx context.Context, feedKey string, ids []string) ([]int, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT x.n - 1 FROM unnest($2::text[]) WITH ORDINALITY AS x(id, n)
		WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.feed_key = $1 AND i.item_id = x.id)
		ORDER BY x.n`, feedKey, ids), func(r pgx.Rows) (int, error) { return pgx.RowTo[int](r) })
}

// CommitPoll records one poll in one transaction; see store.Store.
func (s *db) CommitPoll(ctx context.Context, p *store.Poll, rows []backend.AlertRow) (queued int, err error) {
	f := p.Feed
	n := len(p.Items)
	itemIDs, titles, links := make([]string, n), make([]string, n), make([]string, n)
	pubs, seens := make([]time.Time, n), make([]time.Time, n)
	outcomes, matches := make([]string, n), make([]string, n)
	for i, it := range p.Items {
		itemIDs[i], titles[i], links[i], pubs[i], seens[i] = it.ID, it.Title, it.Link, it.Published, backend.FirstSeen(it, p)
		outcomes[i] = it.Outcome
		if matches[i], err = backend.EncodeMatches(it.Matches); err != nil {
			return 0, err
		}
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// A poll that started before SyncFeeds changed the configured URL
		// does not overwrite the new URL or its validators.
		_, err := tx.Exec(ctx, `INSERT INTO feeds (key, url, config_url, configured, etag, last_modified,
				next_due, last_poll, last_success, last_error, error_streak, failing_since, health_alerted,
				initialized, polls, not_modified)
			VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (key) DO UPDATE SET
				url = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.url ELSE feeds.url END,
				etag = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.etag ELSE feeds.etag END,
				last_modified = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.last_modified ELSE feeds.last_modified END,
				next_due = excluded.next_due, last_poll = excluded.last_poll, last_success = excluded.last_success,
				last_error = excluded.last_error, error_streak = excluded.error_streak,
				failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
				initialized = excluded.initialized, polls = excluded.polls, not_modified = excluded.not_modified,
				lease_owner = CASE WHEN $16 <> '' AND feeds.lease_owner = $16 THEN '' ELSE feeds.lease_owner END,
				lease_until = CASE WHEN $16 <> '' AND feeds.lease_owner = $16 THEN '0001-01-01 00:00:00+00' ELSE feeds.lease_until END`,
			f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, f.NextDue, f.LastPoll, f.LastSuccess,
			f.LastError, f.ErrorStreak, f.FailingSince, f.HealthAlerted, f.Initialized,
			f.Polls, f.NotModified, p.Owner)
		if err != nil {
			return fmt.Errorf("feed state: %w", err)
		}
		if n > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO items (`+backend.ItemCols+`)
				SELECT $1, i, t, l, p, s, o, m FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
					$7::text[], $8::text[]) AS x(i, t, l, p, s, o, m)
				ON CONFLICT DO NOTHING`, f.Key, itemIDs, titles, links, pubs, seens, outcomes, matches); err != nil {
				return fmt.Errorf("items: %w", err)
			}
		}
		if err := insertTexts(ctx, tx, p); err != nil {
			return fmt.Errorf("item texts: %w", err)
		}
		if !p.ForgetBefore.IsZero() {
			present := p.Present
			if present == nil {
				present = []string{}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM items WHERE feed_key = $1 AND first_seen < $2
				AND NOT (item_id = ANY($3::text[]))`, f.Key, p.ForgetBefore, present); err != nil {
				return fmt.Errorf("forgetting old items: %w", err)
			}
		}
		queued, err = insertAlerts(ctx, tx, p.Alerts, rows)
		return err
	})
	return queued, err
}

// scanItem scans backend.ItemCols.
func scanItem(r pgx.Row) (store.Item, error) {
	var it store.Item
	var ms string
	if err := r.Scan(&it.FeedKey, &it.ID, &it.Title, &it.Link, &it.Published, &it.FirstSeen, &it.Outcome, &ms); err != nil {
		return it, err
	}
	it.Published, it.FirstSeen = ut(it.Published), ut(it.FirstSeen)
	var err error
	it.Matches, err = backend.DecodeMatches(ms)
	return it, err
}

// FindItems reads the items whose id is one of ids or whose link is one
// of links, oldest first: a scan of the items table.
func (s *db) FindItems(ctx context.Context, ids, links []string) ([]store.Item, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT `+backend.ItemCols+` FROM items
		WHERE item_id = ANY($1::text[]) OR link = ANY($2::text[])
		ORDER BY first_seen, feed_key, item_id`, ids, links), func(r pgx.Rows) (store.Item, error) { return scanItem(r) })
}
