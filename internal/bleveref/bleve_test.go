package bleveref

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/rules"
)

// defaultScope is where a rule looks when it names no field.
var defaultScope = []rules.Field{rules.FieldTitle, rules.FieldSummary, rules.FieldContent}

// term makes a word form safe for Bleve's whitespace tokenizer.
func term(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '\uE000'
		}
		return r
	}, s)
}

// fieldName is the Bleve field holding one form of an item's field.
func fieldName(f rules.Field, m form) string {
	return f.String() + "_" + [...]string{"stem", "exact", "cased"}[m]
}

// forms analyses text as rules does and returns its words in form m.
func forms(text string, m form) []string {
	a := rules.Analyze(rules.Document{Title: text})
	switch m {
	case stem:
		return a.Stems(rules.FieldTitle)
	case exact:
		return a.Words(rules.FieldTitle)
	}
	return a.CasedWords(rules.FieldTitle)
}

// document is an item as Bleve indexes it: every field in every form, the
// words joined by spaces.
func document(a *rules.Analyzed) map[string]any {
	doc := map[string]any{}
	for _, f := range genFields {
		for m, words := range [][]string{a.Stems(f), a.Words(f), a.CasedWords(f)} {
			ws := make([]string, len(words))
			for i, w := range words {
				ws[i] = term(w)
			}
			doc[fieldName(f, form(m))] = strings.Join(ws, " ")
		}
	}
	return doc
}

// sequence matches the words in a row, in form m, in any field in scope.
func sequence(words []string, m form, in []rules.Field) []query.Query {
	var qs []query.Query
	for _, f := range in {
		if len(words) == 1 {
			q := bleve.NewTermQuery(term(words[0]))
			q.SetField(fieldName(f, m))
			qs = append(qs, q)
			continue
		}
		ts := make([]string, len(words))
		for i, w := range words {
			ts[i] = term(w)
		}
		qs = append(qs, bleve.NewPhraseQuery(ts, fieldName(f, m)))
	}
	return qs
}

// translate writes e as a Bleve query, from the rule language's
// documented meaning; in is the scope of e's words.
func translate(e expr, in []rules.Field) query.Query {
	switch e := e.(type) {
	case word:
		return bleve.NewDisjunctionQuery(sequence(forms(strings.Join(e.words, " "), e.form), e.form, in)...)
	case hyphen:
		apart := forms(strings.Join(e.parts, " "), e.form)
		joined := forms(strings.Join(e.parts, ""), e.form)
		return bleve.NewDisjunctionQuery(append(sequence(apart, e.form, in), sequence(joined, e.form, in)...)...)
	case prefix:
		var qs []query.Query
		for _, f := range in {
			q := bleve.NewPrefixQuery(term(forms(e.stem, exact)[0]))
			q.SetField(fieldName(f, exact))
			qs = append(qs, q)
		}
		return bleve.NewDisjunctionQuery(qs...)
	case and:
		var qs []query.Query
		for _, k := range e.kids {
			qs = append(qs, translate(k, in))
		}
		return bleve.NewConjunctionQuery(qs...)
	case or:
		var qs []query.Query
		for _, k := range e.kids {
			qs = append(qs, translate(k, in))
		}
		return bleve.NewDisjunctionQuery(qs...)
	case not:
		b := bleve.NewBooleanQuery()
		b.AddMust(bleve.NewMatchAllQuery())
		b.AddMustNot(translate(e.b, in))
		return bleve.NewConjunctionQuery(translate(e.a, in), b)
	case scope:
		return translate(e.kid, []rules.Field{e.field})
	}
	panic(fmt.Sprintf("translate: %T", e))
}

// handWritten are rules as editors write them (precedence, juxtaposition,
// "-" for NOT, a field in front of a group), each with its meaning spelt
// out as a tree: the query text is compiled by rules, the tree goes to
// Bleve, so the parser is checked too.
var handWritten = []struct {
	query string
	tree  expr
}{
	{`(Pakistan OR Afghanistan) AND (strike OR attack) NOT cricket`,
		not{and{[]expr{or{[]expr{w("Pakistan"), w("Afghanistan")}}, or{[]expr{w("strike"), w("attack")}}}}, w("cricket")}},
	{`cross-border OR "peace talks"`,
		or{[]expr{hyphen{[]string{"cross", "border"}, stem}, word{[]string{"peace", "talks"}, exact}}}},
	{`title:apple -iphone`,
		not{scope{rules.FieldTitle, w("apple")}, w("iphone")}},
	{`CASE("Apple") AND (watch OR "app store")`,
		and{[]expr{word{[]string{"Apple"}, cased}, or{[]expr{w("watch"), word{[]string{"app", "store"}, exact}}}}}},
	{`feed:(guardian OR heise) AND negotiat*`,
		and{[]expr{scope{rules.FieldFeed, or{[]expr{w("guardian"), w("heise")}}}, prefix{"negotiat"}}}},
	{`link:html NOT summary:"the"`,
		not{scope{rules.FieldLink, w("html")}, scope{rules.FieldSummary, word{[]string{"the"}, exact}}}},
	{`Pakistan strike OR Kabul talks`,
		or{[]expr{and{[]expr{w("Pakistan"), w("strike")}}, and{[]expr{w("Kabul"), w("talks")}}}}},
}

func w(s string) word { return word{[]string{s}, stem} }

// TestBooleanSemanticsAgreeWithBleve indexes the news corpus in an
// in-memory Bleve index and checks that random and hand-written rules match
// exactly the items Bleve finds for them: 80 random rules by default, 300
// at full size (WIREWATCH_FULL=1).
func TestBooleanSemanticsAgreeWithBleve(t *testing.T) {
	docs := newsItems(t)
	items := make([]*rules.Analyzed, len(docs))
	for i, d := range docs {
		items[i] = rules.Analyze(d)
	}

	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer("tokens", map[string]any{"type": custom.Name, "tokenizer": whitespace.Name}); err != nil {
		t.Fatal(err)
	}
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range genFields {
		for m := stem; m <= cased; m++ {
			fm := bleve.NewTextFieldMapping()
			fm.Analyzer = "tokens"
			fm.Store, fm.DocValues, fm.IncludeInAll = false, false, false
			dm.AddFieldMappingsAt(fieldName(f, m), fm)
		}
	}
	im.DefaultMapping = dm
	idx, err := bleve.NewMemOnly(im)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	batch := idx.NewBatch()
	for i, a := range items {
		if err := batch.Index(strconv.Itoa(i), document(a)); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Batch(batch); err != nil {
		t.Fatal(err)
	}

	rs := newRuleGen(7, items).rules(t, testsize.Pick(80, 300))
	for i, h := range handWritten {
		r, err := rules.Compile("hand"+strconv.Itoa(i), h.query)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, rule{h.tree, r})
	}
	compiled := make([]*rules.Rule, len(rs))
	pos := map[*rules.Rule]int{}
	for i, r := range rs {
		compiled[i] = r.rule
		pos[r.rule] = i
	}
	ix := rules.NewIndex(compiled)
	ours := make([]map[int]bool, len(rs))
	for i := range ours {
		ours[i] = map[int]bool{}
	}
	for d, a := range items {
		for _, m := range ix.Match(a) {
			ours[pos[m.Rule]][d] = true
		}
	}

	disagree, matched, matching := 0, 0, 0
	for i, r := range rs {
		req := bleve.NewSearchRequestOptions(translate(r.tree, defaultScope), len(items), 0, false)
		res, err := idx.Search(req)
		if err != nil {
			t.Fatalf("rule %q: bleve: %v", r.rule.Query(), err)
		}
		theirs := map[int]bool{}
		for _, h := range res.Hits {
			d, _ := strconv.Atoi(h.ID)
			theirs[d] = true
		}
		matched += len(theirs)
		if len(theirs) > 0 {
			matching++
		}
		for d := range items {
			if ours[i][d] != theirs[d] {
				disagree++
				if disagree <= 5 {
					t.Errorf("rule %q, item %d (%q): wirewatch %v, bleve %v", r.rule.Query(), d, docs[d].Title, ours[i][d], theirs[d])
				}
			}
		}
	}
	if disagree > 0 {
		t.Fatalf("%d disagreements with Bleve", disagree)
	}
	// The comparison means something only if both outcomes are common.
	if matched < len(rs) || matching < len(rs)/4 || matching > len(rs)*9/10 {
		t.Fatalf("%d matches, %d of %d rules match anything: the generated rules are not a useful test", matched, matching, len(rs))
	}
	t.Logf("%d rules x %d items: %d matches (%d rules match something), zero disagreements with Bleve", len(rs), len(items), matched, matching)
}
