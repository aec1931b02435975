package rules

import (
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/internal/testsize"
)

// TestRequiresHoldsForEveryMatch checks that Requires is safe to skip items
// with: whenever a rule matches a corpus item, every clause it returns has
// a term among the item's words, stems or word starts (all fields).
func TestRequiresHoldsForEveryMatch(t *testing.T) {
	docs := loadCorpus(t)
	items := make([]*Analyzed, len(docs))
	for i, d := range docs {
		items[i] = Analyze(d.doc)
	}
	n := testsize.Pick(80, 300)
	extra := []string{
		`CASE("TED") talk`, `"peace talks"~3 Pakistan`, `negotiat* NEAR/8 (fail* OR collapse)`,
		`ATLEAST(2, Taliban OR Kabul)`, `title:(Pakistan OR India) -cricket`, `cross-border strike`,
	}
	for _, seed := range []uint64{3, 4} {
		rs := newRuleGen(seed, items).rules(t, n)
		for i, q := range extra {
			r, err := Compile("extra"+string(rune('a'+i)), q)
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		ix := NewIndex(rs)
		matched, skippable := 0, 0
		for i, a := range items {
			words, stems := map[string]bool{}, map[string]bool{}
			for f := FieldTitle; f <= FieldLink; f++ {
				for _, w := range a.Words(f) {
					words[w] = true
				}
				for _, s := range a.Stems(f) {
					stems[s] = true
				}
			}
			has := func(tm Term) bool {
				switch tm.Kind {
				case TermWord:
					return words[tm.Form]
				case TermStem:
					return stems[tm.Form]
				}
				for w := range words {
					if strings.HasPrefix(w, tm.Form) {
						return true
					}
				}
				return false
			}
			got := map[*Rule]bool{}
			for _, m := range ix.Match(a) {
				got[m.Rule] = true
			}
			for _, r := range rs {
				ok := true
				for _, c := range r.Requires() {
					if len(c) == 0 {
						t.Fatalf("rule %q: an empty clause", r.Query())
					}
					any := false
					for _, tm := range c {
						any = any || has(tm)
					}
					ok = ok && any
				}
				if got[r] {
					matched++
					if !ok {
						t.Fatalf("item %d (%s %q) matches rule %q, but not its Requires %v", i, docs[i].file, docs[i].doc.Title, r.Query(), r.Requires())
					}
				} else if !ok {
					skippable++
				}
			}
		}
		if matched == 0 || skippable == 0 {
			t.Fatalf("seed %d: %d matches, %d pairs skippable: not a useful test", seed, matched, skippable)
		}
		t.Logf("seed %d: %d matches all satisfy Requires; %d of %d non-matching pairs are ruled out by it", seed, matched, skippable, len(items)*len(rs)-matched)
	}
}

func TestRequiresKinds(t *testing.T) {
	r, err := Compile("k", `"strikes" AND negotiat* AND talks`)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[TermKind]string{}
	for _, c := range r.Requires() {
		for _, tm := range c {
			kinds[tm.Kind] = tm.Form
		}
	}
	if kinds[TermWord] != "strikes" || kinds[TermPrefix] != "negotiat" || kinds[TermStem] != "talk" {
		t.Fatalf("Requires gave %v", r.Requires())
	}
}
