package rules

// Benchmarks of match throughput. Run:
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./rules/
//
// Items are real news items from testdata/news, HTML stripped and cut to
// about 2.5 KB of text. Rules are generated with a fixed seed from the
// corpus's own vocabulary (words of 4+ letters that occur in at least two
// items, stop words excluded), in the shapes editors write: OR-lists of
// alternatives combined with AND, NOT exclusions, phrases, NEAR, title:,
// wildcards and ATLEAST.

import (
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/kljensen/snowball/english"
)

var (
	benchOnce  sync.Once
	benchItems []Document
	benchAn    []*Analyzed
	benchGen   func() string // the next generated rule's query

	benchMu    sync.Mutex
	benchRules []*Rule // the rules generated so far; smaller sets are prefixes
	benchComp  time.Duration
)

const benchItemBytes = 2500

func benchSetup(b testing.TB) {
	b.Helper()
	benchOnce.Do(func() {
		docs := loadCorpus(b)
		// Items: about 2.5 KB of plain text each. Long items are cut; short
		// ones (many feeds carry only a summary) are joined with the items
		// that follow them in the same feed, under the first one's title.
		var cur *Document
		flush := func() {
			if cur != nil && len(cur.Title)+len(cur.Content) >= 1500 {
				benchItems = append(benchItems, *cur)
			}
			cur = nil
		}
		prevFile := ""
		for _, d := range docs {
			if d.file != prevFile {
				flush()
				prevFile = d.file
			}
			body := PlainText(d.doc.Content)
			if sum := PlainText(d.doc.Summary); len(body) < len(sum) {
				body = sum
			}
			if cur == nil {
				cur = &Document{Title: PlainText(d.doc.Title), Summary: body[:strings.LastIndexByte(body[:min(len(body), 300)]+" ", ' ')], Feed: d.doc.Feed, Link: d.doc.Link}
			}
			room := benchItemBytes - len(cur.Title) - len(cur.Content)
			if len(body) > room {
				cut := strings.LastIndexByte(body[:room], ' ')
				if cut < 0 {
					cut = room
				}
				body = body[:cut]
			}
			cur.Content = strings.TrimSpace(cur.Content + " " + body)
			if len(cur.Title)+len(cur.Content) >= benchItemBytes-200 {
				flush()
			}
		}
		flush()
		for _, d := range benchItems {
			benchAn = append(benchAn, Analyze(d))
		}
		var corpusAn []*Analyzed
		for _, d := range docs {
			corpusAn = append(corpusAn, Analyze(d.doc))
		}

		// Vocabulary. Editors' rules name people, places and organisations
		// (capitalised words here) and qualify them with topic words; a word
		// in more than 2% (names) or 5% (topic words) of items is too broad
		// for a rule of its own, so those are left out, as are stop words.
		df := map[string]int{}
		surface := map[string]string{}
		upper, total := map[string]int{}, map[string]int{}
		var phrases [][2]string
		for _, a := range corpusAn {
			seen := map[string]bool{}
			for f := range a.fields {
				fd := &a.fields[f]
				toks := a.tokens(Field(f))
				for i, t := range toks {
					w := fd.text[t.start:t.end]
					if len([]rune(w)) < 4 || english.IsStopWord(t.exact) || isCommon(t.exact) || !safeRuleWord(w) || strings.ContainsAny(w, "0123456789") {
						continue
					}
					total[t.stem]++
					if unicode.IsUpper([]rune(w)[0]) {
						upper[t.stem]++
					}
					if !seen[t.stem] {
						seen[t.stem] = true
						df[t.stem]++
						if _, ok := surface[t.stem]; !ok || unicode.IsUpper([]rune(w)[0]) {
							surface[t.stem] = w
						}
					}
					if i+1 < len(toks) && i%5 == 0 {
						w2 := fd.text[toks[i+1].start:toks[i+1].end]
						if safeRuleWord(w2) && len([]rune(w2)) >= 4 && !english.IsStopWord(toks[i+1].exact) {
							phrases = append(phrases, [2]string{w, w2})
						}
					}
				}
			}
		}
		var names, topics []string
		for e, n := range df {
			w := surface[e]
			switch {
			case upper[e]*10 >= total[e]*9 && n*50 <= len(corpusAn):
				names = append(names, w)
			case n >= 2 && n*20 <= len(corpusAn):
				topics = append(topics, w)
			}
		}
		sortStrings(names)
		sortStrings(topics)
		benchGen = newBenchRuleGen(names, topics, phrases)
	})
	if len(benchItems) < 50 {
		b.Fatalf("only %d bench items", len(benchItems))
	}
}

// newBenchRuleGen returns a generator of rules in the shapes editors
// write, from a fixed seed, so every run sees the same rules in the same
// order.
func newBenchRuleGen(names, topics []string, phrases [][2]string) func() string {
	r := rand.New(rand.NewPCG(42, 4242))
	nm := func() string { return names[r.IntN(len(names))] }
	w := func() string {
		if r.IntN(3) == 0 {
			return nm()
		}
		return topics[r.IntN(len(topics))]
	}
	ph := func() string { p := phrases[r.IntN(len(phrases))]; return `"` + p[0] + " " + p[1] + `"` }
	return func() string {
		switch r.IntN(8) {
		case 0:
			return nm() + " AND (" + w() + " OR " + w() + ")"
		case 1:
			return "(" + nm() + " OR " + nm() + " OR " + nm() + ") AND (" + w() + " OR " + w() + ") NOT " + w()
		case 2:
			return ph() + " AND " + w()
		case 3:
			return nm() + " NEAR/" + strconv.Itoa(1+r.IntN(10)) + " " + w()
		case 4:
			return "title:" + nm() + " OR " + ph()
		case 5:
			p := []rune(w())
			for !allLetters(p) || len(p) < 6 {
				p = []rune(w())
			}
			return string(p[:5+r.IntN(len(p)-5)]) + "* AND " + nm()
		case 6:
			return "ATLEAST(2, " + nm() + " OR " + nm() + ") NOT (" + w() + " OR " + w() + ")"
		default:
			return "(" + nm() + " OR " + ph() + ") AND " + w() + " AND NOT " + w()
		}
	}
}

// benchRulesN returns the first n generated rules, compiling more of them
// if needed (the benchmarks use up to 100,000; the tests fewer).
func benchRulesN(b testing.TB, n int) []*Rule {
	b.Helper()
	benchSetup(b)
	benchMu.Lock()
	defer benchMu.Unlock()
	start := time.Now()
	for i := len(benchRules); i < n; i++ {
		q := benchGen()
		rule, err := Compile("bench"+strconv.Itoa(i), q)
		if err != nil {
			b.Fatalf("%q: %v", q, err)
		}
		benchRules = append(benchRules, rule)
	}
	benchComp += time.Since(start)
	return benchRules[:n]
}

func sortStrings(s []string) { sort.Strings(s) }

var ruleCounts = []int{100, 1000, 10000, 100000}

// BenchmarkIndexMatch: one op = matching one analysed item against the
// index.
func BenchmarkIndexMatch(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			ix := NewIndex(benchRulesN(b, n))
			matches := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				matches += len(ix.Match(benchAn[i%len(benchAn)]))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(matches)/float64(b.N), "matches/item")
		})
	}
}

// BenchmarkAnalyzeAndMatch: one op = analysing one item and matching it,
// the whole per-item cost in the monitor.
func BenchmarkAnalyzeAndMatch(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			ix := NewIndex(benchRulesN(b, n))
			z := NewAnalyzer()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				a := z.Analyze(benchItems[i%len(benchItems)])
				ix.Match(a)
				a.Release()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkNaive: one op = evaluating every rule on one analysed item, the
// loop the index replaces.
func BenchmarkNaive(b *testing.B) {
	for _, n := range ruleCounts[:3] {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			rs := benchRulesN(b, n)
			for i := 0; i < b.N; i++ {
				a := benchAn[i%len(benchAn)]
				for _, r := range rs {
					r.Match(a)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkNaiveProgram: one op = the index's own evaluator run on every
// rule of one analysed item, with the item's terms marked once as the index
// does, but no candidate pruning: what the anchors and clause checks save,
// apart from the faster evaluator.
func BenchmarkNaiveProgram(b *testing.B) {
	for _, n := range ruleCounts[:3] {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			ix := NewIndex(benchRulesN(b, n))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ix.match(benchAn[i%len(benchAn)], true)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkAnalyze: one op = analysing one ~2.5 KB item, with an Analyzer
// that has met the corpus' words before (as a running monitor has met the
// day's news vocabulary: "warm"), and with none ("cold": every word of the
// item is stemmed).
func BenchmarkAnalyze(b *testing.B) {
	benchSetup(b)
	for _, c := range []struct {
		name string
		z    *Analyzer
	}{{"warm", NewAnalyzer()}, {"cold", nil}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				c.z.Analyze(benchItems[i%len(benchItems)]).Release()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkNewIndex: one op = building the index over 100,000 compiled
// rules. Compiling them (once, in setup) is reported as compile-ms.
func BenchmarkNewIndex(b *testing.B) {
	rs := benchRulesN(b, 100000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewIndex(rs)
	}
	b.ReportMetric(float64(benchComp.Milliseconds()), "compile-100k-ms")
}

func allLetters(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
