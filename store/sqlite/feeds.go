package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// readFeedSQL reads feeds with their lease and ItemsLast24h.
var readFeedSQL = backend.ReadFeedSQL("feeds.last_poll - 86400000000", "0")

type scanner interface{ Scan(...any) error }

// scanFeed scans backend.FeedCols, then extra.
func scanFeed(sc scanner, extra ...any) (store.FeedState, error) {
	var f store.FeedState
	var nextDue, lastPoll, lastSuccess, failingSince, health, init int64
	dst := []any{&f.Key, &f.URL, &f.ConfigURL, &f.ETag, &f.LastModified, &nextDue, &lastPoll, &lastSuccess,
		&f.LastError, &f.ErrorStreak, &failingSince, &health, &init, &f.Polls, &f.NotModified}
	if err := sc.Scan(append(dst, extra...)...); err != nil {
		return f, err
	}
	f.NextDue, f.LastPoll, f.LastSuccess, f.FailingSince = ft(nextDue), ft(lastPoll), ft(lastSuccess), ft(failingSince)
	f.HealthAlerted, f.Initialized = health != 0, init != 0
	return f, nil
}

// scanFeedLease scans backend.FeedCols and LeaseCols, then extra.
func scanFeedLease(sc scanner, extra ...any) (store.FeedState, error) {
	var owner string
	var until int64
	f, err := scanFeed(sc, append([]any{&owner, &until}, extra...)...)
	f.LeaseOwner, f.LeaseUntil = owner, ft(until)
	return f, err
}

// scanFeedRead scans a feed with its lease and ItemsLast24h.
func scanFeedRead(sc scanner) (store.FeedState, error) {
	var n int
	f, err := scanFeedLease(sc, &n)
	f.ItemsLast24h = n
	return f, err
}

// SyncFeeds makes the set of configured feeds match feeds.
func (s *db) SyncFeeds(ctx context.Context, feeds []store.FeedDef) error {
	return s.tx(ctx, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE feeds SET configured = 0`); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO feeds (key, url, config_url, configured, next_due)
			VALUES (?1, ?2, ?2, 1, ?3)
			ON CONFLICT (key) DO UPDATE SET configured = 1,
				url = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.url ELSE excluded.url END,
				etag = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.etag ELSE '' END,
				last_modified = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.last_modified ELSE '' END,
				config_url = excluded.config_url`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, d := range feeds {
			if _, err := st.ExecContext(ctx, d.Key, d.URL, tm(d.Due)); err != nil {
				return fmt.Errorf("feed %q: %w", d.Key, err)
			}
		}
		return nil
	})
}

// Feed reads one feed's state (configured or not).
func (s *db) Feed(ctx context.Context, key string) (store.FeedState, error) {
	return scanFeedRead(s.r.QueryRowContext(ctx, readFeedSQL+` WHERE key = ?`, key))
}

// Feeds reads every configured feed, ordered by key.
func (s *db) Feeds(ctx context.Context) ([]store.FeedState, error) {
	return backend.QueryAll(query(ctx, s.r, readFeedSQL+` WHERE configured = 1 ORDER BY key`),
		func(r *sql.Rows) (store.FeedState, error) { return scanFeedRead(r) })
}

// ClaimDueFeeds leases up to limit due, unleased, configured feeds (limit <= 0:
// all of them), earliest due first.
func (s *db) ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (out []store.FeedState, err error) {
	err = s.tx(ctx, func(tx *wtx) error {
		out, err = backend.QueryAll(query(ctx, tx, `UPDATE feeds SET lease_owner = ?1, lease_until = ?2
			WHERE key IN (SELECT key FROM feeds WHERE configured = 1 AND next_due <= ?3
				AND (lease_owner = '' OR lease_until <= ?3) ORDER BY next_due, key LIMIT ?4)
			RETURNING `+backend.FeedCols+`, `+backend.LeaseCols, owner, tm(now.Add(lease)), tm(now), sqlLimit(limit)),
			func(r *sql.Rows) (store.FeedState, error) { return scanFeedLease(r) })
		return err
	})
	return out, err
}

// ExtendFeedLease moves owner's lease on key to until. Losing the
// extension in a power cut costs nothing: the process that held it is
// gone too.
func (s *db) ExtendFeedLease(ctx context.Context, key, owner string, until time.Time) (held, exists bool, err error) {
	err = s.txSync(ctx, false, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET lease_until = ?3 WHERE key = ?1 AND lease_owner = ?2`, key, owner, tm(until))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		held = n > 0
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM feeds WHERE key = ?)`, key).Scan(&exists)
	})
	return held, exists, err
}
