// Package postgres owns the PostgreSQL implementation of store.Store, for
// several Wirewatch replicas sharing one state (driver: jackc/pgx/v5 with a
// pgxpool connection pool).
//
// Work sharing: ClaimDueFeeds and ClaimChannel pick rows with
// SELECT ... FOR UPDATE SKIP LOCKED and mark them with a lease (owner and
// expiry) in the same transaction, so concurrent replicas never take the same
// feed or channel, and a dead replica's feeds and channels are taken over
// once its leases expire. Per-channel pacing (ReleaseChannel's nextSendAt)
// lives in the channels table, so it holds across replicas. Seen items and
// alert ids are unique keys, so two replicas that fetch the same item queue
// its alert once.
//
// Migrate runs the embedded numbered migrations under a session advisory
// lock, so replicas starting together apply each migration once. WithSchema
// puts all tables in one schema (created by Migrate if missing).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
	"github.com/wirewatch/wirewatch/store/internal/migrate"
	"github.com/wirewatch/wirewatch/store/internal/payload"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the PostgreSQL store. It is safe for concurrent use, also by
// several processes.
type Store struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Dumper = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

type options struct {
	schema   string
	maxConns int32
	log      *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithSchema keeps every table in the named schema (a plain lower-case SQL
// identifier), through the connections' search_path. Migrate creates the
// schema if it does not exist. Tests use it to isolate each test.
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

// WithMaxConns sets the pool size (default: pgxpool's, max(4, CPUs), or
// pool_max_conns in the URL).
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = int32(n) } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the database at url (postgres://user@host:port/db?...).
// Call Migrate before using the store.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error of ParseConfig may contain the URL's password: do not wrap it.
		return nil, errors.New("postgres store: invalid connection URL")
	}
	if o.schema != "" {
		if !identRE.MatchString(o.schema) {
			return nil, fmt.Errorf("postgres store: schema %q: want a lower-case SQL identifier", o.schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = o.schema
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: connect to %s:%d/%s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool, schema: o.schema, log: o.log}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Schema is the schema given to WithSchema ("" without it).
func (s *Store) Schema() string { return s.schema }

// Pool is the connection pool, for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func ut(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

func (s *Store) tx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: %s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("postgres store: %s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres store: %s: commit: %w", what, err)
	}
	return nil
}

// --- migrations ---

// Migrate applies every migration not yet recorded in schema_migrations,
// holding a session advisory lock (per schema) meanwhile, so replicas
// starting together wait for each other instead of racing. It refuses a
// database whose schema is newer than this binary.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, 0) }

// migrateTo applies the migrations up to version target (0: all of them).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres store: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte("wirewatch-migrate:" + s.schema))
	key := int64(h.Sum64())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("postgres store: migrate: advisory lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			// The session still holds the lock: drop the connection.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if s.schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres store: migrate: create schema %s: %w", s.schema, err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	var cur int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	if cur > len(ms) {
		return fmt.Errorf("postgres store: database schema version %d is newer than this binary's %d", cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if target > 0 && m.Version > target {
			break
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres store: migrate: %s: %w", m.Name, err)
		}
		s.log.Info("store migrated", "backend", "postgres", "schema", s.schema, "version", m.Version, "migration", m.Name)
	}
	return nil
}

// --- feeds ---

const feedCols = `key, url, config_url, etag, last_modified, next_due, last_poll, last_success,
	last_error, error_streak, failing_since, health_alerted, initialized, polls, not_modified`

// leaseCols follow feedCols where a read shows who polls the feed.
const leaseCols = `lease_owner, lease_until`

// scanFeedLease scans feedCols, leaseCols, then extra.
func scanFeedLease(row pgx.Row, extra ...any) (store.FeedState, error) {
	var owner string
	var until time.Time
	f, err := scanFeed(row, append([]any{&owner, &until}, extra...)...)
	f.LeaseOwner, f.LeaseUntil = owner, ut(until)
	return f, err
}

func scanFeed(row pgx.Row, extra ...any) (store.FeedState, error) {
	var f store.FeedState
	dst := []any{&f.Key, &f.URL, &f.ConfigURL, &f.ETag, &f.LastModified, &f.NextDue, &f.LastPoll, &f.LastSuccess,
		&f.LastError, &f.ErrorStreak, &f.FailingSince, &f.HealthAlerted, &f.Initialized, &f.Polls, &f.NotModified}
	if err := row.Scan(append(dst, extra...)...); err != nil {
		return f, err
	}
	f.NextDue, f.LastPoll, f.LastSuccess, f.FailingSince = ut(f.NextDue), ut(f.LastPoll), ut(f.LastSuccess), ut(f.FailingSince)
	return f, nil
}

// SyncFeeds makes the set of configured feeds match feeds.
func (s *Store) SyncFeeds(ctx context.Context, feeds []store.FeedDef) error {
	feeds = store.CleanFeedDefs(feeds)
	keys := make([]string, 0, len(feeds))
	urls := make([]string, 0, len(feeds))
	dues := make([]time.Time, 0, len(feeds))
	seen := map[string]bool{}
	for _, d := range feeds {
		if d.Key == "" {
			return fmt.Errorf("postgres store: sync feeds: feed with URL %q has an empty key", d.URL)
		}
		if seen[d.Key] {
			continue
		}
		seen[d.Key] = true
		keys, urls, dues = append(keys, d.Key), append(urls, d.URL), append(dues, d.Due)
	}
	return s.tx(ctx, "sync feeds", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE feeds SET configured = false WHERE configured AND NOT key = ANY($1)`, keys); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO feeds (key, url, config_url, configured, next_due)
			SELECT k, u, u, true, d FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS x(k, u, d) ORDER BY k
			ON CONFLICT (key) DO UPDATE SET configured = true,
				url = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.url ELSE excluded.url END,
				etag = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.etag ELSE '' END,
				last_modified = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.last_modified ELSE '' END,
				config_url = excluded.config_url`, keys, urls, dues)
		return err
	})
}

const itemsLast24h = `(SELECT count(*) FROM items i WHERE i.feed_key = feeds.key
	AND i.first_seen > feeds.last_poll - interval '24 hours' AND i.first_seen <= feeds.last_poll
	AND feeds.last_poll > '0001-01-01 00:00:00+00')`

// Feed returns one feed's state (configured or not), or store.ErrNotFound.
func (s *Store) Feed(ctx context.Context, key string) (store.FeedState, error) {
	key = store.CleanID(key)
	var n int
	f, err := scanFeedLease(s.pool.QueryRow(ctx, `SELECT `+feedCols+`, `+leaseCols+`, `+itemsLast24h+` FROM feeds WHERE key = $1`, key), &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("feed %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("postgres store: feed %q: %w", key, err)
	}
	f.ItemsLast24h = n
	return f, nil
}

// Feeds returns every configured feed, ordered by key, with ItemsLast24h.
func (s *Store) Feeds(ctx context.Context) ([]store.FeedState, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+feedCols+`, `+leaseCols+`, `+itemsLast24h+` FROM feeds WHERE configured ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("postgres store: feeds: %w", err)
	}
	defer rows.Close()
	var out []store.FeedState
	for rows.Next() {
		var n int
		f, err := scanFeedLease(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("postgres store: feeds: %w", err)
		}
		f.ItemsLast24h = n
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: feeds: %w", err)
	}
	return out, nil
}

func pgLimit(limit int) any {
	if limit <= 0 {
		return nil // LIMIT NULL: no limit
	}
	return int64(limit)
}

// ClaimDueFeeds leases up to limit due, unleased, configured feeds (limit <= 0:
// all of them), earliest due first, skipping rows other replicas are
// claiming at the same moment.
func (s *Store) ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.FeedState, error) {
	owner = store.CleanText(owner, store.MaxName)
	if owner == "" {
		return nil, errors.New("postgres store: claim due feeds: empty owner")
	}
	var out []store.FeedState
	err := s.tx(ctx, "claim due feeds", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT key FROM feeds WHERE configured AND next_due <= $1
					AND (lease_owner = '' OR lease_until <= $1)
				ORDER BY next_due, key LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE feeds SET lease_owner = $3, lease_until = $4 FROM due WHERE feeds.key = due.key
			RETURNING `+qualify("feeds", feedCols+", "+leaseCols), now, pgLimit(limit), owner, now.Add(lease))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFeedLease(rows)
			if err != nil {
				return err
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	store.SortByDue(out)
	return out, nil
}

// ExtendFeedLease implements store.Store.
func (s *Store) ExtendFeedLease(ctx context.Context, key, owner string, now time.Time, lease time.Duration) error {
	key, owner = store.CleanID(key), store.CleanText(owner, store.MaxName)
	if owner == "" {
		return errors.New("postgres store: extend feed lease: empty owner")
	}
	var held, exists bool
	err := s.pool.QueryRow(ctx, `WITH up AS (UPDATE feeds SET lease_until = $3 WHERE key = $1 AND lease_owner = $2 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM up), EXISTS (SELECT 1 FROM feeds WHERE key = $1)`, key, owner, now.Add(lease)).Scan(&held, &exists)
	switch {
	case err != nil:
		return fmt.Errorf("postgres store: extend lease of feed %q: %w", key, err)
	case !exists:
		return fmt.Errorf("feed %q: %w", key, store.ErrNotFound)
	case !held:
		return fmt.Errorf("feed %q: %w", key, store.ErrLeaseLost)
	}
	return nil
}

// qualify prefixes each column of a comma-separated list with table.
func qualify(table, cols string) string {
	out := ""
	col := ""
	flush := func() {
		if col != "" {
			if out != "" {
				out += ", "
			}
			out += table + "." + col
			col = ""
		}
	}
	for _, r := range cols {
		switch r {
		case ',':
			flush()
		case ' ', '\n', '\t':
		default:
			col += string(r)
		}
	}
	flush()
	return out
}

// --- items ---

// UnseenItems returns the ids not yet recorded for the feed, in input order.
// Only the unseen ids come back (usually none), one index lookup per id.
func (s *Store) UnseenItems(ctx context.Context, feedKey string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	feedKey, clean := store.CleanID(feedKey), store.CleanIDs(ids)
	rows, err := s.pool.Query(ctx, `SELECT x.n - 1 FROM unnest($2::text[]) WITH ORDINALITY AS x(id, n)
		WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.feed_key = $1 AND i.item_id = x.id)
		ORDER BY x.n`, feedKey, clean)
	if err != nil {
		return nil, fmt.Errorf("postgres store: unseen items of %q: %w", feedKey, err)
	}
	idx, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("postgres store: unseen items of %q: %w", feedKey, err)
	}
	return backend.Unseen(ids, clean, idx), nil
}

// CommitPoll records one poll in one transaction; see store.Store.
func (s *Store) CommitPoll(ctx context.Context, p store.Poll) (int, error) {
	p = store.CleanPoll(p)
	f := p.Feed
	if f.Key == "" {
		return 0, errors.New("postgres store: commit poll: empty feed key")
	}
	n := len(p.Items)
	itemIDs, titles, links := make([]string, n), make([]string, n), make([]string, n)
	pubs, seens := make([]time.Time, n), make([]time.Time, n)
	for i, it := range p.Items {
		if it.FeedKey != "" && it.FeedKey != f.Key {
			return 0, fmt.Errorf("postgres store: commit poll of %s: item %q belongs to feed %q", f.Key, it.ID, it.FeedKey)
		}
		itemIDs[i], titles[i], links[i], pubs[i], seens[i] = it.ID, it.Title, it.Link, it.Published, it.FirstSeen
		if it.FirstSeen.IsZero() {
			seens[i] = f.LastPoll
		}
	}
	queued := 0
	err := s.tx(ctx, "commit poll of "+f.Key, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO feeds (key, url, config_url, configured, etag, last_modified,
				next_due, last_poll, last_success, last_error, error_streak, failing_since, health_alerted,
				initialized, polls, not_modified)
			VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (key) DO UPDATE SET
				url = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.url ELSE feeds.url END,
				etag = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.etag ELSE feeds.etag END,
				last_modified = CASE WHEN $3 = '' OR $3 = feeds.config_url THEN excluded.last_modified ELSE feeds.last_modified END,
				next_due = excluded.next_due, last_poll = excluded.last_poll, last_success = excluded.last_success,
				last_error = excluded.last_error, error_streak = excluded.error_streak,
				failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
				initialized = excluded.initialized, polls = excluded.polls, not_modified = excluded.not_modified,
				lease_owner = CASE WHEN $16 <> '' AND feeds.lease_owner = $16 THEN '' ELSE feeds.lease_owner END,
				lease_until = CASE WHEN $16 <> '' AND feeds.lease_owner = $16 THEN '0001-01-01 00:00:00+00' ELSE feeds.lease_until END`,
			f.Key, f.URL, f.ConfigURL, f.ETag, f.LastModified, f.NextDue, f.LastPoll, f.LastSuccess,
			f.LastError, f.ErrorStreak, f.FailingSince, f.HealthAlerted, f.Initialized,
			f.Polls, f.NotModified, p.Owner)
		if err != nil {
			return fmt.Errorf("feed state: %w", err)
		}
		if n > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO items (feed_key, item_id, title, link, published, first_seen)
				SELECT $1, i, t, l, p, s FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
					AS x(i, t, l, p, s)
				ON CONFLICT DO NOTHING`, f.Key, itemIDs, titles, links, pubs, seens); err != nil {
				return fmt.Errorf("items: %w", err)
			}
		}
		if !p.ForgetBefore.IsZero() {
			present := p.Present
			if present == nil {
				present = []string{}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM items WHERE feed_key = $1 AND first_seen < $2
				AND NOT (item_id = ANY($3::text[]))`, f.Key, p.ForgetBefore, present); err != nil {
				return fmt.Errorf("forgetting old items: %w", err)
			}
		}
		queued, err = insertAlerts(ctx, tx, p.Alerts, false)
		return err
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// --- outbox ---

const alertCols = `id, kind, channel, digest, state, created_at, next_attempt, attempts, last_error,
	uncertain, slack_ts, done_at, story_id, payload`

func scanAlert(row pgx.Row, lead ...any) (store.Alert, error) {
	var a store.Alert
	var done time.Time
	var pl []byte
	dst := append(lead, &a.ID, &a.Kind, &a.Channel, &a.Digest, &a.State, &a.CreatedAt, &a.NextAttempt, &a.Attempts,
		&a.LastError, &a.Uncertain, &a.SlackTS, &done, &a.StoryID, &pl)
	if err := row.Scan(dst...); err != nil {
		return a, err
	}
	a.CreatedAt, a.NextAttempt = ut(a.CreatedAt), ut(a.NextAttempt)
	switch a.State {
	case store.StateSent:
		a.SentAt = ut(done)
	case store.StateFailed:
		a.FailedAt = ut(done)
	}
	return a, payload.Decode(pl, &a)
}

func checkAlert(a *store.Alert) error {
	if a.ID == "" {
		return fmt.Errorf("alert for channel %q with an empty id", a.Channel)
	}
	if a.Channel == "" {
		return fmt.Errorf("alert %s has no channel", a.ID)
	}
	if a.Kind == "" {
		return fmt.Errorf("alert %s has no kind", a.ID)
	}
	return nil
}

// insertAlerts inserts alerts not yet present (by id), in order, and makes
// sure their channels have a row. Unless keepState, every alert starts
// "queued" with no attempts; with keepState (Load) the delivery state is
// kept, except that "sending" becomes "queued" and uncertain.
func insertAlerts(ctx context.Context, tx pgx.Tx, alerts []store.Alert, keepState bool) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	var channels []string
	b := &pgx.Batch{}
	for i := range alerts {
		a := &alerts[i]
		if err := checkAlert(a); err != nil {
			return 0, err
		}
		pl, err := payload.Encode(a)
		if err != nil {
			return 0, err
		}
		state, attempts, lastErr, uncertain, ts, done := store.StateQueued, 0, "", false, "", time.Time{}
		if keepState {
			state, attempts, lastErr, uncertain, ts = a.State, a.Attempts, a.LastError, a.Uncertain, a.SlackTS
			switch state {
			case store.StateSending:
				state, uncertain = store.StateQueued, true
			case store.StateSent:
				done = a.SentAt
			case store.StateFailed:
				done = a.FailedAt
			case store.StateQueued:
			default:
				return 0, fmt.Errorf("alert %s: unknown state %q", a.ID, a.State)
			}
		}
		b.Queue(`INSERT INTO alerts (id, kind, channel, digest, state, created_at, next_attempt,
				attempts, last_error, uncertain, slack_ts, done_at, story_id, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Kind, a.Channel, a.Digest, state, a.CreatedAt, a.NextAttempt,
			attempts, lastErr, uncertain, ts, done, a.StoryID, string(pl))
		if !slices.Contains(channels, a.Channel) {
			channels = append(channels, a.Channel)
		}
	}
	// Channel rows first, in a fixed order, so concurrent commits lock
	// them in the same order.
	sort.Strings(channels)
	if _, err := tx.Exec(ctx, `INSERT INTO channels (channel) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, channels); err != nil {
		return 0, fmt.Errorf("channels: %w", err)
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
	if err := br.Close(); err != nil {
		return 0, err
	}
	return n, nil
}

// Enqueue queues alerts outside a poll; duplicates by id are skipped.
func (s *Store) Enqueue(ctx context.Context, alerts []store.Alert) (int, error) {
	alerts = store.CleanAlerts(alerts)
	var n int
	err := s.tx(ctx, "enqueue", func(tx pgx.Tx) error {
		var err error
		n, err = insertAlerts(ctx, tx, alerts, false)
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
		RETURNING seq, ` + alertCols
)

// ClaimChannel leases the claimable channel whose oldest claimable alert is
// oldest and returns its claimable alerts in order (limit <= 0: all).
// Channels another replica is claiming at the same moment are skipped.
func (s *Store) ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (string, []store.Alert, error) {
	owner = store.CleanText(owner, store.MaxName)
	if owner == "" {
		return "", nil, errors.New("postgres store: claim channel: empty owner")
	}
	var channel string
	var alerts []store.Alert
	err := s.tx(ctx, "claim channel", func(tx pgx.Tx) error {
		channel = ""
		alerts = nil
		err := tx.QueryRow(ctx, pickChannelSQL, now).Scan(&channel)
		if errors.Is(err, pgx.ErrNoRows) {
			channel = ""
			return nil
		}
		if err != nil {
			return err
		}
		until := now.Add(lease)
		rows, err := tx.Query(ctx, claimAlertsSQL, now, channel, owner, until, pgLimit(limit))
		if err != nil {
			return err
		}
		type seqAlert struct {
			seq int64
			a   store.Alert
		}
		var got []seqAlert
		for rows.Next() {
			var sa seqAlert
			a, err := scanAlert(rows, &sa.seq)
			if err != nil {
				rows.Close()
				return err
			}
			sa.a = a
			got = append(got, sa)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		sort.Slice(got, func(i, j int) bool { return got[i].seq < got[j].seq })
		for _, g := range got {
			alerts = append(alerts, g.a)
		}
		_, err = tx.Exec(ctx, `UPDATE channels SET lease_owner = $1, lease_until = $2 WHERE channel = $3`, owner, until, channel)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return channel, alerts, nil
}

// MarkSent records Slack's acceptance. Marking a sent alert again changes
// nothing; marking a failed one sent records the truth (it was sent).
func (s *Store) MarkSent(ctx context.Context, id string, ts string, now time.Time) error {
	id, ts = store.CleanID(id), store.CleanText(ts, store.MaxName)
	return s.finish(ctx, "mark sent "+id, id, `UPDATE alerts SET state = 'sent', slack_ts = $2, done_at = $3,
		attempts = attempts + 1, uncertain = false, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state <> 'sent'`, ts, now)
}

// Retry puts a pending alert back to "queued" for next; a sent or failed
// alert is left as it is.
func (s *Store) Retry(ctx context.Context, id string, next time.Time, lastErr string, uncertain bool) error {
	id, lastErr = store.CleanID(id), store.CleanText(lastErr, store.MaxText)
	return s.finish(ctx, "retry "+id, id, `UPDATE alerts SET state = 'queued', next_attempt = $2, last_error = $3,
		uncertain = $4, attempts = attempts + 1, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state IN ('queued', 'sending')`, next, lastErr, uncertain)
}

// MarkFailed gives up on a pending alert; a sent alert stays sent.
func (s *Store) MarkFailed(ctx context.Context, id string, reason string, now time.Time) error {
	id, reason = store.CleanID(id), store.CleanText(reason, store.MaxText)
	return s.finish(ctx, "mark failed "+id, id, `UPDATE alerts SET state = 'failed', last_error = $2, done_at = $3,
		attempts = attempts + 1, lease_owner = '', lease_until = '0001-01-01 00:00:00+00'
		WHERE id = $1 AND state IN ('queued', 'sending')`, reason, now)
}

// finish runs an update of alert id; if it changed nothing, the alert must
// exist (else ErrNotFound) and was in a state the update leaves alone.
func (s *Store) finish(ctx context.Context, what, id, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("postgres store: %s: %w", what, err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	err = s.pool.QueryRow(ctx, `SELECT 1 FROM alerts WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres store: %s: %w", what, err)
	}
	return nil
}

// ReleaseChannel ends owner's lease on channel and sets its pacing. If the
// lease has passed to another owner meanwhile, that lease stays and the
// pacing only moves later.
func (s *Store) ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error {
	channel, owner = store.CleanText(channel, store.MaxName), store.CleanText(owner, store.MaxName)
	return s.tx(ctx, "release channel "+channel, func(tx pgx.Tx) error {
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

// RecordPost implements store.Store.
func (s *Store) RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error {
	channel = store.CleanText(channel, store.MaxName)
	return s.tx(ctx, "record post to "+channel, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM channel_posts WHERE channel = $1 AND at < $2`, channel, forgetBefore); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO channel_posts (channel, at) VALUES ($1, $2)`, channel, at)
		return err
	})
}

// Posts implements store.Store.
func (s *Store) Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error) {
	channel = store.CleanText(channel, store.MaxName)
	rows, err := s.pool.Query(ctx, `SELECT at FROM channel_posts WHERE channel = $1 AND at >= $2 ORDER BY at`, channel, since)
	if err != nil {
		return nil, fmt.Errorf("postgres store: posts to %s: %w", channel, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("postgres store: posts to %s: %w", channel, err)
	}
	for i := range out {
		out[i] = out[i].UTC()
	}
	return out, nil
}

// Alerts lists alerts, newest first. The query names only the filters
// used, so each shape gets its own plan (and index).
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	f = store.CleanFilter(f)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.Channel != "" {
		add("channel = $%d", f.Channel)
	}
	if f.StoryID != "" {
		add("story_id = $%d AND story_id <> ''", f.StoryID)
	}
	if f.SlackTS != "" {
		add("slack_ts = $%d AND slack_ts <> ''", f.SlackTS)
	}
	q := `SELECT ` + alertCols + ` FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, pgLimit(f.Limit))
	q += fmt.Sprintf(` ORDER BY seq DESC LIMIT $%d`, len(args))
	return s.queryAlerts(ctx, "alerts", q, args...)
}

func (s *Store) queryAlerts(ctx context.Context, what, q string, args ...any) ([]store.Alert, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres store: %s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres store: %s: %w", what, err)
	}
	return out, nil
}

// Alert returns one alert by id, or store.ErrNotFound.
func (s *Store) Alert(ctx context.Context, id string) (store.Alert, error) {
	id = store.CleanID(id)
	a, err := scanAlert(s.pool.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Alert{}, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Alert{}, fmt.Errorf("postgres store: alert %s: %w", id, err)
	}
	return a, nil
}

// PruneAlerts implements store.Store (index alerts_done). It deletes in
// batches, so that a large backlog never holds locks for long and what was
// deleted stays deleted if ctx ends.
func (s *Store) PruneAlerts(ctx context.Context, before time.Time) (int, error) {
	return s.pruneAlerts(ctx, before, store.PruneBatch)
}

func (s *Store) pruneAlerts(ctx context.Context, before time.Time, batch int) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts
			WHERE state IN ('sent', 'failed') AND done_at < $1 LIMIT $2)`, before, batch)
		if err != nil {
			return total, fmt.Errorf("postgres store: prune alerts: %w", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	owner = store.CleanText(owner, store.MaxName)
	if _, err := s.pool.Exec(ctx, `INSERT INTO heartbeats (owner, at) VALUES ($1, $2)
		ON CONFLICT (owner) DO UPDATE SET at = excluded.at`, owner, now); err != nil {
		return fmt.Errorf("postgres store: heartbeat: %w", err)
	}
	return nil
}

// StoryHeads returns the item alerts that opened a story, created at or
// after since, oldest first (index alerts_story_heads).
func (s *Store) StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error) {
	return s.queryAlerts(ctx, "story heads", `SELECT `+alertCols+` FROM alerts
		WHERE story_id = id AND kind = 'item' AND created_at >= $1 ORDER BY created_at, seq`, since)
}
