package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// cmdAudit prints the store's audit log: who did what from Slack, newest
// first, one line per effect (a click delivered twice is one line).
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	since := fs.String("since", "30d", `how far back: a duration ("24h", "7d") or "0" for everything`)
	limit := fs.Int("limit", 200, "at most this many entries (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON object per entry")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	d, err := parseSince(*since)
	if err != nil {
		return usagef("%v", err)
	}
	_, st, err := openConfigStore(ctx, *path, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	f := store.AuditFilter{Limit: *limit}
	if d > 0 {
		f.Since = time.Now().Add(-d)
	}
	entries, err := st.Audit(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, a := range entries {
			if err := enc.Encode(struct {
				Time    time.Time `json:"time"`
				User    string    `json:"user"`
				Action  string    `json:"action"`
				Target  string    `json:"target"`
				Details string    `json:"details,omitempty"`
			}{a.At.UTC(), a.User, a.Action, a.Target, a.Details}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "No changes from Slack recorded in that period.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tUSER\tACTION\tTARGET\tDETAILS")
	for _, a := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.At.UTC().Format("2006-01-02 15:04:05"), oneLine(a.User, 24), oneLine(a.Action, 24), oneLine(a.Target, 60), oneLine(a.Details, 120))
	}
	return tw.Flush()
}

// parseSince reads a duration in Go's form or whole days; "0" is none.
func parseSince(s string) (time.Duration, error) {
	if s == "0" || s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == days {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("-since %q: want a duration such as 24h or 7d, or 0 for everything", s)
	}
	return d, nil
}

// oneLine shows s on one line of at most n runes, control characters and
// line breaks as spaces (feed and Slack text is hostile to terminals too).
func oneLine(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f }), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
