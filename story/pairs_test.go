package story

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pair is one labelled pair of items from testdata/pairs.tsv.
type pair struct {
	same          bool
	lang          string
	titleA, leadA string
	titleB, leadB string
	line          int
}

func loadPairs(t testing.TB) []pair {
	t.Helper()
	f, err := os.Open("testdata/pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pair
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 6 || (c[0] != "same" && c[0] != "different") {
			t.Fatalf("pairs.tsv line %d: want label, lang and four texts, got %d fields", line, len(c))
		}
		out = append(out, pair{c[0] == "same", c[1], c[2], c[3], c[4], c[5], line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPrecisionRecall measures the grouping decision on the labelled
// pairs as the pipeline makes it: every pair's item A is alerted (added to
// one index, each pair in its own channel, so the document frequencies come
// from all of them), then item B arrives an hour later in A's channel. B
// grouped with A is a positive. Precision: of the pairs grouped, how many
// are the same story; recall: of the same-story pairs, how many are
// grouped.
func TestPrecisionRecall(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 80 {
		t.Fatalf("only %d labelled pairs, want at least 80", len(pairs))
	}
	at := time.Date(2025, 10, 29, 6, 0, 0, 0, time.UTC)
	idx := New(Options{})
	ch := func(i int) string { return "#" + strconv.Itoa(i) }
	for i, p := range pairs {
		idx.Add("A", ch(i), Sign(p.titleA, p.leadA), at)
	}
	all := prf{}
	byLang := map[string]*prf{}
	for i, p := range pairs {
		id, score, grouped := idx.Match(ch(i), Sign(p.titleB, p.leadB), at.Add(time.Hour))
		if grouped && id != "A" {
			t.Fatalf("line %d: matched story %q, only A exists", p.line, id)
		}
		c := byLang[p.lang]
		if c == nil {
			c = &prf{}
			byLang[p.lang] = c
		}
		c.add(grouped, p.same)
		all.add(grouped, p.same)
		if grouped != p.same {
			t.Logf("miss line %d (%s, same=%v, score %.3f): %q / %q", p.line, p.lang, p.same, score, p.titleA, p.titleB)
		}
	}
	for _, lang := range []string{"en", "ur", "hi"} {
		if c := byLang[lang]; c != nil {
			t.Logf("%s: %d pairs, precision %.3f recall %.3f (tp %d fp %d fn %d tn %d)", lang, c.tp+c.fp+c.fn+c.tn, c.p(), c.r(), c.tp, c.fp, c.fn, c.tn)
		}
	}
	t.Logf("all: %d pairs, threshold %.2f: precision %.3f recall %.3f (tp %d fp %d fn %d tn %d)", len(pairs), DefaultThreshold, all.p(), all.r(), all.tp, all.fp, all.fn, all.tn)
	// Where the Jaccard method of version 1 stood on this set.
	if all.p() < 0.913 || all.r() < 0.933 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.913 and 0.933", all.p(), all.r())
	}
}
