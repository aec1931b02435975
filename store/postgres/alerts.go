package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// scanAlert scans lead (columns before backend.AlertCols), then AlertCols.
func scanAlert(row pgx.Row, lead ...any) (store.Alert, error) {
	var a store.Alert
	var done time.Time
	var pl []byte
	if err := row.Scan(append(lead, &a.ID, &a.Kind, &a.Channel, &a.Digest, &a.State, &a.CreatedAt, &a.NextAttempt,
		&a.Attempts, &a.LastError, &a.Uncertain, &a.SlackTS, &done, &a.StoryID, &pl)...); err != nil {
		return a, err
	}
	a.CreatedAt, a.NextAttempt = ut(a.CreatedAt), ut(a.NextAttempt)
	return a, backend.FinishAlert(&a, ut(done), pl)
}

func scanAlertRow(r pgx.Rows) (store.Alert, error) { return scanAlert(r) }

// Alerts lists alerts, newest first.
func (s *db) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	where, args := backend.AlertWhere(f, func(n int) string { return fmt.Sprintf("$%d", n) }, func(key string) string { return "(payload->>'" + key + "')" })
	args = append(args, pgLimit(f.Limit))
	q := fmt.Sprintf(`SELECT `+backend.AlertCols+` FROM alerts%s ORDER BY seq DESC LIMIT $%d`, where, len(args))
	return backend.QueryAll(query(ctx, s.pool, q, args...), scanAlertRow)
}

// Alert reads one alert by id.
func (s *db) Alert(ctx context.Context, id string) (store.Alert, error) {
	return scanAlert(s.pool.QueryRow(ctx, `SELECT `+backend.AlertCols+` FROM alerts WHERE id = $1`, id))
}

// StoryHeads reads the item alerts that opened a story, created at or
// after since, oldest first (index alerts_story_heads).
func (s *db) StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT `+backend.AlertCols+` FROM alerts
		WHERE story_id = id AND kind = 'item' AND created_at >= $1 ORDER BY created_at, seq`, since), scanAlertRow)
}
