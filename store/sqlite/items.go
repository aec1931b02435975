package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// UnseenItems returns the positions in ids of those not recorded for the
// feed.
func (s *db) UnseenItems(ctx context.Context, feedKey string, ids []string) ([]int, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	st, err := s.unseenStmt(ctx)
	if err != nil {
		return nil, err
	}
	return backend.QueryAll(query(ctx, prepared{st}, "", feedKey, string(list)), func(r *sql.Rows) (i int, err error) { return i, r.Scan(&i) })
}

// unseenSQL returns the positions in the JSON array ?2 of the ids not
// recorded for feed ?1: one lookup in the primary key per id, and only
// the unseen come back (usually none). As the inner loop of a join the
// list made SQLite walk the feed's items and scan the list for each:
// quadratic in the feed's size (issue 18.1).
const unseenSQL = `SELECT j.key FROM json_each(?2) AS j
	WHERE NOT EXISTS (SELECT 1 FROM items AS i WHERE i.feed_key = ?1 AND i.item_id = j.value)
	ORDER BY j.key`

// prepared runs its statement as a querier (the query text is its own).
type prepared struct{ st *sql.Stmt }

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (s *db) unseenStmt(ctx context.Context) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unseen != nil {
		return s.unseen, nil
	}
	st, err := s.r.PrepareContext(ctx, unseenSQL)
	if err != nil {
		return nil, err
	}
	s.unseen = st
	return st, nil
}

// CommitPoll records one poll in one transaction; see store.Store. A
// poll that brings nothing new (a 304, an unchanged document) need not
// reach the disk before it returns (see txSync).
func (s *db) CommitPoll(ctx context.Context, p *store.Poll, rows []backend.AlertRow) (queued int, err error) {
	f := p.Feed
	durable := len(p.Items) > 0 || len(p.Alerts) > 0
	err = s.txSync(ctx, durable, func(tx *wtx) error {
		// A poll that started before SyncFeeds changed the configured URL
		// does not overwrite the new URL or its validators.
		_, err := tx.ExecContext(ctx, `INSERT INTO feeds (key, url, config_url, configured, etag, last_modified,
				next_due, last_poll, last_success, last_error, error_streak, failing_since, health_alerted,
				initialized, polls, not_modified)
			VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
			ON CONFLICT (key) DO UPDATE SET
				url = CASE WHEN ?3 = '' OR ?3 = feeds.config_url THEN excluded.url ELSE feeds.url END,
				etag = CASE WHEN ?3 = '' OR ?3 = feeds.config_url THEN excluded.etag ELSE feeds.etag END,
				last_modified = CASE WHEN ?3 = '' OR ?3 = feeds.config_url THEN excluded.last_modified ELSE feeds.last_modified END,
				next_due = excluded.next_due, last_poll = excluded.last_poll, last_success = excluded.last_success,
				last_error = excluded.last_error, error_streak = excluded.error_streak,
				failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
				initialized = excluded.initialized, polls = excluded.polls, not_modified = excluded.not_modified,
				lease_owner = CASE WHEN ?16 <> '' AND feeds.lease_owner = ?16 THEN '' ELSE feeds.lease_owner END,
				lease_until = CASE WHEN ?16 <> '' AND feeds.lease_owner = ?16 THEN 0 ELSE feeds.lease_until END`,
			f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, tm(f.NextDue), tm(f.LastPoll), tm(f.LastSuccess),
			f.LastError, f.ErrorStreak, tm(f.FailingSince), b2i(f.HealthAlerted), b2i(f.Initialized),
			f.Polls, f.NotModified, p.Owner)
		if err != nil {
			return fmt.Errorf("feed state: %w", err)
		}
		if len(p.Items) > 0 {
			st, err := tx.PrepareContext(ctx, `INSERT INTO items (`+backend.ItemCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, it := range p.Items {
				ms, err := backend.EncodeMatches(it.Matches)
				if err != nil {
					return err
				}
				if _, err := st.ExecContext(ctx, f.Key, it.ID, it.Title, it.Link, tm(it.Published), tm(backend.FirstSeen(it, p)), it.Outcome, ms); err != nil {
					return fmt.Errorf("item %q: %w", it.ID, err)
				}
			}
		}
		if err := insertTexts(ctx, tx, p); err != nil {
			return fmt.Errorf("item texts: %w", err)
		}
		if !p.ForgetBefore.IsZero() {
			if err := forgetItems(ctx, tx, f.Key, p.ForgetBefore, p.Present); err != nil {
				return fmt.Errorf("forgetting old items: %w", err)
			}
		}
		queued, err = insertAlerts(ctx, tx, p.Alerts, rows)
		return err
	})
	return queued, err
}

// forgetItems deletes a feed's items first seen before before whose ids
// are not in present. The ids go in as one JSON array, not one parameter
// each, so that no feed is too long for SQLite's parameter limit.
func forgetItems(ctx context.Context, tx *wtx, feedKey string, before time.Time, present []string) error {
	if present == nil {
		present = []string{}
	}
	ids, err := json.Marshal(present)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM items WHERE feed_key = ?1 AND first_seen < ?2
		AND item_id NOT IN (SELECT value FROM json_each(?3))`, feedKey, tm(before), string(ids))
	return err
}

// scanItem scans backend.ItemCols.
func scanItem(sc scanner) (store.Item, error) {
	var it store.Item
	var pub, seen int64
	var ms string
	if err := sc.Scan(&it.FeedKey, &it.ID, &it.Title, &it.Link, &pub, &seen, &it.Outcome, &ms); err != nil {
		return it, err
	}
	it.Published, it.FirstSeen = ft(pub), ft(seen)
	var err error
	it.Matches, err = backend.DecodeMatches(ms)
	return it, err
}

// FindItems reads the items whose id is one of ids or whose link is one
// of links, oldest first: a scan of the items table (the JSON arrays keep
// the statement one whatever the number of keys).
func (s *db) FindItems(ctx context.Context, ids, links []string) ([]store.Item, error) {
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	linkList, err := json.Marshal(links)
	if err != nil {
		return nil, err
	}
	return backend.QueryAll(query(ctx, s.r, `SELECT `+backend.ItemCols+` FROM items
		WHERE item_id IN (SELECT value FROM json_each(?1)) OR link IN (SELECT value FROM json_each(?2))
		ORDER BY first_seen, feed_key, item_id`, string(idList), string(linkList)),
		func(r *sql.Rows) (store.Item, error) { return scanItem(r) })
}
