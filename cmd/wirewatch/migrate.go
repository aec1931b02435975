package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// cmdMigrate applies the store's schema migrations and exits. With
// -from-sqlite it then copies an SQLite state file (feeds, seen items,
// the outbox with delivery states) into the configured store: the way to
// move an installation to PostgreSQL without alerting anything twice.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	from := fs.String("from-sqlite", "", "copy this SQLite state file into the configured store (stop Wirewatch first)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	l, err := loadValid(*path, stderr)
	if err != nil {
		return err
	}
	log, _ := (&logFlags{format: "text", level: "info"}).logger(stderr)
	st, err := openStore(ctx, l.cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "schema is up to date")
	if *from == "" {
		return nil
	}
	if l.cfg.Store.Postgres == "" {
		if a, err1 := filepath.Abs(*from); err1 == nil {
			if b, err2 := filepath.Abs(l.cfg.Store.Path); err2 == nil && a == b {
				return usagef("-from-sqlite %s is the configured store itself", *from)
			}
		}
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("-from-sqlite: %w", err)
	}
	src, err := sqlite.Open(*from)
	if err != nil {
		return fmt.Errorf("opening %s: %w", *from, err)
	}
	defer src.Close()
	if err := src.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating %s: %w", *from, err)
	}
	n, err := store.Copy(ctx, src, st)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d feeds, %d items, %d alerts from %s\n", n.Feeds, n.Items, n.Alerts, *from)
	if n.RuleVersions+n.Mutes+n.Feedback+n.Audit > 0 {
		fmt.Fprintf(stdout, "copied the editors' state: %d rule versions, %d mutes in force, %d not-relevant marks, %d audit entries\n", n.RuleVersions, n.Mutes, n.Feedback, n.Audit)
	}
	return nil
}
