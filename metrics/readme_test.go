package metrics_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// registered returns every metric the program registers (as the daemon
// sets them up: feed health collector and /metrics handler included), with
// its variable labels, whether or not it has a sample yet.
func registered(t *testing.T) map[string][]string {
	t.Helper()
	s := metrics.New()
	s.WatchFeeds(func(context.Context) ([]store.FeedState, error) { return nil, nil }, nil)
	s.Handler()
	ch := make(chan *prometheus.Desc)
	go func() { s.Registry().Describe(ch); close(ch) }()
	re := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	out := map[string][]string{}
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read %s", d)
		}
		var labels []string
		for _, l := range strings.Split(m[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		out[m[1]] = labels
	}
	return out
}

// TestReadmeMetricsTable compares the metrics the program registers with
// the README's metrics table, in both directions, so that neither can
// drift from the other: every registered metric has a row (by name, or by a
// prefix such as go_*) that names each of its labels, and every metric the
// table names is registered.
func TestReadmeMetricsTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ names, labels string }
	var rows []row
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		// Cells are separated by | (a \| inside a cell is a pipe).
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
		if len(cells) < 6 || !regexp.MustCompile("^ `[a-z]+_[a-z_]*\\*?`").MatchString(cells[1]) {
			continue
		}
		rows = append(rows, row{cells[1], cells[3]})
	}
	named := map[string]string{}  // name -> its row's labels cell
	prefixes := map[string]bool{} // go_* and the like
	for _, r := range rows {
		for _, m := range regexp.MustCompile("`([a-z_]+)(\\*?)`").FindAllStringSubmatch(r.names, -1) {
			if m[2] == "*" {
				prefixes[m[1]] = true
			} else {
				named[m[1]] = r.labels
			}
		}
	}
	if len(named) < 20 {
		t.Fatalf("found only %d metrics in the README's table: is the table still there?", len(named))
	}
	reg := registered(t)
	var names []string
	for name := range reg {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		labels, ok := named[name]
		if !ok {
			covered := false
			for p := range prefixes {
				covered = covered || strings.HasPrefix(name, p)
			}
			if !covered || strings.HasPrefix(name, metrics.Namespace+"_") {
				t.Errorf("%s is registered but the README's metrics table does not list it", name)
			}
			continue
		}
		for _, l := range reg[name] {
			if !strings.Contains(labels, "`"+l+"`") {
				t.Errorf("the README's row for %s does not name its label %q (labels cell: %s)", name, l, labels)
			}
		}
	}
	for name := range named {
		if _, ok := reg[name]; !ok {
			t.Errorf("the README's metrics table lists %s, which the program does not register", name)
		}
	}
}
