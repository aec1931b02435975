package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// insertAlerts inserts alerts not yet present (by id), rows[i] being the
// row of alerts[i], and makes sure their channels have a row.
func insertAlerts(ctx context.Context, tx *wtx, alerts []store.Alert, rows []backend.AlertRow) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	for _, ch := range backend.Channels(alerts) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO channels (channel) VALUES (?) ON CONFLICT DO NOTHING`, ch); err != nil {
			return 0, fmt.Errorf("channel %q: %w", ch, err)
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts (id, kind, channel, digest, state, created_at, next_attempt,
			attempts, last_error, uncertain, slack_ts, done_at, story_id, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	n := 0
	for i := range alerts {
		a, r := &alerts[i], &rows[i]
		res, err := st.ExecContext(ctx, a.ID, a.Kind, a.Channel, a.Digest, r.State, tm(a.CreatedAt), tm(a.NextAttempt),
			r.Attempts, r.LastError, b2i(r.Uncertain), r.SlackTS, tm(r.Done), a.StoryID, r.Payload)
		if err != nil {
			return 0, fmt.Errorf("alert %s: %w", a.ID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += int(k)
	}
	return n, nil
}

// InsertAlerts inserts alerts in a transaction of their own.
func (s *db) InsertAlerts(ctx context.Context, alerts []store.Alert, rows []backend.AlertRow) (n int, err error) {
	err = s.tx(ctx, func(tx *wtx) error {
		n, err = insertAlerts(ctx, tx, alerts, rows)
		return err
	})
	return n, err
}

// Claiming (issue 18.2: each claim used to walk the channel's whole
// backlog, for every alert of it). A channel's alerts that a claim at ?1
// may take are, in order: its pending (queued, or sending under an expired
// lease) non-digest alerts that are due, up to the first one that must
// wait (not yet due, or leased: a blocker), and its due digest alerts
// before that blocker. Both come from partial indexes (migration 5):
// alerts_pending gives the non-digest pending alerts in order, read only
// up to the claim's limit; alerts_pending_digest the due digest alerts.
const (
	// headSQL is, for channel c, the seq of its first pending non-digest
	// alert if it is claimable, minus that seq if it is a blocker, NULL if
	// there is none; dueDigestSQL the first claimable digest alert.
	headSQL = `(SELECT CASE WHEN (a.state = 'queued' OR a.lease_until <= ?1) AND a.next_attempt <= ?1 THEN a.seq ELSE -a.seq END
		FROM alerts a WHERE a.channel = c.channel AND a.state IN ('queued', 'sending') AND a.digest = ''
		ORDER BY a.seq LIMIT 1)`
	dueDigestSQL = `(SELECT min(a.seq) FROM alerts a WHERE a.channel = c.channel
		AND a.state IN ('queued', 'sending') AND a.digest <> '' AND a.next_attempt <= ?1
		AND (a.state = 'queued' OR a.lease_until <= ?1))`

	// pickChannelSQL: among the channels not leased and not paced, the one
	// whose first claimable alert is oldest. One short index read per
	// channel, whatever its backlog.
	// (MATERIALIZED: each index read runs once per channel, not once per
	// mention of nd and dg.)
	pickChannelSQL = `WITH h AS MATERIALIZED (
			SELECT c.channel AS channel, ` + headSQL + ` AS nd, ` + dueDigestSQL + ` AS dg
			FROM channels c WHERE (c.lease_owner = '' OR c.lease_until <= ?1) AND c.next_send_at <= ?1)
		SELECT channel FROM (
			SELECT channel, CASE WHEN nd > 0 THEN min(nd, coalesce(dg, nd))
				WHEN dg < coalesce(-nd, 9223372036854775807) THEN dg END AS head FROM h)
		WHERE head IS NOT NULL ORDER BY head LIMIT 1`

	// claimAlertsSQL takes channel ?2's claimable alerts, at most ?5: the
	// first ?5 pending non-digest alerts tell where the first blocker is
	// (if it is further, the limit is reached before it anyway).
	claimAlertsSQL = `WITH nd AS (
			SELECT seq, (state = 'queued' OR lease_until <= ?1) AND next_attempt <= ?1 AS ok
			FROM alerts WHERE channel = ?2 AND state IN ('queued', 'sending') AND digest = ''
			ORDER BY seq LIMIT ?5),
		blk AS (SELECT coalesce(min(seq), 9223372036854775807) AS b FROM nd WHERE NOT ok),
		pick AS (
			SELECT seq FROM nd WHERE ok AND seq < (SELECT b FROM blk)
			UNION ALL
			SELECT seq FROM (SELECT seq FROM alerts WHERE channel = ?2
				AND state IN ('queued', 'sending') AND digest <> '' AND next_attempt <= ?1
				AND (state = 'queued' OR lease_until <= ?1) AND seq < (SELECT b FROM blk)
				ORDER BY seq LIMIT ?5)
			ORDER BY seq LIMIT ?5)
		UPDATE alerts SET state = 'sending', lease_owner = ?3, lease_until = ?4,
			uncertain = CASE WHEN state = 'sending' THEN 1 ELSE uncertain END
		WHERE seq IN (SELECT seq FROM pick)
		RETURNING seq, ` + backend.AlertCols
)

// ClaimChannel leases the claimable channel whose oldest claimable alert is
// oldest and returns its claimable alerts (limit <= 0: all), or "".
func (s *db) ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (channel string, got []backend.Claimed, err error) {
	err = s.tx(ctx, func(tx *wtx) error {
		err := tx.QueryRowContext(ctx, pickChannelSQL, tm(now)).Scan(&channel)
		if errors.Is(err, sql.ErrNoRows) {
			channel = ""
			return nil
		}
		if err != nil {
			return err
		}
		until := tm(now.Add(lease))
		got, err = backend.QueryAll(query(ctx, tx, claimAlertsSQL, tm(now), channel, owner, until, sqlLimit(limit)),
			func(r *sql.Rows) (c backend.Claimed, err error) {
				c.Alert, err = scanAlert(r, &c.Seq)
				return c, err
			})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE channels SET lease_owner = ?, lease_until = ? WHERE channel = ?`, owner, until, channel)
		return err
	})
	return channel, got, err
}

// markSQL moves alert ?1 after a delivery attempt (see backend.Mark):
// ?2 is its text, ?3 its time, ?4 (Retry) whether the outcome is unknown.
var markSQL = map[backend.MarkKind]string{
	// Marking a sent alert again changes nothing; marking a failed one
	// sent records the truth (it was sent).
	backend.MarkSent: `UPDATE alerts SET state = 'sent', slack_ts = ?2, done_at = ?3, attempts = attempts + 1,
		uncertain = 0, lease_owner = '', lease_until = 0 WHERE id = ?1 AND state <> 'sent'`,
	// A sent or failed alert is left as it is.
	backend.MarkRetry: `UPDATE alerts SET state = 'queued', next_attempt = ?3, last_error = ?2, uncertain = ?4,
		attempts = attempts + 1, lease_owner = '', lease_until = 0
		WHERE id = ?1 AND state IN ('queued', 'sending')`,
	// A sent alert stays sent.
	backend.MarkFailed: `UPDATE alerts SET state = 'failed', last_error = ?2, done_at = ?3,
		attempts = attempts + 1, lease_owner = '', lease_until = 0
		WHERE id = ?1 AND state IN ('queued', 'sending')`,
}

// Mark moves one alert and returns how many rows changed.
func (s *db) Mark(ctx context.Context, m backend.Mark) (n int64, err error) {
	err = s.tx(ctx, func(tx *wtx) error {
		args := []any{m.ID, m.Text, tm(m.At)}
		if m.Kind == backend.MarkRetry {
			args = append(args, b2i(m.Uncertain))
		}
		res, err := tx.ExecContext(ctx, markSQL[m.Kind], args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// AlertExists reports whether alert id is in the outbox.
func (s *db) AlertExists(ctx context.Context, id string) (ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ?)`, id).Scan(&ok)
	return ok, err
}

// ReleaseChannel ends owner's lease on channel and sets its pacing. If the
// lease has passed to another owner meanwhile, that lease stays and the
// pacing only moves later.
func (s *db) ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error {
	return s.tx(ctx, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET state = 'queued', lease_owner = '', lease_until = 0
			WHERE channel = ? AND state = 'sending' AND lease_owner = ?`, channel, owner); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channels (channel, next_send_at) VALUES (?1, ?3)
			ON CONFLICT (channel) DO UPDATE SET
				next_send_at = CASE WHEN channels.lease_owner = ?2 THEN ?3 ELSE max(channels.next_send_at, ?3) END,
				lease_until = CASE WHEN channels.lease_owner = ?2 THEN 0 ELSE channels.lease_until END,
				lease_owner = CASE WHEN channels.lease_owner = ?2 THEN '' ELSE channels.lease_owner END`,
			channel, owner, tm(nextSendAt))
		return err
	})
}
