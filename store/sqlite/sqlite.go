// Package sqlite owns the embedded implementation of store.Store: one SQLite
// file (pure Go driver modernc.org/sqlite, so CGO_ENABLED=0 builds) in WAL
// mode, written through a single connection so writes are serialised, and
// read through a small pool of read-only connections that never wait for a
// writer. Every write takes the database's write lock at BEGIN (BEGIN
// IMMEDIATE), so two processes sharing the file queue for it (busy_timeout)
// instead of failing halfway.
//
// Call Migrate after Open. Times are stored as Unix microseconds (UTC).
//
// Backups: the file is in WAL mode, so copy it with `VACUUM INTO 'backup.db'`
// (or the sqlite3 shell's `.backup`), never with cp while Wirewatch runs.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
	"github.com/wirewatch/wirewatch/store/internal/migrate"
	"github.com/wirewatch/wirewatch/store/internal/payload"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: the writer
	r    *sql.DB // read-only pool
	log  *slog.Logger

	mu      sync.Mutex
	stmts   map[string]*sql.Stmt // prepared on the writer, by query text
	missing map[string]bool      // queries to prepare once the writer is free
	unseen  *sql.Stmt            // prepared on the read pool

	sync    string // configured PRAGMA synchronous
	curSync string // the writer connection's current setting; touched only inside a write transaction
}

// syncFor is the synchronous level for a transaction: the configured one,
// or NORMAL for a non-durable transaction when FULL is configured.
func (s *Store) syncFor(durable bool) string {
	if durable || s.sync != "FULL" {
		return s.sync
	}
	return "NORMAL"
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Dumper = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

type options struct {
	busyTimeout time.Duration
	readConns   int
	synchronous string
	log         *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithBusyTimeout sets how long a write waits for another process holding
// the file's write lock before failing (default 10s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithReadConns sets the size of the read-only connection pool (default 4).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// WithSynchronous sets PRAGMA synchronous: "FULL" (the default: a committed
// poll or sent mark survives a power cut) or "NORMAL" (faster; in WAL mode
// the last commits may be lost on power loss, never on a process crash).
func WithSynchronous(mode string) Option { return func(o *options) { o.synchronous = mode } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Open opens (creating if needed) the SQLite state file at path. Call
// Migrate before using the store.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: 10 * time.Second, readConns: 4, synchronous: "FULL"}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if path == "" {
		return nil, errors.New("sqlite store: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite store: path %q: must not contain '?' or '#'", path)
	}
	switch strings.ToUpper(o.synchronous) {
	case "FULL", "NORMAL", "EXTRA", "OFF":
	default:
		return nil, fmt.Errorf("sqlite store: synchronous %q: want FULL or NORMAL", o.synchronous)
	}
	if o.readConns < 1 {
		o.readConns = 1
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(o.synchronous)+")")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, damaged(path, err))
	}
	if err := quickCheck(w, path); err != nil {
		w.Close()
		return nil, err
	}

	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busyTimeout.Milliseconds()))
	rq.Add("_pragma", "query_only(1)")
	rq.Add("_pragma", "foreign_keys(1)")
	r, err := sql.Open("sqlite", path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	sync := strings.ToUpper(o.synchronous)
	return &Store{path: path, w: w, r: r, log: o.log,
		stmts: map[string]*sql.Stmt{}, missing: map[string]bool{},
		sync: sync, curSync: sync}, nil
}

// ErrDamaged is wrapped by Open's error for a state file with damaged
// pages.
var ErrDamaged = errors.New("the state file is damaged")

// quickCheck runs PRAGMA quick_check (every page and b-tree, without the
// index-to-table cross checks of integrity_check): a damaged file is
// refused at start, not found out item by item (issue 18.10: it started
// and logged warnings only).
func quickCheck(db *sql.DB, path string) error {
	rows, err := db.Query(`PRAGMA quick_check`)
	if err != nil {
		return fmt.Errorf("sqlite store %s: %w", path, damaged(path, err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("sqlite store %s: quick_check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite store %s: %w", path, damaged(path, err))
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return fmt.Errorf("sqlite store %s: %w", path, damaged(path, errors.New("PRAGMA quick_check: "+strings.Join(problems, "; "))))
	}
	return nil
}

// damaged explains err if it says the file is damaged (SQLite's "database
// disk image is malformed" or "file is not a database"), with what to do.
func damaged(path string, err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "PRAGMA quick_check") && !strings.Contains(msg, "malformed") && !strings.Contains(msg, "not a database") {
		return err
	}
	return fmt.Errorf("%w (%s). Wirewatch will not run on it: stop every process using it, then restore the last good backup "+
		"(sqlite3 %s \"VACUUM INTO 'backup.db'\" makes one while Wirewatch runs), or keep what can still be read: "+
		"sqlite3 %s .recover | sqlite3 recovered.db, and point [store] path at recovered.db", ErrDamaged, msg, path, path)
}

// Close closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	var errs []error
	for q, st := range s.stmts {
		errs = append(errs, st.Close())
		delete(s.stmts, q)
	}
	if s.unseen != nil {
		errs = append(errs, s.unseen.Close())
		s.unseen = nil
	}
	s.mu.Unlock()
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// wtx is a write transaction whose statements are prepared once per store:
// parsing SQL costs more than running it with modernc.org/sqlite.
type wtx struct {
	*sql.Tx
	s *Store
}

func (t *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	t.s.mu.Lock()
	ps := t.s.stmts[q]
	if ps == nil {
		t.s.missing[q] = true
	}
	t.s.mu.Unlock()
	if ps != nil {
		return t.Tx.StmtContext(ctx, ps), nil
	}
	// The writer's one connection is this transaction's: prepare within
	// it now, and on the writer (for next time) once it is free.
	return t.Tx.PrepareContext(ctx, q)
}

func (t *wtx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) { return t.stmt(ctx, q) }

func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.Tx.QueryRowContext(ctx, q, args...) // carries the error
	}
	return st.QueryRowContext(ctx, args...)
}

// prepareMissing prepares on the writer the statements transactions
// asked for. It runs outside any transaction (the writer has one
// connection); a statement that fails to prepare is simply tried again.
//
// s.mu is never held while waiting for the writer connection: a
// transaction holding the connection takes s.mu in stmt, so holding both
// the other way round would deadlock.
func (s *Store) prepareMissing(ctx context.Context) {
	s.mu.Lock()
	var todo []string
	for q := range s.missing {
		delete(s.missing, q)
		if s.stmts[q] == nil {
			todo = append(todo, q)
		}
	}
	s.mu.Unlock()
	for _, q := range todo {
		st, err := s.w.PrepareContext(context.WithoutCancel(ctx), q)
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.stmts[q] == nil {
			s.stmts[q] = st
		} else {
			st.Close()
		}
		s.mu.Unlock()
	}
}

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// --- time and bool encoding ---

func tm(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func ft(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *Store) tx(ctx context.Context, what string, fn func(tx *wtx) error) error {
	return s.txSync(ctx, what, true, fn)
}

// txSync is tx with a choice of durability. A transaction that only
// records what a later poll would record again (a feed's state after a 304
// or an unchanged document) need not wait for the disk: with durable
// false and synchronous=FULL configured, it commits with
// synchronous=NORMAL. WAL frames are appended in order and the next FULL
// commit syncs the whole log, so a relaxed commit is lost only together
// with everything after the last durable one, and only on a power cut,
// never on a process crash. At worst a feed is polled again.
func (s *Store) txSync(ctx context.Context, what string, durable bool, fn func(tx *wtx) error) error {
	defer s.prepareMissing(ctx)
	conn, err := s.w.Conn(ctx) // the one writer connection, ours until Close
	if err != nil {
		return fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	defer conn.Close()
	if want := s.syncFor(durable); want != s.curSync {
		// SQLite allows this only outside a transaction.
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = "+want); err != nil {
			return fmt.Errorf("sqlite store: %s: synchronous: %w", what, err)
		}
		s.curSync = want
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite store: %s: begin: %w", what, err)
	}
	tx := &wtx{Tx: sqlTx, s: s}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite store: %s: commit: %w", what, err)
	}
	return nil
}

// --- migrations ---

// Migrate applies every migration not yet recorded in schema_migrations,
// each in its own write transaction, so processes sharing the file apply
// each migration once. It refuses a database whose schema is newer than
// this binary.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, 0) }

// migrateTo applies the migrations up to version target (0: all of them).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	ms, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite store: migrate: %w", err)
	}
	for _, m := range ms {
		if target > 0 && m.Version > target {
			break
		}
		err := s.tx(ctx, "migrate", func(tx *wtx) error {
			var cur sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if int(cur.Int64) > len(ms) {
				return fmt.Errorf("database schema version %d is newer than this binary's %d", cur.Int64, len(ms))
			}
			if int(cur.Int64) >= m.Version {
				return nil
			}
			if _, err := tx.Tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro()); err != nil {
				return err
			}
			s.log.Info("store migrated", "backend", "sqlite", "path", s.path, "version", m.Version, "migration", m.Name)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// --- feeds ---

const feedCols = `key, url, config_url, etag, last_modified, next_due, last_poll, last_success,
	last_error, error_streak, failing_since, health_alerted, initialized, polls, not_modified`

// leaseCols follow feedCols where a read shows who polls the feed.
const leaseCols = `lease_owner, lease_until`

type scanner interface{ Scan(...any) error }

func scanFeed(sc scanner, extra ...any) (store.FeedState, error) {
	var f store.FeedState
	var nextDue, lastPoll, lastSuccess, failingSince, health, init int64
	dst := []any{&f.Key, &f.URL, &f.ConfigURL, &f.ETag, &f.LastModified, &nextDue, &lastPoll, &lastSuccess,
		&f.LastError, &f.ErrorStreak, &failingSince, &health, &init, &f.Polls, &f.NotModified}
	if err := sc.Scan(append(dst, extra...)...); err != nil {
		return f, err
	}
	f.NextDue, f.LastPoll, f.LastSuccess, f.FailingSince = ft(nextDue), ft(lastPoll), ft(lastSuccess), ft(failingSince)
	f.HealthAlerted, f.Initialized = health != 0, init != 0
	return f, nil
}

// scanFeedLease scans feedCols, leaseCols, then extra.
func scanFeedLease(sc scanner, extra ...any) (store.FeedState, error) {
	var owner string
	var until int64
	f, err := scanFeed(sc, append([]any{&owner, &until}, extra...)...)
	f.LeaseOwner, f.LeaseUntil = owner, ft(until)
	return f, err
}

// SyncFeeds makes the set of configured feeds match feeds.
func (s *Store) SyncFeeds(ctx context.Context, feeds []store.FeedDef) error {
	feeds = store.CleanFeedDefs(feeds)
	return s.tx(ctx, "sync feeds", func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE feeds SET configured = 0`); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO feeds (key, url, config_url, configured, next_due)
			VALUES (?1, ?2, ?2, 1, ?3)
			ON CONFLICT (key) DO UPDATE SET configured = 1,
				url = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.url ELSE excluded.url END,
				etag = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.etag ELSE '' END,
				last_modified = CASE WHEN feeds.config_url = excluded.config_url THEN feeds.last_modified ELSE '' END,
				config_url = excluded.config_url`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, d := range feeds {
			if d.Key == "" {
				return fmt.Errorf("feed with URL %q has an empty key", d.URL)
			}
			if _, err := st.ExecContext(ctx, d.Key, d.URL, tm(d.Due)); err != nil {
				return fmt.Errorf("feed %q: %w", d.Key, err)
			}
		}
		return nil
	})
}

const itemsLast24h = `(SELECT count(*) FROM items i WHERE i.feed_key = feeds.key
	AND i.first_seen > feeds.last_poll - 86400000000 AND i.first_seen <= feeds.last_poll AND feeds.last_poll > 0)`

// Feed returns one feed's state (configured or not), or store.ErrNotFound.
func (s *Store) Feed(ctx context.Context, key string) (store.FeedState, error) {
	key = store.CleanID(key)
	row := s.r.QueryRowContext(ctx, `SELECT `+feedCols+`, `+leaseCols+`, `+itemsLast24h+` FROM feeds WHERE key = ?`, key)
	var n int
	f, err := scanFeedLease(row, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("feed %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("sqlite store: feed %q: %w", key, err)
	}
	f.ItemsLast24h = n
	return f, nil
}

// Feeds returns every configured feed, ordered by key, with ItemsLast24h.
func (s *Store) Feeds(ctx context.Context) ([]store.FeedState, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+feedCols+`, `+leaseCols+`, `+itemsLast24h+` FROM feeds WHERE configured = 1 ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: feeds: %w", err)
	}
	defer rows.Close()
	var out []store.FeedState
	for rows.Next() {
		var n int
		f, err := scanFeedLease(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: feeds: %w", err)
		}
		f.ItemsLast24h = n
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: feeds: %w", err)
	}
	return out, nil
}

func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1 // SQLite: no limit
	}
	return limit
}

// ClaimDueFeeds leases up to limit due, unleased, configured feeds (limit <= 0:
// all of them), earliest due first.
func (s *Store) ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.FeedState, error) {
	owner = store.CleanText(owner, store.MaxName)
	if owner == "" {
		return nil, errors.New("sqlite store: claim due feeds: empty owner")
	}
	var out []store.FeedState
	err := s.tx(ctx, "claim due feeds", func(tx *wtx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE feeds SET lease_owner = ?1, lease_until = ?2
			WHERE key IN (SELECT key FROM feeds WHERE configured = 1 AND next_due <= ?3
				AND (lease_owner = '' OR lease_until <= ?3) ORDER BY next_due, key LIMIT ?4)
			RETURNING `+feedCols+`, `+leaseCols, owner, tm(now.Add(lease)), tm(now), sqlLimit(limit))
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
		return errors.New("sqlite store: extend feed lease: empty owner")
	}
	// Losing the extension in a power cut costs nothing: the process that
	// held it is gone too.
	return s.txSync(ctx, "extend lease of feed "+key, false, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE feeds SET lease_until = ?3 WHERE key = ?1 AND lease_owner = ?2`,
			key, owner, tm(now.Add(lease)))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM feeds WHERE key = ?`, key).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("feed %q: %w", key, store.ErrNotFound)
		}
		return fmt.Errorf("feed %q: %w", key, store.ErrLeaseLost)
	})
}

// --- items ---

// UnseenItems returns the ids not yet recorded for the feed, in input order.
func (s *Store) UnseenItems(ctx context.Context, feedKey string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	feedKey, clean := store.CleanID(feedKey), store.CleanIDs(ids)
	st, err := s.unseenStmt(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: unseen items of %q: %w", feedKey, err)
	}
	list, err := json.Marshal(clean)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: unseen items of %q: %w", feedKey, err)
	}
	rows, err := st.QueryContext(ctx, feedKey, string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: unseen items of %q: %w", feedKey, err)
	}
	defer rows.Close()
	var idx []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("sqlite store: unseen items of %q: %w", feedKey, err)
		}
		idx = append(idx, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: unseen items of %q: %w", feedKey, err)
	}
	return backend.Unseen(ids, clean, idx), nil
}

// unseenSQL returns the positions in the JSON array ?2 of the ids not
// recorded for feed ?1: one lookup in the primary key per id, and only
// the unseen come back (usually none). As the inner loop of a join the
// list made SQLite walk the feed's items and scan the list for each:
// quadratic in the feed's size (issue 18.1).
const unseenSQL = `SELECT j.key FROM json_each(?2) AS j
	WHERE NOT EXISTS (SELECT 1 FROM items AS i WHERE i.feed_key = ?1 AND i.item_id = j.value)
	ORDER BY j.key`

func (s *Store) unseenStmt(ctx context.Context) (*sql.Stmt, error) {
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

// CommitPoll records one poll in one transaction; see store.Store.
func (s *Store) CommitPoll(ctx context.Context, p store.Poll) (int, error) {
	p = store.CleanPoll(p)
	f := p.Feed
	if f.Key == "" {
		return 0, errors.New("sqlite store: commit poll: empty feed key")
	}
	queued := 0
	durable := len(p.Items) > 0 || len(p.Alerts) > 0
	err := s.txSync(ctx, "commit poll of "+f.Key, durable, func(tx *wtx) error {
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
			st, err := tx.PrepareContext(ctx, `INSERT INTO items (feed_key, item_id, title, link, published, first_seen)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
			if err != nil {
				return err
			}
			defer st.Close()
			for _, it := range p.Items {
				if it.FeedKey != "" && it.FeedKey != f.Key {
					return fmt.Errorf("item %q belongs to feed %q, not %q", it.ID, it.FeedKey, f.Key)
				}
				seen := it.FirstSeen
				if seen.IsZero() {
					seen = f.LastPoll
				}
				if _, err := st.ExecContext(ctx, f.Key, it.ID, it.Title, it.Link, tm(it.Published), tm(seen)); err != nil {
					return fmt.Errorf("item %q: %w", it.ID, err)
				}
			}
		}
		if !p.ForgetBefore.IsZero() {
			if err := forgetItems(ctx, tx, f.Key, p.ForgetBefore, p.Present); err != nil {
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

// --- outbox ---

const alertCols = `id, kind, channel, digest, state, created_at, next_attempt, attempts, last_error,
	uncertain, slack_ts, done_at, story_id, payload`

func scanAlert(sc scanner) (store.Alert, error) {
	var a store.Alert
	var created, next, uncertain, done int64
	var pl []byte
	if err := sc.Scan(&a.ID, &a.Kind, &a.Channel, &a.Digest, &a.State, &created, &next, &a.Attempts,
		&a.LastError, &uncertain, &a.SlackTS, &done, &a.StoryID, &pl); err != nil {
		return a, err
	}
	a.CreatedAt, a.NextAttempt, a.Uncertain = ft(created), ft(next), uncertain != 0
	switch a.State {
	case store.StateSent:
		a.SentAt = ft(done)
	case store.StateFailed:
		a.FailedAt = ft(done)
	}
	return a, payload.Decode(pl, &a)
}

// insertAlerts inserts alerts not yet present (by id) and makes sure their
// channels have a row. Unless keepState, every alert starts "queued" with no
// attempts; with keepState (Load) the delivery state is kept, except that
// "sending" becomes "queued" and uncertain.
func insertAlerts(ctx context.Context, tx *wtx, alerts []store.Alert, keepState bool) (int, error) {
	if len(alerts) == 0 {
		return 0, nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts (id, kind, channel, digest, state, created_at, next_attempt,
			attempts, last_error, uncertain, slack_ts, done_at, story_id, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	ch, err := tx.PrepareContext(ctx, `INSERT INTO channels (channel) VALUES (?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	n := 0
	channels := map[string]bool{}
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
		res, err := st.ExecContext(ctx, a.ID, a.Kind, a.Channel, a.Digest, state, tm(a.CreatedAt), tm(a.NextAttempt),
			attempts, lastErr, b2i(uncertain), ts, tm(done), a.StoryID, pl)
		if err != nil {
			return 0, fmt.Errorf("alert %s: %w", a.ID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += int(k)
		if !channels[a.Channel] {
			channels[a.Channel] = true
			if _, err := ch.ExecContext(ctx, a.Channel); err != nil {
				return 0, fmt.Errorf("channel %q: %w", a.Channel, err)
			}
		}
	}
	return n, nil
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

// Enqueue queues alerts outside a poll; duplicates by id are skipped.
func (s *Store) Enqueue(ctx context.Context, alerts []store.Alert) (int, error) {
	alerts = store.CleanAlerts(alerts)
	var n int
	err := s.tx(ctx, "enqueue", func(tx *wtx) error {
		var err error
		n, err = insertAlerts(ctx, tx, alerts, false)
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
		RETURNING seq, ` + alertCols
)

// ClaimChannel leases the claimable channel whose oldest claimable alert is
// oldest and returns its claimable alerts in order (limit <= 0: all).
func (s *Store) ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (string, []store.Alert, error) {
	owner = store.CleanText(owner, store.MaxName)
	if owner == "" {
		return "", nil, errors.New("sqlite store: claim channel: empty owner")
	}
	var channel string
	var alerts []store.Alert
	err := s.tx(ctx, "claim channel", func(tx *wtx) error {
		err := tx.QueryRowContext(ctx, pickChannelSQL, tm(now)).Scan(&channel)
		if errors.Is(err, sql.ErrNoRows) {
			channel = ""
			return nil
		}
		if err != nil {
			return err
		}
		until := tm(now.Add(lease))
		rows, err := tx.QueryContext(ctx, claimAlertsSQL, tm(now), channel, owner, until, sqlLimit(limit))
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
			a, err := scanAlert(seqScanner{rows, &sa.seq})
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
		_, err = tx.ExecContext(ctx, `UPDATE channels SET lease_owner = ?, lease_until = ? WHERE channel = ?`, owner, until, channel)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return channel, alerts, nil
}

// seqScanner scans a leading seq column, then the alert columns.
type seqScanner struct {
	rows *sql.Rows
	seq  *int64
}

func (s seqScanner) Scan(dst ...any) error {
	return s.rows.Scan(append([]any{s.seq}, dst...)...)
}

// MarkSent records Slack's acceptance. Marking a sent alert again changes
// nothing; marking a failed one sent records the truth (it was sent).
func (s *Store) MarkSent(ctx context.Context, id string, ts string, now time.Time) error {
	id, ts = store.CleanID(id), store.CleanText(ts, store.MaxName)
	return s.tx(ctx, "mark sent "+id, func(tx *wtx) error {
		return finish(ctx, tx, id, `UPDATE alerts SET state = 'sent', slack_ts = ?2, done_at = ?3, attempts = attempts + 1,
			uncertain = 0, lease_owner = '', lease_until = 0 WHERE id = ?1 AND state <> 'sent'`, ts, tm(now))
	})
}

// Retry puts a pending alert back to "queued" for next; a sent or failed
// alert is left as it is.
func (s *Store) Retry(ctx context.Context, id string, next time.Time, lastErr string, uncertain bool) error {
	id, lastErr = store.CleanID(id), store.CleanText(lastErr, store.MaxText)
	return s.tx(ctx, "retry "+id, func(tx *wtx) error {
		return finish(ctx, tx, id, `UPDATE alerts SET state = 'queued', next_attempt = ?2, last_error = ?3, uncertain = ?4,
			attempts = attempts + 1, lease_owner = '', lease_until = 0
			WHERE id = ?1 AND state IN ('queued', 'sending')`, tm(next), lastErr, b2i(uncertain))
	})
}

// MarkFailed gives up on a pending alert; a sent alert stays sent.
func (s *Store) MarkFailed(ctx context.Context, id string, reason string, now time.Time) error {
	id, reason = store.CleanID(id), store.CleanText(reason, store.MaxText)
	return s.tx(ctx, "mark failed "+id, func(tx *wtx) error {
		return finish(ctx, tx, id, `UPDATE alerts SET state = 'failed', last_error = ?2, done_at = ?3,
			attempts = attempts + 1, lease_owner = '', lease_until = 0
			WHERE id = ?1 AND state IN ('queued', 'sending')`, reason, tm(now))
	})
}

// finish runs an update of alert id; if it changed nothing, the alert must
// exist (else ErrNotFound) and was in a state the update leaves alone.
func finish(ctx context.Context, tx *wtx, id, q string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	return err
}

// ReleaseChannel ends owner's lease on channel and sets its pacing. If the
// lease has passed to another owner meanwhile, that lease stays and the
// pacing only moves later.
func (s *Store) ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error {
	channel, owner = store.CleanText(channel, store.MaxName), store.CleanText(owner, store.MaxName)
	return s.tx(ctx, "release channel "+channel, func(tx *wtx) error {
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

// RecordPost implements store.Store.
func (s *Store) RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error {
	channel = store.CleanText(channel, store.MaxName)
	// Losing the row in a power cut only lets one more message through.
	return s.txSync(ctx, "record post to "+channel, false, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM channel_posts WHERE channel = ? AND at < ?`, channel, tm(forgetBefore)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_posts (channel, at) VALUES (?, ?)`, channel, tm(at))
		return err
	})
}

// Posts implements store.Store.
func (s *Store) Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error) {
	channel = store.CleanText(channel, store.MaxName)
	rows, err := s.r.QueryContext(ctx, `SELECT at FROM channel_posts WHERE channel = ? AND at >= ? ORDER BY at`, channel, tm(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: posts to %s: %w", channel, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("sqlite store: posts to %s: %w", channel, err)
		}
		out = append(out, ft(v))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: posts to %s: %w", channel, err)
	}
	return out, nil
}

// Alerts lists alerts, newest first. The query names only the filters
// used, so each shape gets its own plan (and index).
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	f = store.CleanFilter(f)
	var where []string
	var args []any
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, f.Channel)
	}
	if f.StoryID != "" {
		// The literal term lets SQLite use the partial index alerts_story.
		where, args = append(where, "story_id = ? AND story_id <> ''"), append(args, f.StoryID)
	}
	if f.SlackTS != "" {
		where, args = append(where, "slack_ts = ? AND slack_ts <> ''"), append(args, f.SlackTS)
	}
	q := `SELECT ` + alertCols + ` FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	return s.queryAlerts(ctx, "alerts", q, append(args, sqlLimit(f.Limit))...)
}

func (s *Store) queryAlerts(ctx context.Context, what, q string, args ...any) ([]store.Alert, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: %s: %w", what, err)
	}
	return out, nil
}

// Alert returns one alert by id, or store.ErrNotFound.
func (s *Store) Alert(ctx context.Context, id string) (store.Alert, error) {
	id = store.CleanID(id)
	a, err := scanAlert(s.r.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Alert{}, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Alert{}, fmt.Errorf("sqlite store: alert %s: %w", id, err)
	}
	return a, nil
}

// StoryHeads returns the item alerts that opened a story, created at or
// after since, oldest first (index alerts_story_heads).
func (s *Store) StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error) {
	return s.queryAlerts(ctx, "story heads", `SELECT `+alertCols+` FROM alerts
		WHERE story_id = id AND kind = 'item' AND created_at >= ? ORDER BY created_at, seq`, tm(since))
}

// PruneAlerts implements store.Store (index alerts_done). It deletes in
// batches, each its own transaction, so that a large backlog never holds
// the writer for long and what was deleted stays deleted if ctx ends.
func (s *Store) PruneAlerts(ctx context.Context, before time.Time) (int, error) {
	return s.pruneAlerts(ctx, before, store.PruneBatch)
}

func (s *Store) pruneAlerts(ctx context.Context, before time.Time, batch int) (int, error) {
	total := 0
	for {
		var n int64
		// Deleting is redone by the next prune if a power cut loses it.
		err := s.txSync(ctx, "prune alerts", false, func(tx *wtx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts
				WHERE state IN ('sent', 'failed') AND done_at < ? LIMIT ?)`, tm(before), batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}

// Heartbeat implements store.Store. It need not reach the disk (a power
// cut loses nothing worth keeping), but it must be written to the WAL, so
// it fails like any write on a full disk or a read-only file.
func (s *Store) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	owner = store.CleanText(owner, store.MaxName)
	return s.txSync(ctx, "heartbeat", false, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO heartbeats (owner, at) VALUES (?, ?)
			ON CONFLICT (owner) DO UPDATE SET at = excluded.at`, owner, tm(now))
		return err
	})
}

// Backup writes a consistent copy of the whole database to a new file at
// path (VACUUM INTO), safe while Wirewatch runs: it reads one snapshot and
// does not block writers. The file at path must not exist.
func (s *Store) Backup(ctx context.Context, path string) error {
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	defer conn.Close()
	// Read connections are query_only, which also forbids VACUUM INTO.
	if _, err := conn.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	_, err = conn.ExecContext(ctx, `VACUUM INTO ?`, path)
	if _, err2 := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA query_only = 1`); err2 != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse it writable
	}
	if err != nil {
		return fmt.Errorf("sqlite store: backup to %s: %w", path, err)
	}
	return nil
}
