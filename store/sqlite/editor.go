package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// The desk's editorial state: editors' rule versions, mutes, feedback,
// the audit log and the change marker (see store.Editorial).

const ruleCols = `name, version, query, channels, examples, counterexamples, deleted, author, created_at`

func scanRule(r interface{ Scan(...any) error }) (store.EditorRule, error) {
	var (
		er            store.EditorRule
		ch, ex, cx    string
		deleted, made int64
	)
	if err := r.Scan(&er.Name, &er.Version, &er.Query, &ch, &ex, &cx, &deleted, &er.Author, &made); err != nil {
		return er, err
	}
	er.Deleted, er.CreatedAt = deleted != 0, ft(made)
	er.Channels, er.Examples, er.Counterexamples = strList(ch), strList(ex), strList(cx)
	return er, nil
}

// strList decodes a JSON list column ([] for anything else).
func strList(s string) []string {
	var out []string
	if json.Unmarshal([]byte(s), &out) != nil || len(out) == 0 {
		return nil
	}
	return out
}

func listJSON(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// EditorRules reads the current version of every rule not retired.
func (s *db) EditorRules(ctx context.Context) ([]store.EditorRule, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT `+ruleCols+` FROM rule_versions v
		WHERE version = (SELECT max(version) FROM rule_versions WHERE name = v.name) AND deleted = 0
		ORDER BY name`), func(r *sql.Rows) (store.EditorRule, error) { return scanRule(r) })
}

// EditorRule reads the current version of one rule.
func (s *db) EditorRule(ctx context.Context, name string) (store.EditorRule, error) {
	return scanRule(s.r.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM rule_versions WHERE name = ? ORDER BY version DESC LIMIT 1`, name))
}

// RuleHistory reads every version of one rule, oldest first.
func (s *db) RuleHistory(ctx context.Context, name string) ([]store.EditorRule, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT `+ruleCols+` FROM rule_versions WHERE name = ? ORDER BY version`, name),
		func(r *sql.Rows) (store.EditorRule, error) { return scanRule(r) })
}

// audit records act first in tx: a known key is store.ErrDuplicate.
func audit(ctx context.Context, tx *wtx, act store.Action) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO audit (key, user_id, at, action, target, details) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, act.Key, act.User, tm(act.At), act.Action, act.Target, act.Details)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = store.ErrDuplicate
		}
		return err
	}
	return nil
}

// changed moves the change marker in tx.
func changed(ctx context.Context, tx *wtx) error {
	_, err := tx.ExecContext(ctx, `UPDATE desk_changes SET seq = seq + 1 WHERE id = 1`)
	return err
}

// SaveEditorRule writes the rule's next version with its audit entry.
func (s *db) SaveEditorRule(ctx context.Context, r store.EditorRule, ok func(cur int, retired bool) bool, act store.Action) (store.EditorRule, error) {
	err := s.tx(ctx, func(tx *wtx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		var cur, deleted int64
		err := tx.QueryRowContext(ctx, `SELECT version, deleted FROM rule_versions WHERE name = ? ORDER BY version DESC LIMIT 1`, r.Name).Scan(&cur, &deleted)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if !ok(int(cur), err == sql.ErrNoRows || deleted != 0) {
			return store.ErrConflict
		}
		r.Version = int(cur) + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_versions (`+ruleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.Name, r.Version, r.Query, listJSON(r.Channels), listJSON(r.Examples), listJSON(r.Counterexamples), b2i(r.Deleted), r.Author, tm(r.CreatedAt)); err != nil {
			return err
		}
		return changed(ctx, tx)
	})
	return r, err
}

// Mute records m, ending an open mute of the same target.
func (s *db) Mute(ctx context.Context, m store.Mute, act store.Action) error {
	return s.tx(ctx, func(tx *wtx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mutes SET ended_at = ?, ended_by = ? WHERE kind = ? AND target = ? AND ended_at = 0`,
			tm(m.At), m.By, m.Kind, m.Target); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mutes (kind, target, channel, title, until_at, forever, by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.Kind, m.Target, m.Channel, m.Title, tm(m.Until), b2i(m.Forever), m.By, tm(m.At)); err != nil {
			return err
		}
		return changed(ctx, tx)
	})
}

// Unmute ends the mute in force on (kind, target), if one is.
func (s *db) Unmute(ctx context.Context, kind, target string, now time.Time, act store.Action) (bool, error) {
	ended := false
	err := s.tx(ctx, func(tx *wtx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE mutes SET ended_at = ?, ended_by = ? WHERE kind = ? AND target = ? AND ended_at = 0
			AND (forever = 1 OR until_at > ?)`, tm(now), act.User, kind, target, tm(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = errNothing
			}
			return err
		}
		ended = true
		return changed(ctx, tx)
	})
	if err == errNothing {
		return false, nil
	}
	return ended, err
}

// errNothing rolls back a transaction that found nothing to do.
var errNothing = errorString("nothing to do")

type errorString string

func (e errorString) Error() string { return string(e) }

const muteCols = `kind, target, channel, title, until_at, forever, by_user, at`

// Mutes reads the mutes in force at now, oldest first.
func (s *db) Mutes(ctx context.Context, now time.Time) ([]store.Mute, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT `+muteCols+` FROM mutes WHERE ended_at = 0 AND (forever = 1 OR until_at > ?) ORDER BY at, id`, tm(now)),
		func(r *sql.Rows) (store.Mute, error) {
			var (
				m                  store.Mute
				until, forever, at int64
			)
			err := r.Scan(&m.Kind, &m.Target, &m.Channel, &m.Title, &until, &forever, &m.By, &at)
			m.Until, m.Forever, m.At = ft(until), forever != 0, ft(at)
			return m, err
		})
}

// AddFeedback records an alert marked not relevant.
func (s *db) AddFeedback(ctx context.Context, f store.Feedback, act store.Action) error {
	return s.tx(ctx, func(tx *wtx) error {
		if err := audit(ctx, tx, act); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO feedback (alert_id, rule, feed_key, item_id, title, text, link, by_user, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO NOTHING`,
			f.AlertID, f.Rule, f.FeedKey, f.ItemID, f.Title, f.Text, f.Link, f.By, tm(f.At))
		return err
	})
}

const feedbackCols = `alert_id, rule, feed_key, item_id, title, text, link, by_user, at`

func scanFeedback(r interface{ Scan(...any) error }) (store.Feedback, error) {
	var (
		f  store.Feedback
		at int64
	)
	err := r.Scan(&f.AlertID, &f.Rule, &f.FeedKey, &f.ItemID, &f.Title, &f.Text, &f.Link, &f.By, &at)
	f.At = ft(at)
	return f, err
}

// FeedbackFor reads the mark on one alert.
func (s *db) FeedbackFor(ctx context.Context, alertID string) (store.Feedback, error) {
	return scanFeedback(s.r.QueryRowContext(ctx, `SELECT `+feedbackCols+` FROM feedback WHERE alert_id = ?`, alertID))
}

// Feedback reads a rule's marks, newest first.
func (s *db) Feedback(ctx context.Context, rule string, limit int) ([]store.Feedback, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT `+feedbackCols+` FROM feedback WHERE rule = ? ORDER BY at DESC, alert_id LIMIT ?`, rule, sqlLimit(limit)),
		func(r *sql.Rows) (store.Feedback, error) { return scanFeedback(r) })
}

// RuleStats counts alerts and marks per rule.
func (s *db) RuleStats(ctx context.Context, d1, d7 time.Time) (map[string]store.RuleStats, error) {
	out := map[string]store.RuleStats{}
	err := backend.QueryEach(query(ctx, s.r, `SELECT json_extract(payload, '$.rule'), sum(created_at >= ?), count(*) FROM alerts
		WHERE kind = 'item' AND created_at >= ? AND (story_id = '' OR story_id = id) GROUP BY 1`, tm(d1), tm(d7)),
		func(r *sql.Rows) (struct{}, error) {
			var (
				rule   sql.NullString
				d, all int
			)
			if err := r.Scan(&rule, &d, &all); err != nil {
				return struct{}{}, err
			}
			st := out[rule.String]
			st.Alerts24h, st.Alerts7d = d, all
			out[rule.String] = st
			return struct{}{}, nil
		}, func(struct{}) error { return nil })
	if err != nil {
		return nil, err
	}
	err = backend.QueryEach(query(ctx, s.r, `SELECT rule, count(*) FROM feedback WHERE at >= ? GROUP BY rule`, tm(d7)),
		func(r *sql.Rows) (struct{}, error) {
			var (
				rule string
				n    int
			)
			if err := r.Scan(&rule, &n); err != nil {
				return struct{}{}, err
			}
			st := out[rule]
			st.NotRelevant7d = n
			out[rule] = st
			return struct{}{}, nil
		}, func(struct{}) error { return nil })
	return out, err
}

// Audit reads audit entries, newest first.
func (s *db) Audit(ctx context.Context, f store.AuditFilter) ([]store.Action, error) {
	return backend.QueryAll(query(ctx, s.r, `SELECT key, user_id, at, action, target, details FROM audit WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?`,
		tm(f.Since), sqlLimit(f.Limit)),
		func(r *sql.Rows) (store.Action, error) {
			var (
				a  store.Action
				at int64
			)
			err := r.Scan(&a.Key, &a.User, &at, &a.Action, &a.Target, &a.Details)
			a.At = ft(at)
			return a, err
		})
}

// Changes reads the change marker.
func (s *db) Changes(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM desk_changes WHERE id = 1`).Scan(&n)
	return n, err
}

// DumpEditorial reads the whole editorial state.
func (s *db) DumpEditorial(ctx context.Context, now time.Time) (store.EditorialState, error) {
	var es store.EditorialState
	var err error
	if es.Rules, err = backend.QueryAll(query(ctx, s.r, `SELECT `+ruleCols+` FROM rule_versions ORDER BY name, version`),
		func(r *sql.Rows) (store.EditorRule, error) { return scanRule(r) }); err != nil {
		return es, err
	}
	if es.Mutes, err = s.Mutes(ctx, now); err != nil {
		return es, err
	}
	if es.Feedback, err = backend.QueryAll(query(ctx, s.r, `SELECT `+feedbackCols+` FROM feedback ORDER BY at, alert_id`),
		func(r *sql.Rows) (store.Feedback, error) { return scanFeedback(r) }); err != nil {
		return es, err
	}
	as, err := s.Audit(ctx, store.AuditFilter{})
	slices.Reverse(as)
	es.Audit = as
	return es, err
}

// LoadEditorial writes an editorial state, keeping what is there.
func (s *db) LoadEditorial(ctx context.Context, es store.EditorialState) error {
	return s.tx(ctx, func(tx *wtx) error {
		for _, r := range es.Rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rule_versions (`+ruleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				r.Name, r.Version, r.Query, listJSON(r.Channels), listJSON(r.Examples), listJSON(r.Counterexamples), b2i(r.Deleted), r.Author, tm(r.CreatedAt)); err != nil {
				return err
			}
		}
		for _, m := range es.Mutes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mutes (kind, target, channel, title, until_at, forever, by_user, at)
				SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM mutes WHERE kind = ? AND target = ? AND ended_at = 0)`,
				m.Kind, m.Target, m.Channel, m.Title, tm(m.Until), b2i(m.Forever), m.By, tm(m.At), m.Kind, m.Target); err != nil {
				return err
			}
		}
		for _, f := range es.Feedback {
			if _, err := tx.ExecContext(ctx, `INSERT INTO feedback (`+feedbackCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				f.AlertID, f.Rule, f.FeedKey, f.ItemID, f.Title, f.Text, f.Link, f.By, tm(f.At)); err != nil {
				return err
			}
		}
		for _, a := range es.Audit {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit (key, user_id, at, action, target, details) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				a.Key, a.User, tm(a.At), a.Action, a.Target, a.Details); err != nil {
				return err
			}
		}
		return changed(ctx, tx)
	})
}
