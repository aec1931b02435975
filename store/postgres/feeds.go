package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// readFeedSQL reads feeds with their lease and ItemsLast24h.
var readFeedSQL = backend.ReadFeedSQL("feeds.last_poll - interval '24 hours'", "'0001-01-01 00:00:00+00'")

// scanFeed scans backend.FeedCols, then extra.
func scanFeed(row pgx.Row, extra ...any) (store.FeedState, error) {
	var f store.FeedState
	dst := []any{&f.Key, &f.URL, &f.ConfigURL, &f.ETag, &f.LastModified, &f.NextDue, &f.LastPoll, &f.LastSuccess,
		&f.LastError, &f.ErrorStreak, &f.FailingSince, &f.HealthAlerted, &f.Initialized, &f.Polls, &f.NotModified}
	if err := row.Scan(append(dst, extra...)...); err != nil {
		return f, err
	}
	f.NextDue, f.LastPoll, f.LastSuccess, f.FailingSince = ut(f.NextDue), ut(f.LastPoll), ut(f.LastSuccess), ut(f.FailingSince)
	return f, nil
}

// scanFeedLease scans backend.FeedCols and LeaseCols, then extra.
func scanFeedLease(row pgx.Row, extra ...any) (store.FeedState, error) {
	var owner string
	var until time.Time
	f, err := scanFeed(row, append([]any{&owner, &until}, extra...)...)
	f.LeaseOwner, f.LeaseUntil = owner, ut(until)
	return f, err
}

// scanFeedRead scans a feed with its lease and ItemsLast24h.
func scanFeedRead(row pgx.Row) (store.FeedState, error) {
	var n int
	f, err := scanFeedLease(row, &n)
	f.ItemsLast24h = n
	return f, err
}

// SyncFeeds makes the set of configured feeds match feeds.
func (s *db) SyncFeeds(ctx context.Context, feeds []store.FeedDef) error {
	keys := make([]string, len(feeds))
	urls := make([]string, len(feeds))
	dues := make([]time.Time, len(feeds))
	for i, d := range feeds {
		keys[i], urls[i], dues[i] = d.Key, d.URL, d.Due
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE feeds SET configured = false WHERE configured AND NOT key = ANY($1)`, keys); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO feeds (key, url, config_url, configured, next_due)
			SELECT k, u, u, true, d FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(k, u, d) ORDER BY k
			ON CONFLICT (key) DO UPDATE SET configured = true,
				url = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.url ELSE excluded.url END,
				etag = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.etag ELSE '' END,
				last_modified = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.last_modified ELSE '' END,
				config_url = excluded.config_url`, keys, urls, dues)
		return err
	})
}

// Feed reads one feed's state (configured or not).
func (s *db) Feed(ctx context.Context, key string) (store.FeedState, error) {
	return scanFeedRead(s.pool.QueryRow(ctx, readFeedSQL+` WHERE key = $1`, key))
}

// Feeds reads every configured feed, ordered by key.
func (s *db) Feeds(ctx context.Context) ([]store.FeedState, error) {
	return backend.QueryAll(query(ctx, s.pool, readFeedSQL+` WHERE configured ORDER BY key`),
		func(r pgx.Rows) (store.FeedState, error) { return scanFeedRead(r) })
}

// ClaimDueFeeds leases up to limit due, unleased, configured feeds (limit <= 0:
// all of them), earliest due first, skipping rows other replicas are
// claiming at the same moment.
func (s *db) ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (out []store.FeedState, err error) {
	err = s.tx(ctx, func(tx pgx.Tx) error {
		out, err = backend.QueryAll(query(ctx, tx, `WITH due AS (
				SELECT key FROM feeds WHERE configured AND next_due <= $1
					AND (lease_owner = '' OR lease_until <= $1)
				ORDER BY next_due, key LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE feeds SET lease_owner = $3, lease_until = $4 FROM due WHERE feeds.key = due.key
			RETURNING `+qualify("feeds", backend.FeedCols+", "+backend.LeaseCols), now, pgLimit(limit), owner, now.Add(lease)),
			func(r pgx.Rows) (store.FeedState, error) { return scanFeedLease(r) })
		return err
	})
	return out, err
}

// ExtendFeedLease moves owner's lease on key to until.
func (s *db) ExtendFeedLease(ctx context.Context, key, owner string, until time.Time) (held, exists bool, err error) {
	err = s.pool.QueryRow(ctx, `WITH up AS (UPDATE feeds SET lease_until = $3 WHERE key = $1 AND lease_owner = $2 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM up), EXISTS (SELECT 1 FROM feeds WHERE key = $1)`, key, owner, until).Scan(&held, &exists)
	return held, exists, err
}

// qualify prefixes each column of a comma-separated list with table.
func qualify(table, cols string) string {
	out := ""
	col := ""
	flush := func() {
		if col != "" {
			if out != "" {
				out += ", "
			}
			out += table + "." + col
			col = ""
		}
	}
	for _, r := range cols {
		switch r {
		case ',':
			flush()
		case ' ', '\n', '\t':
		default:
			col += string(r)
		}
	}
	flush()
	return out
}
