package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store/internal/backend"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
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

// Open opens (creating if needed) the SQLite state file at path, and
// refuses a file with damaged pages (ErrDamaged). Call Migrate before
// using the store.
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
	d := &db{path: path, w: w, r: r, log: o.log,
		stmts: map[string]*sql.Stmt{}, missing: map[string]bool{},
		sync: sync, curSync: sync}
	return &Store{Store: backend.New(d), db: d}, nil
}

// ErrDamaged is wrapped by Open's error for a state file with damaged
// pages.
var ErrDamaged = errors.New("the state file is damaged")

// quickCheck runs PRAGMA quick_check (every page and b-tree, without the
// index-to-table cross checks of integrity_check; 0.74 s for a 232 MB
// file): a damaged file is refused at start, not found out item by item
// (issue 18.10: it started and logged warnings only).
func quickCheck(db *sql.DB, path string) error {
	rows, err := db.Query(`PRAGMA quick_check`)
	if err != nil {
		return fmt.Errorf("sqlite store %s: %w", path, damaged(path, err))
	}
	defer rows.Close()
	var problems []string
	err = backend.Each(rows, func() (line string, err error) { return line, rows.Scan(&line) }, func(line string) error {
		if line != "ok" {
			problems = append(problems, line)
		}
		return nil
	})
	if err != nil {
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
