package bleveref

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/mmcdole/gofeed"

	"github.com/wirewatch/wirewatch/rules"
)

// newsItems parses every feed of the rules package's news corpus
// (rules/testdata/news) as the monitor would and returns its items.
func newsItems(t *testing.T) []rules.Document {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "rules", "testdata", "news", "*"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var docs []rules.Document
	p := gofeed.NewParser()
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		feed, err := p.ParseString(string(raw))
		if err != nil {
			continue // a few corpus files are broken on purpose
		}
		for _, it := range feed.Items {
			var authors []string
			for _, who := range it.Authors {
				if who != nil {
					authors = append(authors, who.Name)
				}
			}
			docs = append(docs, rules.Document{
				Title: it.Title, Summary: it.Description, Content: it.Content, Feed: feed.Title,
				Author: strings.Join(authors, " "), Link: it.Link, Categories: it.Categories, HTML: true,
			})
		}
	}
	if len(docs) < 500 {
		t.Fatalf("the news corpus has %d items; rules/testdata/news is incomplete", len(docs))
	}
	return docs
}

// form says which of a word's forms a rule leaf matches.
type form int

const (
	stem  form = iota // a bare word: any inflection
	exact             // quoted: that form, ignoring case and accents
	cased             // CASE(): that form with its case and accents
)

// expr is a rule as a syntax tree. query writes it in the rule language;
// its meaning is translated to Bleve in bleve_test.go.
type expr interface{ query() string }

type (
	// word is a bare, quoted or CASE() word or phrase (words in a row).
	word struct {
		words []string
		form  form
	}
	// hyphen is a-b: the parts in a row, or joined into one word.
	hyphen struct {
		parts []string
		form  form
	}
	// prefix is stem*: any word whose exact form starts with stem's.
	prefix struct{ stem string }
	// and, or: all or any of the operands; not: a but not b ("a NOT b").
	and   struct{ kids []expr }
	or    struct{ kids []expr }
	not   struct{ a, b expr }
	scope struct {
		field rules.Field
		kid   expr
	}
)

func (w word) query() string {
	s := strings.Join(w.words, " ")
	switch {
	case w.form == cased && len(w.words) == 1:
		return "CASE(" + s + ")"
	case w.form == cased:
		return `CASE("` + s + `")`
	case w.form == exact || len(w.words) > 1:
		return `"` + s + `"`
	}
	return s
}

func (h hyphen) query() string {
	s := strings.Join(h.parts, "-")
	if h.form == exact {
		return `"` + s + `"`
	}
	return s
}

func (p prefix) query() string { return p.stem + "*" }

func (a and) query() string { return join(a.kids, " AND ") }
func (o or) query() string  { return join(o.kids, " OR ") }
func (n not) query() string { return "(" + n.a.query() + " NOT " + n.b.query() + ")" }
func (s scope) query() string {
	return s.field.String() + ":(" + s.kid.query() + ")"
}

func join(kids []expr, op string) string {
	qs := make([]string, len(kids))
	for i, k := range kids {
		qs[i] = k.query()
	}
	return "(" + strings.Join(qs, op) + ")"
}

// ruleWord reports whether a word of an item's text can be written into a
// rule as it is: letters and digits only (no operator, quote, parenthesis,
// hyphen or field syntax), not an operator, and one word to the analyser.
func ruleWord(w string) bool {
	if w == "" || strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		return false
	}
	up := strings.ToUpper(w)
	for _, op := range []string{"AND", "OR", "NOT", "NEAR", "ONEAR", "CASE", "ATLEAST"} {
		if strings.HasPrefix(up, op) {
			return false
		}
	}
	return len(rules.Analyze(rules.Document{Title: w}).Words(rules.FieldTitle)) == 1
}

// ruleGen writes random rules in the part of the language Bleve can
// express, mostly from the words of one item (so that rules match often
// enough for the comparison to mean something) and partly from anywhere.
type ruleGen struct {
	r     *rand.Rand
	items [][][]string // per item, its runs of rule-safe words in text order
	all   []string     // every rule-safe word
	focus [][]string   // the item the current rule is drawn from
	depth int
}

// genFields are the fields a rule may name here (category is left out:
// see the package doc).
var genFields = []rules.Field{rules.FieldTitle, rules.FieldSummary, rules.FieldContent, rules.FieldFeed, rules.FieldAuthor, rules.FieldLink}

func newRuleGen(seed uint64, docs []*rules.Analyzed) *ruleGen {
	g := &ruleGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	seen := map[string]bool{}
	safe := map[string]bool{}
	for _, a := range docs {
		var runs [][]string
		for _, f := range genFields {
			var run []string
			for _, w := range strings.Fields(a.Text(f)) {
				ok, known := safe[w]
				if !known {
					ok = ruleWord(w)
					safe[w] = ok
				}
				if !ok {
					if len(run) > 0 {
						runs = append(runs, run)
					}
					run = nil
					continue
				}
				run = append(run, w)
				if !seen[w] {
					seen[w] = true
					g.all = append(g.all, w)
				}
			}
			if len(run) > 0 {
				runs = append(runs, run)
			}
		}
		if len(runs) > 0 {
			g.items = append(g.items, runs)
		}
	}
	slices.Sort(g.all)
	return g
}

// word returns a word of the focus item (mostly) or of any item.
func (g *ruleGen) word() string {
	if len(g.focus) > 0 && g.r.IntN(10) < 7 {
		run := g.focus[g.r.IntN(len(g.focus))]
		return run[g.r.IntN(len(run))]
	}
	return g.all[g.r.IntN(len(g.all))]
}

// run returns 2 or 3 words in a row from the focus item, or nil.
func (g *ruleGen) run() []string {
	for range 5 {
		run := g.focus[g.r.IntN(len(g.focus))]
		n := 2 + g.r.IntN(2)
		if len(run) >= n {
			i := g.r.IntN(len(run) - n + 1)
			return run[i : i+n]
		}
	}
	return nil
}

func (g *ruleGen) leaf() expr {
	switch g.r.IntN(10) {
	case 0, 1:
		if ws := g.run(); ws != nil {
			f := exact
			if g.r.IntN(4) == 0 {
				f = cased
			}
			return word{ws, f}
		}
	case 2:
		w := []rune(g.word())
		if len(w) >= 4 {
			return prefix{string(w[:3+g.r.IntN(len(w)-3)])}
		}
	case 3:
		return word{[]string{g.word()}, exact}
	case 4:
		return word{[]string{g.word()}, cased}
	case 5:
		parts := g.run()
		if parts == nil || g.r.IntN(3) == 0 {
			parts = []string{g.word(), g.word()}
		}
		f := stem
		if g.r.IntN(3) == 0 {
			f = exact
		}
		return hyphen{parts[:2], f}
	}
	return word{[]string{g.word()}, stem}
}

func (g *ruleGen) expr() expr {
	if g.depth > 3 {
		return g.leaf()
	}
	g.depth++
	defer func() { g.depth-- }()
	switch g.r.IntN(10) {
	case 0, 1:
		return or{[]expr{g.expr(), g.expr()}}
	case 2, 3:
		return and{[]expr{g.expr(), g.expr()}}
	case 4:
		return not{g.expr(), g.expr()}
	case 5:
		return scope{genFields[g.r.IntN(len(genFields))], g.expr()}
	}
	return g.leaf()
}

// rule is a generated rule: its tree and the compiled rule.
type rule struct {
	tree expr
	rule *rules.Rule
}

// rules returns n random rules that compile (rules with no word that must
// appear, such as "x NOT y" inside an OR, are refused by Compile and
// skipped).
func (g *ruleGen) rules(t *testing.T, n int) []rule {
	t.Helper()
	var out []rule
	for i := 0; len(out) < n && i < n*20; i++ {
		g.focus = g.items[g.r.IntN(len(g.items))]
		e := g.expr()
		r, err := rules.Compile("r"+strconv.Itoa(i), e.query())
		if err != nil {
			continue
		}
		out = append(out, rule{e, r})
	}
	if len(out) < n {
		t.Fatalf("generated only %d rules of %d", len(out), n)
	}
	return out
}
