package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// ItemTexts reads the kept item texts first seen at or after since, in
// the index's order (seen_at, feed, item), streaming the rows.
func (s *db) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	rows, err := s.pool.Query(ctx, `SELECT feed_key, item_id, seen_at, record FROM item_texts
		WHERE seen_at >= $1 ORDER BY seen_at, feed_key, item_id`, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	var feedKey, itemID string
	var seen time.Time
	for rows.Next() {
		// The record's bytes as the driver read them, valid until Next.
		rec := rows.RawValues()[3]
		if err := rows.Scan(&feedKey, &itemID, &seen, nil); err != nil {
			return err
		}
		if err := fn(feedKey, itemID, seen.UTC(), rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PruneTexts deletes at most batch texts first seen before before.
func (s *db) PruneTexts(ctx context.Context, before time.Time, batch int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM item_texts WHERE ctid IN (SELECT ctid FROM item_texts
		WHERE seen_at < $1 LIMIT $2)`, before, batch)
	return int(tag.RowsAffected()), err
}

// insertTexts writes the texts of a poll's new items in one statement (an
// item recorded before keeps its first text).
func insertTexts(ctx context.Context, tx pgx.Tx, p *store.Poll) error {
	var ids []string
	var seens []time.Time
	var recs [][]byte
	for _, it := range p.Items {
		if backend.KeepsText(it) {
			ids, seens, recs = append(ids, it.ID), append(seens, backend.FirstSeen(it, p)), append(recs, it.Text)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_texts (feed_key, item_id, seen_at, record)
		SELECT $1, i, s, r FROM unnest($2::text[], $3::timestamptz[], $4::bytea[]) AS x(i, s, r)
		ON CONFLICT DO NOTHING`, p.Feed.Key, ids, seens, recs)
	return err
}
