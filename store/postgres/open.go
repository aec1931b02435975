package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wirewatch/wirewatch/store/internal/backend"
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
	d := &db{pool: pool, schema: o.schema, log: o.log}
	return &Store{Store: backend.New(d), db: d}, nil
}
