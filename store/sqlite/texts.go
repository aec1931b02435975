package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// ItemTexts reads the kept item texts first seen at or after since in the
// order they were stored: one sequential pass over the table from the
// first of them. Each record is handed over as the driver's own bytes,
// without a copy.
func (s *db) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	rows, err := s.r.QueryContext(ctx, itemTextsSQL, tm(since.Add(-time.Hour)), tm(since))
	if err != nil {
		return err
	}
	defer rows.Close()
	var feedKey, itemID string
	var seen int64
	var rec sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&feedKey, &itemID, &seen, &rec); err != nil {
			return err
		}
		if err := fn(feedKey, itemID, ft(seen), rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// itemTextsSQL reads the texts first seen at or after ?2 in the order they
// were stored. Rows are stored as polls commit, and a poll's items are
// first seen when it started: the scan starts at the first row seen at ?1,
// an hour before (one index lookup), which no poll outlasts.
const itemTextsSQL = `SELECT feed_key, item_id, seen_at, record FROM item_texts
	WHERE rowid >= coalesce((SELECT rowid FROM item_texts WHERE seen_at >= ?1 ORDER BY seen_at LIMIT 1), 0)
		AND seen_at >= ?2
	ORDER BY rowid`

// PruneTexts deletes at most batch texts first seen before before.
func (s *db) PruneTexts(ctx context.Context, before time.Time, batch int) (int, error) {
	var n int64
	err := s.txSync(ctx, false, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM item_texts WHERE rowid IN (SELECT rowid FROM item_texts
			WHERE seen_at < ? LIMIT ?)`, tm(before), batch)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// insertTexts writes the texts of a poll's new items (an item recorded
// before keeps its first text).
func insertTexts(ctx context.Context, tx *wtx, p *store.Poll) error {
	var st *sql.Stmt
	for _, it := range p.Items {
		if !backend.KeepsText(it) {
			continue
		}
		if st == nil {
			var err error
			st, err = tx.PrepareContext(ctx, `INSERT INTO item_texts (feed_key, item_id, seen_at, record)
				VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
			if err != nil {
				return err
			}
			defer st.Close()
		}
		if _, err := st.ExecContext(ctx, p.Feed.Key, it.ID, tm(backend.FirstSeen(it, p)), it.Text); err != nil {
			return err
		}
	}
	return nil
}
