package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// The desk's editorial state: editors' rule versions, mutes, feedback,
// the audit log and the change marker (see store.Editorial).

const ruleCols = `name, version, query, channels, examples, counterexamples, deleted, author, created_at`

func scanRule(r pgx.Row) (store.EditorRule, error) {
	var er store.EditorRule
	err := r.Scan(&er.Name, &er.Version, &er.Query, &er.Channels, &er.Examples, &er.Counterexamples, &er.Deleted, &er.Author, &er.CreatedAt)
	er.CreatedAt = ut(er.CreatedAt)
	for _, l := range []*[]string{&er.Channels, &er.Examples, &er.Counterexamples} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return er, err
}

func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// EditorRules reads the current version of every rule not retired.
func (s *db) EditorRules(ctx context.Context) ([]store.EditorRule, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT `+ruleCols+` FROM (SELECT DISTINCT ON (name) `+ruleCols+` FROM rule_versions
		ORDER BY name, version DESC) v WHERE NOT deleted ORDER BY name`),
		func(r pgx.Rows) (store.EditorRule, error) { return scanRule(r) })
}

// EditorRule reads the current version of one rule.
func (s *db) EditorRule(ctx context.Context, name string) (store.EditorRule, error) {
	return scanRule(s.pool.QueryRow(ctx, `SELECT `+ruleCols+` FROM rule_versions WHERE name = $1 ORDER BY version DESC LIMIT 1`, name))
}

// RuleHistory reads every version of one rule, oldest first.
func (s *db) RuleHistory(ctx context.Context, name string) ([]store.EditorRule, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT `+ruleCols+` FROM rule_versions WHERE name = $1 ORDER BY version`, name),
		func(r pgx.Rows) (store.EditorRule, error) { return scanRule(r) })
}

// audit records act first in tx: a known key is store.ErrDuplicate. Two
// transactions with the same key wait for each other here; the second
// finds the first's row.
func audit(ctx context.Context, tx pgx.Tx, act store.Action) error {
	tag, err := tx.Exec(ctx, `INSERT INTO audit (key, user_id, at, action, target, details) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO NOTHING`, act.Key, act.User, act.At, act.Action, act.Target, act.Details)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrDuplicate
	}
	return err
}

// changed moves the change marker in tx.
func changed(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE desk_changes SET seq = seq + 1 WHERE id = 1`)
	return err
}

// SaveEditorRule writes the rule's next version with its audit entry. Two
// saves from the same version race for the next one: the loser's insert
// hits the primary key and is store.ErrConflict.
func (s *db) SaveEditorRule(ctx context.Context, r store.EditorRule, ok func(cur int, retired bool) bool, act store.Action) (store.EditorRule, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		var (
			cur     int
			deleted bool
		)
		err := tx.QueryRow(ctx, `SELECT version, deleted FROM rule_versions WHERE name = $1 ORDER BY version DESC LIMIT 1`, r.Name).Scan(&cur, &deleted)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if !ok(cur, errors.Is(err, pgx.ErrNoRows) || deleted) {
			return store.ErrConflict
		}
		r.Version = cur + 1
		if _, err := tx.Exec(ctx, `INSERT INTO rule_versions (`+ruleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.Name, r.Version, r.Query, list(r.Channels), list(r.Examples), list(r.Counterexamples), r.Deleted, r.Author, r.CreatedAt); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				return store.ErrConflict
			}
			return err
		}
		return changed(ctx, tx)
	})
	return r, err
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Mute records m, ending an open mute of the same target.
func (s *db) Mute(ctx context.Context, m store.Mute, act store.Action) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mutes SET ended_at = $1, ended_by = $2 WHERE kind = $3 AND target = $4 AND ended_at IS NULL`,
			m.At, m.By, m.Kind, m.Target); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO mutes (kind, target, channel, title, until_at, by_user, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			m.Kind, m.Target, m.Channel, m.Title, nullTime(m.Until), m.By, m.At); err != nil {
			return err
		}
		return changed(ctx, tx)
	})
}

// errNothing rolls back a transaction that found nothing to do.
var errNothing = errors.New("nothing to do")

// Unmute ends the mute in force on (kind, target), if one is.
func (s *db) Unmute(ctx context.Context, kind, target string, now time.Time, act store.Action) (bool, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE mutes SET ended_at = $1, ended_by = $2 WHERE kind = $3 AND target = $4 AND ended_at IS NULL
			AND (until_at IS NULL OR until_at > $1)`, now, act.User, kind, target)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNothing
		}
		return changed(ctx, tx)
	})
	if errors.Is(err, errNothing) {
		return false, nil
	}
	return err == nil, err
}

// Mutes reads the mutes in force at now, oldest first.
func (s *db) Mutes(ctx context.Context, now time.Time) ([]store.Mute, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT kind, target, channel, title, until_at, by_user, at FROM mutes
		WHERE ended_at IS NULL AND (until_at IS NULL OR until_at > $1) ORDER BY at, id`, now),
		func(r pgx.Rows) (store.Mute, error) {
			var (
				m     store.Mute
				until *time.Time
			)
			err := r.Scan(&m.Kind, &m.Target, &m.Channel, &m.Title, &until, &m.By, &m.At)
			if until == nil {
				m.Forever = true
			} else {
				m.Until = until.UTC()
			}
			m.At = ut(m.At)
			return m, err
		})
}

// AddFeedback records an alert marked not relevant.
func (s *db) AddFeedback(ctx context.Context, f store.Feedback, act store.Action) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO feedback (alert_id, rule, feed_key, item_id, title, text, link, by_user, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (alert_id) DO NOTHING`,
			f.AlertID, f.Rule, f.FeedKey, f.ItemID, f.Title, f.Text, f.Link, f.By, f.At)
		return err
	})
}

const feedbackCols = `alert_id, rule, feed_key, item_id, title, text, link, by_user, at`

func scanFeedback(r pgx.Row) (store.Feedback, error) {
	var f store.Feedback
	err := r.Scan(&f.AlertID, &f.Rule, &f.FeedKey, &f.ItemID, &f.Title, &f.Text, &f.Link, &f.By, &f.At)
	f.At = ut(f.At)
	return f, err
}

// FeedbackFor reads the mark on one alert.
func (s *db) FeedbackFor(ctx context.Context, alertID string) (store.Feedback, error) {
	return scanFeedback(s.pool.QueryRow(ctx, `SELECT `+feedbackCols+` FROM feedback WHERE alert_id = $1`, alertID))
}

// Feedback reads a rule's marks, newest first.
func (s *db) Feedback(ctx context.Context, rule string, limit int) ([]store.Feedback, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT `+feedbackCols+` FROM feedback WHERE rule = $1 ORDER BY at DESC, alert_id LIMIT $2`, rule, pgLimit(limit)),
		func(r pgx.Rows) (store.Feedback, error) { return scanFeedback(r) })
}

// RuleStats counts alerts and marks per rule.
func (s *db) RuleStats(ctx context.Context, d1, d7 time.Time) (map[string]store.RuleStats, error) {
	out := map[string]store.RuleStats{}
	rows, err := s.pool.Query(ctx, `SELECT coalesce(payload->>'rule', ''), count(*) FILTER (WHERE created_at >= $1), count(*) FROM alerts
		WHERE kind = 'item' AND created_at >= $2 AND (story_id = '' OR story_id = id) GROUP BY 1`, d1, d7)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			rule   string
			d, all int
		)
		if err := rows.Scan(&rule, &d, &all); err != nil {
			rows.Close()
			return nil, err
		}
		out[rule] = store.RuleStats{Alerts24h: d, Alerts7d: all}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.pool.Query(ctx, `SELECT rule, count(*) FROM feedback WHERE at >= $1 GROUP BY rule`, d7)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rule string
			n    int
		)
		if err := rows.Scan(&rule, &n); err != nil {
			return nil, err
		}
		st := out[rule]
		st.NotRelevant7d = n
		out[rule] = st
	}
	return out, rows.Err()
}

// Audit reads audit entries, newest first.
func (s *db) Audit(ctx context.Context, f store.AuditFilter) ([]store.Action, error) {
	return backend.QueryAll(query(ctx, s.pool, `SELECT key, user_id, at, action, target, details FROM audit WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2`,
		f.Since, pgLimit(f.Limit)),
		func(r pgx.Rows) (store.Action, error) {
			var a store.Action
			err := r.Scan(&a.Key, &a.User, &a.At, &a.Action, &a.Target, &a.Details)
			a.At = ut(a.At)
			return a, err
		})
}

// Changes reads the change marker.
func (s *db) Changes(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT seq FROM desk_changes WHERE id = 1`).Scan(&n)
	return n, err
}

// DumpEditorial reads the whole editorial state.
func (s *db) DumpEditorial(ctx context.Context, now time.Time) (store.EditorialState, error) {
	var es store.EditorialState
	var err error
	if es.Rules, err = backend.QueryAll(query(ctx, s.pool, `SELECT `+ruleCols+` FROM rule_versions ORDER BY name, version`),
		func(r pgx.Rows) (store.EditorRule, error) { return scanRule(r) }); err != nil {
		return es, err
	}
	if es.Mutes, err = s.Mutes(ctx, now); err != nil {
		return es, err
	}
	if es.Feedback, err = backend.QueryAll(query(ctx, s.pool, `SELECT `+feedbackCols+` FROM feedback ORDER BY at, alert_id`),
		func(r pgx.Rows) (store.Feedback, error) { return scanFeedback(r) }); err != nil {
		return es, err
	}
	as, err := s.Audit(ctx, store.AuditFilter{})
	slices.Reverse(as)
	es.Audit = as
	return es, err
}

// LoadEditorial writes an editorial state, keeping what is there.
func (s *db) LoadEditorial(ctx context.Context, es store.EditorialState) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		for _, r := range es.Rules {
			if _, err := tx.Exec(ctx, `INSERT INTO rule_versions (`+ruleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
				r.Name, r.Version, r.Query, list(r.Channels), list(r.Examples), list(r.Counterexamples), r.Deleted, r.Author, r.CreatedAt); err != nil {
				return err
			}
		}
		for _, m := range es.Mutes {
			if _, err := tx.Exec(ctx, `INSERT INTO mutes (kind, target, channel, title, until_at, by_user, at)
				SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM mutes WHERE kind = $1 AND target = $2 AND ended_at IS NULL)`,
				m.Kind, m.Target, m.Channel, m.Title, nullTime(m.Until), m.By, m.At); err != nil {
				return err
			}
		}
		for _, f := range es.Feedback {
			if _, err := tx.Exec(ctx, `INSERT INTO feedback (`+feedbackCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
				f.AlertID, f.Rule, f.FeedKey, f.ItemID, f.Title, f.Text, f.Link, f.By, f.At); err != nil {
				return err
			}
		}
		for _, a := range es.Audit {
			if _, err := tx.Exec(ctx, `INSERT INTO audit (key, user_id, at, action, target, details) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				a.Key, a.User, a.At, a.Action, a.Target, a.Details); err != nil {
				return err
			}
		}
		return changed(ctx, tx)
	})
}
