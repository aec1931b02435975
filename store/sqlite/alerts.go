package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// scanAlert scans lead (columns before backend.AlertCols), then AlertCols.
func scanAlert(sc scanner, lead ...any) (store.Alert, error) {
	var a store.Alert
	var created, next, uncertain, done int64
	var pl []byte
	if err := sc.Scan(append(lead, &a.ID, &a.Kind, &a.Channel, &a.Digest, &a.State, &created, &next, &a.Attempts,
		&a.LastError, &uncertain, &a.SlackTS, &done, &a.StoryID, &pl)...); err != nil {
		return a, err
	}
	a.CreatedAt, a.NextAttempt, a.Uncertain = ft(created), ft(next), uncertain != 0
	return a, backend.FinishAlert(&a, ft(done), pl)
}

func scanAlertRow(r *sql.Rows) (store.Alert, error) { return scanAlert(r) }

// Alerts lists alerts, newest first.
func (s *db) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	where, args := backend.AlertWhere(f, func(int) string { return "?" }, payloadField)
	return backend.QueryAll(query(ctx, s.r, `SELECT `+backend.AlertCols+` FROM alerts`+where+` ORDER BY seq DESC LIMIT ?`,
		append(args, sqlLimit(f.Limit))...), scanAlertRow)
}

// Alert reads one alert by id.
func (s *db) Alert(ctx context.Context, id string) (store.Alert, error) {
	return scanAlert(s.r.QueryRowContext(ctx, `SELECT `+backend.AlertCols+` FROM alerts WHERE id = ?`, id))
}

// StoryHeads reads the item alerts that opened a story, created at or
// after since, oldest first (index alerts_story_heads).
func (s *db) StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT `+backend.AlertCols+` FROM alerts
		WHERE story_id = id AND kind = 'item' AND created_at >= ? ORDER BY created_at, seq`, tm(since)), scanAlertRow)
}

// payloadField is a payload key as text, as the index alerts_item has it.
func payloadField(key string) string { return "json_extract(payload, '$." + key + "')" }
