package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/store"
)

// cmdFeeds prints every configured feed's health: last success, last
// error, error streak, next due time, items in the last 24 h and how often
// the server answered 304 Not Modified.
func cmdFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("feeds", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	asJSON := fs.Bool("json", false, "print one JSON object per feed")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	l, st, err := openConfigStore(ctx, *path, stderr)
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
