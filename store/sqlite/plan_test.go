package sqlite

import (
	"path/filepath"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/backend"
	"strings"
	"testing"
	"time"
)

// The queries on a poll's and a claim's path read through indexes, never
// a whole table nor a whole feed or backlog once per row: SQLite's plan
// for each names an index for every table it reads. (Issues 18.1, 18.2:
// the plans were quadratic in the feed's items and the channel's
// backlog.)
func TestHotQueriesUseIndexes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMicro()
	for _, q := range []struct {
		name, sql string
		args      []any
		// want: each must appear in the plan.
		want []string
	}{
		{"unseen items", unseenSQL, []any{"f", `["a","b"]`}, []string{"SEARCH i USING PRIMARY KEY (feed_key=? AND item_id=?)"}},
		{"pick channel", pickChannelSQL, []any{now}, []string{"alerts_pending (channel=?)", "alerts_pending_digest (channel=? AND next_attempt<?)"}},
		{"claim alerts", claimAlertsSQL, []any{now, "#c", "o", now, 200}, []string{"alerts_pending (channel=?)", "alerts_pending_digest (channel=? AND next_attempt<?)"}},
		{"item texts", itemTextsSQL, []any{now, now}, []string{"USING INTEGER PRIMARY KEY (rowid>?)", "item_texts_seen (seen_at>?)"}},
		{"alerts of an item", alertsOfItemSQL(), []any{"f", "i"}, []string{"USING INDEX alerts_item (<expr>=? AND <expr>=?)"}},
	} {
		rows, err := s.db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.sql, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", q.name, text)
		for _, w := range q.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: plan lacks %q:\n%s", q.name, w, text)
			}
		}
		for _, line := range plan {
			// "SCAN c" (the channels: one row each) and the scans of
			// json_each and of small materialised results are fine.
			if f := strings.Fields(line); len(f) > 1 && f[0] == "SCAN" && strings.Contains(" alerts items a b i ", " "+f[1]+" ") {
				t.Errorf("%s: scans a table: %q in\n%s", q.name, line, text)
			}
		}
	}
}

// alertsOfItemSQL is the listing explain runs: the alerts of one item.
func alertsOfItemSQL() string {
	where, _ := backend.AlertWhere(store.AlertFilter{FeedKey: "f", ItemID: "i"}, func(int) string { return "?" }, payloadField)
	return `SELECT ` + backend.AlertCols + ` FROM alerts` + where + ` ORDER BY seq DESC`
}
