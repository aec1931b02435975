package story

import (
	"bufio"
	"os"
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
// pairs as the pipeline makes it: item A is alerted (added to the index),
// then item B arrives an hour later in the same channel. B grouped with A
// is a positive. Precision: of the pairs grouped, how many are the same
// story; recall: of the same-story pairs, how many are grouped.
func TestPrecisionRecall(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 80 {
		t.Fatalf("only %d labelled pairs, want at least 80", len(pairs))
	}
	at := time.Date(2025, 10, 29, 6, 0, 0, 0, time.UTC)
	type counts struct{ tp, fp, fn, tn int }
	all := counts{}
	byLang := map[string]*counts{}
	for _, p := range pairs {
		idx := New(Options{})
		idx.Add("A", "#desk", Sign(p.titleA, p.leadA), at)
		id, score, grouped := idx.Match("#desk", Sign(p.titleB, p.leadB), at.Add(time.Hour))
		if grouped && id != "A" {
			t.Fatalf("line %d: matched story %q, only A exists", p.line, id)
		}
		exact := Similarity(Sign(p.titleA, p.leadA), Sign(p.titleB, p.leadB))
		if grouped != (exact >= DefaultThreshold) {
			t.Errorf("line %d: index decision %v, exact similarity %.3f (LSH missed a candidate)", p.line, grouped, exact)
		}
		_ = score
		c := byLang[p.lang]
		if c == nil {
			c = &counts{}
			byLang[p.lang] = c
		}
		for _, k := range []*counts{&all, c} {
			switch {
			case grouped && p.same:
				k.tp++
			case grouped && !p.same:
				k.fp++
			case !grouped && p.same:
				k.fn++
			default:
				k.tn++
			}
		}
		if grouped != p.same {
			t.Logf("miss line %d (%s, same=%v, similarity %.3f): %q / %q", p.line, p.lang, p.same, exact, p.titleA, p.titleB)
		}
	}
	pr := func(c counts) (float64, float64) {
		return float64(c.tp) / float64(max(1, c.tp+c.fp)), float64(c.tp) / float64(max(1, c.tp+c.fn))
	}
	for _, lang := range []string{"en", "ur", "hi"} {
		if c := byLang[lang]; c != nil {
			p, r := pr(*c)
			t.Logf("%s: %d pairs, precision %.3f recall %.3f (tp %d fp %d fn %d tn %d)", lang, c.tp+c.fp+c.fn+c.tn, p, r, c.tp, c.fp, c.fn, c.tn)
		}
	}
	p, r := pr(all)
	t.Logf("all: %d pairs, threshold %.2f: precision %.3f recall %.3f (tp %d fp %d fn %d tn %d)", len(pairs), DefaultThreshold, p, r, all.tp, all.fp, all.fn, all.tn)
	if p < 0.9 || r < 0.9 {
		t.Errorf("precision %.3f, recall %.3f: want both at least 0.9", p, r)
	}
}
