package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

// dryRunAlert is one line of `once -dry-run` output.
type dryRunAlert struct {
	Rule      string    `json:"rule"`
	Channel   string    `json:"channel"`
	Feed      string    `json:"feed"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	GUID      string    `json:"guid"`
	Published time.Time `json:"published"`
	// Snippet is the text around the matched words (from the body when
	// they are there); Matched lists them as field:text, as try does.
	Snippet string   `json:"snippet"`
	Matched []string `json:"matched"`
	Digest  string   `json:"digest,omitempty"`
}

// cmdOnce polls every feed once, delivers what it queued, and exits. With
// -dry-run nothing is posted or recorded; the alerts that would be sent are
// printed as JSON lines.
func cmdOnce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("once", stderr)
	dryRun := fs.Bool("dry-run", false, "post and record nothing; print the alerts that would be sent as JSON lines")
	var cf daemonFlags
	log, l, err := cf.parse(fs, args, stderr)
	if err != nil {
		return err
	}
	cfg := l.cfg
	if *dryRun && cfg.Store.Postgres == "" {
		// Read what is already seen, but never write to the real state:
		// work on a copy (or on nothing, for a new installation).
		tmp, err := os.MkdirTemp("", "wirewatch-dry-run-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		c := *cfg
		c.Store.Path = filepath.Join(tmp, "dry-run.db")
		if err := copySQLite(ctx, cfg.Store.Path, c.Store.Path); err != nil {
			return err
		}
		cfg = &c
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	owner := notify.DefaultOwner()
	mon, err := newMonitor(l, st, log, owner, 0, nil)
	if err != nil {
		return err
	}
	if err := nameClash(ctx, st, l); err != nil {
		return err
	}
	// The rules editors keep in the store count too, and their mutes.
	live := startLive(ctx, st, l, mon.SetRules, log)
	if !*dryRun {
		if err := mon.Sync(ctx); err != nil {
			return err
		}
	}
	results := mon.PollAll(ctx, *dryRun)
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
		}
	}
	if *dryRun {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			for _, a := range r.Alerts {
				if err := enc.Encode(dryRunAlert{Rule: a.Rule, Channel: a.Channel, Feed: a.FeedName, Title: a.Title, Link: a.Link, GUID: a.GUID, Published: a.Published, Snippet: a.Snippet, Matched: a.Matched, Digest: a.Digest}); err != nil {
					return err
				}
			}
		}
	} else {
		n, err := newNotifier(cfg, st, stdout, log, owner, nil, live)
		if err != nil {
			return err
		}
		if err := n.Drain(ctx); err != nil {
			return fmt.Errorf("delivering alerts: %w", err)
		}
	}
	if failed > 0 {
		log.Warn("some feeds failed", "failed", failed, "feeds", len(results))
		if failed == len(results) {
			return fmt.Errorf("all %d feeds failed", failed)
		}
	}
	return nil
}

// copySQLite copies an SQLite state file for a dry run, as one consistent
// snapshot even while a daemon writes to it (VACUUM INTO); a missing source
// is not an error (a new installation).
func copySQLite(ctx context.Context, from, to string) error {
	if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	src, err := sqlite.Open(from, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("dry run: reading state: %w", err)
	}
	defer src.Close()
	if err := src.Backup(ctx, to); err != nil {
		return fmt.Errorf("dry run: copying state: %w", err)
	}
	return nil
}
