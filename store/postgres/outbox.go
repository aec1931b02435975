package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
)

// insertAlerts inserts alerts not yet present (by id), in order, rows[i]
// being the row of alerts[i], and makes sure their channels have a row.
func insertAlerts(ctx context.Context, tx pgx.Tx, alerts []store.Alert, rows []backend.AlertRow) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	// Channel rows first, in a fixed order, so concurrent commits lock
	// them in the same order.
	if _, err := tx.Exec(ctx, `INSERT INTO channels (channel) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, backend.Channels(alerts)); err != nil {
		return 0, fmt.Errorf("channels: %w", err)
	}
	b := &pgx.Batch{}
	for i := range alerts {
		a, r := &alerts[i], &rows[i]
		b.Queue(`INSERT INTO alerts (id, kind, channel, digest, state, created_at, next_attempt,
				attempts, last_error, uncertain, slack_ts, done_at, story_id, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Kind, a.Channel, a.Digest, r.State, a.CreatedAt, a.NextAttempt,
			r.Attempts, r.LastError, r.Uncertain, r.SlackTS, r.Done, a.StoryID, string(r.Payload))
	}
	br := tx.SendBatch(ctx, b)
	n := 0
	for i := range alerts {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return 0, fmt.Errorf("alert %s: %w", alerts[i].ID, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, br.Close()
}

// InsertAlerts inserts alerts in a transaction of their own.
func (s *db) InsertAlerts(ctx context.Context, alerts []store.Alert, rows []backend.AlertRow) (n int, err error) {
	err = s.tx(ctx, func(tx pgx.Tx) error {
		n, err = insertAlerts(ctx, tx, alerts, rows)
		return err
	})
	return n, err
}

// Claiming: see store/sqlite for the shape (the same queries in
// PostgreSQL's dialect). Each claim reads a few index entries per channel
// and at most its limit of pending alerts, whatever the backlog (issue
// 18.2), through the partial indexes of migration 5.
const (
	headSQL = `(SELECT CASE WHEN (a.state = 'queued' OR a.lease_until <= $1) AND a.next_attempt <= $1 THEN a.seq ELSE -a.seq END
		FROM alerts a WHERE a.channel = c.channel AND a.state IN ('queued', 'sending') AND a.digest = ''
		ORDER BY a.seq LIMIT 1)`
	dueDigestSQL = `(SELECT min(a.seq) FROM alerts a WHERE a.channel = c.channel
		AND a.state IN ('queued', 'sending') AND a.digest <> '' AND a.next_attempt <= $1
		AND (a.state = 'queued' OR a.lease_until <= $1))`

	// OFFSET 0 keeps h a subquery of its own: each index read runs once
	// per channel, not once per mention of nd and dg.
	pickChannelSQL = `SELECT c.channel FROM channels c
		CROSS JOIN LATERAL (SELECT ` + headSQL + ` AS nd, ` + dueDigestSQL + ` AS dg OFFSET 0) h
		CROSS JOIN LATERAL (SELECT CASE WHEN h.nd > 0 THEN least(h.nd, h.dg)
			WHEN h.dg < coalesce(-h.nd, 9223372036854775807) THEN h.dg END AS head) x
		WHERE (c.lease_owner = '' OR c.lease_until <= $1) AND c.next_send_at <= $1 AND x.head IS NOT NULL
		ORDER BY x.head LIMIT 1
		FOR UPDATE OF c SKIP LOCKED`

	claimAlertsSQL = `WITH nd AS (
			SELECT seq, (state = 'queued' OR lease_until <= $1) AND next_attempt <= $1 AS ok
			FROM alerts WHERE channel = $2 AND state IN ('queued', 'sending') AND digest = ''
			ORDER BY seq LIMIT $5),
		blk AS (SELECT coalesce(min(seq), 9223372036854775807) AS b FROM nd WHERE NOT ok),
		pick AS (
			SELECT seq FROM nd WHERE ok AND seq < (SELECT b FROM blk)
			UNION ALL
			SELECT seq FROM (SELECT seq FROM alerts WHERE channel = $2
				AND state IN ('queued', 'sending') AND digest <> '' AND next_attempt <= $1
				AND (state = 'queued' OR lease_until <= $1) AND seq < (SELECT b FROM blk)
				ORDER BY seq LIMIT $5) d
			ORDER BY seq LIMIT $5)
		UPDATE alerts SET state = 'sending', lease_owner = $3, lease_until = $4,
			uncertain = (uncertain OR state = 'sending')
		WHERE seq IN (SELECT seq FROM pick)
		RETURNING seq, ` + backend.AlertCols
)

// ClaimChannel leases the claimable channel whose oldest claimable alert is
// oldest and returns its claimable alerts (limit <= 0: all), or "".
// Channels another replica is claiming at the same moment are skipped.
func (s *db) ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (channel string, got []backend.Claimed, err error) {
	err = s.tx(ctx, func(tx pgx.Tx) error {
		channel, got = "", nil
		err := tx.QueryRow(ctx, pickChannelSQL, now).Scan(&channel)
		if errors.Is(err, pgx.ErrNoRows) {
			channel = ""
			return nil
		}
		if err != nil {
			return err
		}
		until := now.Add(lease)
		got, err = backend.QueryAll(query(ctx, tx, claimAlertsSQL, now, channel, owner, until, pgLimit(limit)),
			func(r pgx.Rows) (c backend.Claimed, err error) {
				c.Alert, err = scanAlert(r, &c.Seq)
				return c, err
			})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE channels SET lease_owner = $1, lease_until = $2 WHERE channel = $3`, owner, until, channel)
		return err
	})
	return channel, got, err
}

// markSQL moves alert $1 after a delivery attempt (see backend.Mark): $2
// is its text, $3 its time, $4 (Retry) whether the outcome is unknown.
var markSQL = map[backend.MarkKind]string{
	// Marking a sent alert again changes nothing; marking a failed one
	// sent records the truth (it was sent).
	backend.MarkSent: `UPDATE alerts SET state = 'sent', slack_ts = $2, done_at = $3,
		attempts = attempts + 1, uncertain = false, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state <> 'sent'`,
	// A sent or failed alert is left as it is.
	backend.MarkRetry: `UPDATE alerts SET state = 'queued', next_attempt = $3, last_error = $2,
		uncertain = $4, attempts = attempts + 1, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state IN ('queued', 'sending')`,
	// A sent alert stays sent.
	backend.MarkFailed: `UPDATE alerts SET state = 'failed', last_error = $2, done_at = $3,
		attempts = attempts + 1, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state IN ('queued', 'sending')`,
}

// Mark moves one alert and returns how many rows changed.
func (s *db) Mark(ctx context.Context, m backend.Mark) (int64, error) {
	args := []any{m.ID, m.Text, m.At}
	if m.Kind == backend.MarkRetry {
		args = append(args, m.Uncertain)
	}
	tag, err := s.pool.Exec(ctx, markSQL[m.Kind], args...)
	return tag.RowsAffected(), err
}

// AlertExists reports whether alert id is in the outbox.
func (s *db) AlertExists(ctx context.Context, id string) (ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM alerts WHERE id = $1)`, id).Scan(&ok)
	return ok, err
}

// ReleaseChannel ends owner's lease on channel and sets its pacing. If the
// lease has passed to another owner meanwhile, that lease stays and the
// pacing only moves later.
func (s *db) ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE alerts SET state = 'queued', lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
			WHERE channel = $1 AND state = 'sending' AND lease_owner = $2`, channel, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO channels (channel, next_send_at) VALUES ($1, $3)
			ON CONFLICT (channel) DO UPDATE SET
				next_send_at = CASE WHEN channels.lease_owner = $2 THEN $3 ELSE greatest(channels.next_send_at, $3) END,
				lease_until = CASE WHEN channels.lease_owner = $2 THEN '0001-01-01 00:00:00+00' ELSE channels.lease_until END,
				lease_owner = CASE WHEN channels.lease_owner = $2 THEN '' ELSE channels.lease_owner END`,
			channel, owner, nextSendAt)
		return err
	})
}
