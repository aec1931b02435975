package rules

import (
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/internal/testsize"
)

// naiveWindow is bestWindow as first written: every window scored against
// every span. bestWindow must choose the same windows, faster.
func naiveWindow(t string, fs []Span, maxRunes int) (start, end int) {
	window := func(anchor int) (int, int) {
		s := backRunes(t, anchor, maxRunes/4)
		e := fwdRunes(t, s, maxRunes)
		if e == len(t) {
			s = backRunes(t, e, maxRunes)
		}
		return s, e
	}
	if len(fs) == 0 {
		return window(0)
	}
	count := map[string]int{}
	for _, s := range fs {
		count[strings.ToLower(t[s.Start:s.End])]++
	}
	best, bestScore := 0, -1.0
	for i := 0; i < len(fs) && i < 500; i++ {
		s, e := window(fs[i].Start)
		score := 0.0
		for _, x := range fs {
			if x.Start >= s && x.End <= e {
				score += 1 / float64(count[strings.ToLower(t[x.Start:x.End])])
			}
		}
		if score > bestScore+1e-9 {
			best, bestScore = i, score
		}
	}
	start, end = window(fs[best].Start)
	if end < fs[best].End {
		end = fs[best].End
	}
	return start, end
}

// TestBestWindowAgreesWithNaive compares the snippet windows of every
// match of generated rules on the corpus with the naive scoring.
func TestBestWindowAgreesWithNaive(t *testing.T) {
	docs := loadCorpus(t)
	items := make([]*Analyzed, len(docs))
	for i, d := range docs {
		items[i] = Analyze(d.doc)
	}
	n := testsize.Pick(60, 200)
	ix := NewIndex(newRuleGen(7, items).rules(t, n))
	compared := 0
	for _, a := range items {
		for _, m := range ix.Match(a) {
			byField := map[Field][]Span{}
			for _, s := range m.Spans {
				byField[s.Field] = append(byField[s.Field], s)
			}
			for f, fs := range byField {
				fs = mergeSpans(fs)
				text := a.Text(f)
				for _, max := range []int{40, 300} {
					s1, e1 := bestWindow(text, fs, max)
					s2, e2 := naiveWindow(text, fs, max)
					if s1 != s2 || e1 != e2 {
						t.Fatalf("rule %q, field %s: window [%d,%d), naive [%d,%d)", m.Rule.Query(), f, s1, e1, s2, e2)
					}
					compared++
				}
			}
		}
	}
	if compared < 100 {
		t.Fatalf("only %d windows compared", compared)
	}
	t.Logf("%d windows agree", compared)
}
