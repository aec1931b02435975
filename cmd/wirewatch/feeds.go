package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// cmdFeeds prints every configured feed's health: last success, last
// error, error streak, next due time, items in the last 24 h and how often
// the server answered 304 Not Modified.
func cmdFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("feeds", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	asJSON := fs.Bool("json", false, "print one JSON object per feed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := mustLoad(*path, stderr)
	if err != nil {
		return err
	}
	log, _ := (&logFlags{format: "text", level: "warn"}).logger(stderr)
	st, err := openStore(ctx, l.cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	states, err := st.Feeds(ctx)
	if err != nil {
		return err
	}
	byKey := map[string]store.FeedState{}
	for _, s := range states {
		byKey[s.Key] = s
	}
	type row struct {
		Name         string    `json:"name"`
		URL          string    `json:"url"`
		LastSuccess  time.Time `json:"last_success"`
		LastError    string    `json:"last_error"`
		ErrorStreak  int       `json:"error_streak"`
		NextDue      time.Time `json:"next_due"`
		ItemsLast24h int       `json:"items_last_24h"`
		Polls        int64     `json:"polls"`
		NotModified  int64     `json:"not_modified"`
	}
	var rows []row
	for _, f := range l.feeds {
		s := byKey[f.Key]
		url := s.URL
		if url == "" {
			url = f.URL
		}
		rows = append(rows, row{f.Name, redact.URL(url), s.LastSuccess, redact.Text(s.LastError), s.ErrorStreak, s.NextDue, s.ItemsLast24h, s.Polls, s.NotModified})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tLAST SUCCESS\tSTREAK\tNEXT DUE\tITEMS 24H\t304 RATIO\tLAST ERROR")
	now := time.Now()
	for _, r := range rows {
		ratio := "-"
		if r.Polls > 0 {
			ratio = fmt.Sprintf("%d/%d", r.NotModified, r.Polls)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\n", r.Name, ago(now, r.LastSuccess), r.ErrorStreak, until(now, r.NextDue), r.ItemsLast24h, ratio, truncate(r.LastError, 80))
	}
	return tw.Flush()
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func until(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !t.After(now) {
		return "now"
	}
	return "in " + t.Sub(now).Round(time.Second).String()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cmdMigrate applies the store's schema migrations and exits. With
// -from-sqlite it then copies an SQLite state file (feeds, seen items,
// the outbox with delivery states) into the configured store: the way to
// move an installation to PostgreSQL without alerting anything twice.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	from := fs.String("from-sqlite", "", "copy this SQLite state file into the configured store (stop Wirewatch first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := mustLoad(*path, stderr)
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
				return fmt.Errorf("-from-sqlite %s is the configured store itself", *from)
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
	return nil
}
