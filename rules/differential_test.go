package rules

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/wirewatch/wirewatch/internal/testsize"
)

// TestIndexAgreesWithReference checks the fast matcher against the
// reference evaluator on every (item, rule) pair: every item of the news
// corpus against random rules written from the corpus's own words. Both the
// decision and the spans must agree.
func TestIndexAgreesWithReference(t *testing.T) {
	docs := loadCorpus(t)
	items := make([]*Analyzed, len(docs))
	refs := make([]*refItem, len(docs))
	for i, d := range docs {
		items[i] = Analyze(d.doc)
		refs[i] = newRefItem(items[i])
	}
	n := testsize.Pick(100, 400) // random rules per seed
	if testing.Short() {
		n = 40
	}
	for _, seed := range []uint64{1, 2} {
		g := newRuleGen(seed, items)
		rs := g.rules(t, n)
		ix := NewIndex(rs)
		matched, pairs := 0, 0
		for i, a := range items {
			got := map[*Rule][]Span{}
			for _, m := range ix.Match(a) {
				got[m.Rule] = m.Spans
			}
			for _, r := range rs {
				pairs++
				want, ok := refMatch(refs[i], r)
				spans, gotOK := got[r]
				if gotOK != ok {
					t.Fatalf("item %d (%s %q), rule %q: index says %v, reference says %v", i, docs[i].file, docs[i].doc.Title, r.Query(), gotOK, ok)
				}
				single, singleOK := r.Match(a)
				if singleOK != ok {
					t.Fatalf("item %d (%s %q), rule %q: Rule.Match says %v, reference says %v", i, docs[i].file, docs[i].doc.Title, r.Query(), singleOK, ok)
				}
				if !ok {
					continue
				}
				matched++
				if !reflect.DeepEqual(spans, want) || !reflect.DeepEqual(single, want) {
					t.Fatalf("item %d (%s), rule %q: spans %v / %v, reference %v", i, docs[i].file, r.Query(), spans, single, want)
				}
				if len(want) == 0 {
					t.Fatalf("item %d, rule %q: a match without spans", i, r.Query())
				}
			}
		}
		// The comparison means something only if both outcomes are common.
		if matched < pairs/1000 || matched > pairs/2 {
			t.Fatalf("seed %d: %d of %d pairs matched; the generated rules are not a useful test", seed, matched, pairs)
		}
		t.Logf("seed %d: %d items x %d rules = %d pairs, %d matches, all agree", seed, len(items), len(rs), pairs, matched)
	}
}

// FuzzMatchAgreesWithReference compares the fast matcher and the reference
// evaluator on arbitrary rules and texts.
func FuzzMatchAgreesWithReference(f *testing.F) {
	f.Add(`strike NEAR/3 "deep into Afghanistan"`, "Islamabad would strike “deep into Afghanistan” if attacked", "Pakistan threatens strikes")
	f.Add(`cross-border -cricket`, "cross border terror", "crossborder")
	f.Add(`ATLEAST(2, talks OR negotiat*) title:Pakistan`, "talks and negotiations", "Pakistan")
	f.Add(`CASE("TED") ONEAR/2 talk*`, "TED Talks today", "ted talk")
	f.Add(`پاکستانی OR "भारत सरकार"~2`, "پاكستاني फौज भारत की सरकार", "")
	f.Add(`(a OR b) NOT c`, "a c", "b")
	f.Fuzz(func(t *testing.T, query, title, content string) {
		r, err := Compile("fuzz", query)
		if err != nil {
			return
		}
		a := Analyze(Document{Title: title, Content: content, Summary: content, Categories: []string{title, content}, Link: title})
		want, ok := refMatch(newRefItem(a), r)
		spans, gotOK := r.Match(a)
		if gotOK != ok || (ok && !reflect.DeepEqual(spans, want)) {
			t.Fatalf("rule %q: Rule.Match %v %v, reference %v %v", query, gotOK, spans, ok, want)
		}
		ms := NewIndex([]*Rule{r}).Match(a)
		if (len(ms) == 1) != ok || (ok && !reflect.DeepEqual(ms[0].Spans, want)) {
			t.Fatalf("rule %q: Index.Match %v, reference %v %v", query, ms, ok, want)
		}
		for _, s := range spans {
			if s.Start < 0 || s.End > len(a.Text(s.Field)) || s.Start >= s.End {
				t.Fatalf("span %v out of the text %q", s, a.Text(s.Field))
			}
		}
		text, marks := Snippet(a, spans, 80)
		for _, m := range marks {
			if m[0] < 0 || m[1] > len(text) || m[0] >= m[1] {
				t.Fatalf("mark %v out of snippet %q", m, text)
			}
		}
		// An Analyzer that remembers words and reuses released analyses
		// (across fuzz inputs) sees the same words and the same match.
		za := fuzzAnalyzer.Analyze(Document{Title: title, Content: content, Summary: content, Categories: []string{title, content}, Link: title})
		defer za.Release()
		for f := range za.fields {
			if got, want := za.tokens(Field(f)), a.tokens(Field(f)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: Analyzer words %+v, Analyze %+v", Field(f), got, want)
			}
		}
		if zs := NewIndex([]*Rule{r}).Match(za); !reflect.DeepEqual(zs, ms) {
			t.Fatalf("rule %q: with an Analyzer %v, without %v", query, zs, ms)
		}
	})
}

// fuzzAnalyzer is shared by the inputs of FuzzMatchAgreesWithReference, so
// that each analysis reuses memory and word forms left by earlier ones.
var fuzzAnalyzer = NewAnalyzer()

// FuzzCompile checks that the parser never panics and that every error it
// reports names the rule and points inside the query.
func FuzzCompile(f *testing.F) {
	for _, q := range []string{
		`Pakistan AND (strike OR attack) NOT cricket`,
		`"deep into Afghanistan"~3 NEAR/4 strik*`,
		`title:CASE("UN") ATLEAST(2, talks OR negotiat*)`,
		`(a OR b`, `"unclosed`, `NOT x`, `a OR NOT b`, `foo:bar`, `ab*`, `a NEAR/99 b`, `ATLEAST(0, a)`,
		`a and b OR c`, `“curly quotes” -‘x’`, `cross‑border`, `(a AND b) NEAR c`,
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r, err := Compile("fz", q)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Rule != "fz" || e.Col < 1 || e.Offset < 0 || e.Offset > len(q) || e.Msg == "" {
				t.Fatalf("bad error %+v for %q", e, q)
			}
			if want := fmt.Sprintf("rule %q: column %d: ", "fz", e.Col); e.Error()[:len(want)] != want {
				t.Fatalf("error text %q", e.Error())
			}
			return
		}
		if len(r.anchors) == 0 {
			t.Fatalf("rule %q compiled without anchors", q)
		}
		for _, w := range r.Warnings() {
			if w.Col < 1 || w.Rule != "fz" {
				t.Fatalf("bad warning %+v", w)
			}
		}
	})
}

// TestIndexAgreesWithRuleMatchAtScale checks the index's flat evaluator
// against Rule.Match (itself checked against the reference above) on the
// benchmark's items and generated rules: the same rules match, with the
// same spans. At full size (WIREWATCH_FULL=1) it checks 100,000 rules on
// every fourth item; by default 10,000 rules on every twentieth.
func TestIndexAgreesWithRuleMatchAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles 10,000 rules; run without -short")
	}
	n, step := testsize.Pick(10000, 100000), testsize.Pick(20, 4)
	rs := benchRulesN(t, n)
	ix := NewIndex(rs)
	matches := 0
	for k := 0; k < len(benchAn); k += step {
		a := benchAn[k]
		got := map[*Rule][]Span{}
		for _, m := range ix.Match(a) {
			got[m.Rule] = m.Spans
		}
		for _, r := range rs {
			want, ok := r.Match(a)
			spans, gotOK := got[r]
			if gotOK != ok || !reflect.DeepEqual(spans, want) {
				t.Fatalf("item %d, rule %q: index %v %v, Rule.Match %v %v", k, r.Query(), gotOK, spans, ok, want)
			}
			if ok {
				matches++
			}
		}
	}
	if matches == 0 {
		t.Fatal("no rule matched: the comparison means nothing")
	}
	t.Logf("%d rules, %d matches, all agree", len(rs), matches)
}
