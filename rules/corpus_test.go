package rules

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/mmcdole/gofeed"
)

// corpusDoc is one item of the news corpus in testdata/news.
type corpusDoc struct {
	file string
	doc  Document
}

var (
	corpusOnce sync.Once
	corpusDocs []corpusDoc
	corpusErr  error
)

// loadCorpus parses every feed in testdata/news with gofeed (the parser the
// monitor uses) and returns its items as Documents.
func loadCorpus(t testing.TB) []corpusDoc {
	t.Helper()
	corpusOnce.Do(func() {
		files, err := filepath.Glob("testdata/news/*")
		if err != nil {
			corpusErr = err
			return
		}
		sort.Strings(files)
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				corpusErr = err
				return
			}
			feed, err := gofeed.NewParser().Parse(fh)
			fh.Close()
			if err != nil {
				continue // a few corpus files are deliberately broken
			}
			for _, it := range feed.Items {
				d := Document{
					Title: it.Title, Summary: it.Description, Content: it.Content,
					Feed: feed.Title, Link: it.Link, Categories: it.Categories, HTML: true,
				}
				for _, p := range it.Authors {
					if p != nil {
						d.Author = strings.TrimSpace(d.Author + " " + p.Name)
					}
				}
				corpusDocs = append(corpusDocs, corpusDoc{file: filepath.Base(f), doc: d})
			}
		}
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	if len(corpusDocs) < 500 {
		t.Fatalf("corpus has only %d items; testdata/news is incomplete", len(corpusDocs))
	}
	return corpusDocs
}

// ruleGen writes random rules in the full language from words that occur in
// real items, so that rules match often enough for the comparison to mean
// something.
type ruleGen struct {
	r       *rand.Rand
	words   []string   // surface forms of words
	phrases [][]string // runs of consecutive surface words
	items   [][]string // the words of each item
	focus   []string   // the item the current rule is mostly drawn from
	depth   int
}

func newRuleGen(seed uint64, items []*Analyzed) *ruleGen {
	g := &ruleGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	seen := map[string]bool{}
	for _, a := range items {
		var own []string
		for f := range a.fields {
			fd := &a.fields[f]
			for i, tk := range fd.toks {
				w := fd.text[tk.start:tk.end]
				if !safeRuleWord(w) {
					continue
				}
				own = append(own, w)
				if !seen[w] {
					seen[w] = true
					g.words = append(g.words, w)
				}
				if i+2 < len(fd.toks) && len(g.phrases) < 20000 && i%7 == 0 {
					var ph []string
					ok := true
					for j := i; j < i+2+i%2; j++ {
						s := fd.text[fd.toks[j].start:fd.toks[j].end]
						if !safeRuleWord(s) || fd.toks[j].pos != tk.pos+int32(j-i) {
							ok = false
							break
						}
						ph = append(ph, s)
					}
					if ok {
						g.phrases = append(g.phrases, ph)
					}
				}
			}
		}
		if len(own) > 0 {
			g.items = append(g.items, own)
		}
	}
	sort.Strings(g.words)
	return g
}

// safeRuleWord reports whether a word from text can be pasted into a rule
// as a word (no operator, quote, parenthesis or field syntax).
func safeRuleWord(w string) bool {
	if w == "" || strings.ContainsAny(w, "\"():*~,-") || strings.ContainsFunc(w, func(r rune) bool { return isQuote(r) || unicode.IsSpace(r) || isInvisible(r) }) {
		return false
	}
	switch w {
	case "AND", "OR", "NOT", "NEAR", "ONEAR", "CASE", "ATLEAST":
		return false
	}
	return !strings.HasPrefix(w, "NEAR") && !strings.HasPrefix(w, "ONEAR")
}

func (g *ruleGen) word() string {
	if len(g.focus) > 0 && g.r.IntN(10) < 7 {
		return g.focus[g.r.IntN(len(g.focus))]
	}
	return g.words[g.r.IntN(len(g.words))]
}

func (g *ruleGen) leaf() string {
	switch g.r.IntN(10) {
	case 0, 1:
		ph := g.phrases[g.r.IntN(len(g.phrases))]
		s := `"` + strings.Join(ph, " ") + `"`
		if g.r.IntN(4) == 0 {
			s += "~" + strconv.Itoa(g.r.IntN(4))
		}
		return s
	case 2:
		w := []rune(g.word())
		if len(w) >= 4 {
			return string(w[:3+g.r.IntN(len(w)-3)]) + "*"
		}
		return string(w)
	case 3:
		return `"` + g.word() + `"`
	case 4:
		if g.r.IntN(2) == 0 {
			return "CASE(" + g.word() + ")"
		}
		a, b := g.word(), g.word()
		return a + "-" + b
	default:
		return g.word()
	}
}

// positional returns an operand for NEAR or ATLEAST.
func (g *ruleGen) positional() string {
	if g.depth < 3 && g.r.IntN(4) == 0 {
		g.depth++
		defer func() { g.depth-- }()
		return "(" + g.leaf() + " OR " + g.positional() + ")"
	}
	return g.leaf()
}

var genFields = []string{"title", "summary", "content", "feed", "author", "category", "link"}

func (g *ruleGen) expr() string {
	if g.depth > 3 {
		return g.leaf()
	}
	g.depth++
	defer func() { g.depth-- }()
	switch g.r.IntN(12) {
	case 0, 1:
		return g.expr() + " OR " + g.expr()
	case 2, 3:
		return g.expr() + " AND " + g.expr()
	case 4:
		return g.expr() + " " + g.expr()
	case 5:
		return g.expr() + " NOT " + g.expr()
	case 6:
		op := "NEAR"
		if g.r.IntN(2) == 0 {
			op = "ONEAR"
		}
		if g.r.IntN(2) == 0 {
			op += "/" + strconv.Itoa(g.r.IntN(12))
		}
		return g.positional() + " " + op + " " + g.positional()
	case 7:
		return "ATLEAST(" + strconv.Itoa(1+g.r.IntN(3)) + ", " + g.positional() + ")"
	case 8:
		return genFields[g.r.IntN(len(genFields))] + ":" + "(" + g.expr() + ")"
	case 9:
		return "(" + g.expr() + ")"
	default:
		return g.leaf()
	}
}

// rules returns n random rules that compile.
func (g *ruleGen) rules(t testing.TB, n int) []*Rule {
	var out []*Rule
	for i := 0; len(out) < n && i < n*20; i++ {
		g.focus = g.items[g.r.IntN(len(g.items))]
		q := g.expr()
		r, err := Compile("r"+strconv.Itoa(i), q)
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	if len(out) < n {
		t.Fatalf("generated only %d rules", len(out))
	}
	return out
}
