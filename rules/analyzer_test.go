package rules

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/wirewatch/wirewatch/internal/testsize"
)

// TestAnalyzerAgreesWithAnalyze checks that an Analyzer shared by several
// goroutines, remembering word forms and reusing released analyses, gives
// every item the same words and the same matches (with the same spans) as
// a fresh analysis with no memory. By default it reads every fourth item
// of the corpus (with -short every eighth); at full size (WIREWATCH_FULL=1)
// every item.
func TestAnalyzerAgreesWithAnalyze(t *testing.T) {
	var docs []corpusDoc
	stride := testsize.Pick(4, 1)
	if testing.Short() {
		stride = 8
	}
	for i, d := range loadCorpus(t) {
		if i%stride == 0 {
			docs = append(docs, d)
		}
	}
	docs = append(docs, corpusDoc{doc: Document{
		Title:      "It’s O’Brien’s U.S. ‘deal’ `quoted` TED's ПРАВДА's Türkiye’s ﬁght",
		Content:    "پاکستان اور افغانستان کے درمیان مذاکرات ناکام ہو گئے। पाकिस्तान ने हमले की धमकी दी",
		Categories: []string{"South Asia", "Türkiye"},
	}})
	var rs []*Rule
	for i, q := range []string{
		`Pakistan`, `strik* NEAR/8 Afghanistan`, `CASE("TED") OR CASE(US)`, `"deep into"`,
		`category:Türkiye`, `title:(talks OR negotiat*)`, `ATLEAST(2, said OR says)`, `cross-border`,
		`افغانستان`, `पाकिस्तान`, `gover*`, `-minister police`,
	} {
		r, err := Compile(fmt.Sprint("r", i), q)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	ix := NewIndex(rs)
	type result struct {
		words   [numFields][]token
		matches []Match
	}
	want := make([]result, len(docs))
	for i, d := range docs {
		a := Analyze(d.doc)
		for f := range want[i].words {
			want[i].words[f] = a.tokens(Field(f))
		}
		want[i].matches = ix.Match(a)
	}

	z := NewAnalyzer()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := range 2 {
				for k := range docs {
					i := (k*(g+1) + pass) % len(docs) // each goroutine in its own order
					a := z.Analyze(docs[i].doc)
					for f := range want[i].words {
						if got := a.tokens(Field(f)); !reflect.DeepEqual(got, want[i].words[f]) {
							t.Errorf("%s, %s: Analyzer words %+v, Analyze %+v", docs[i].file, Field(f), got, want[i].words[f])
							return
						}
					}
					if got := ix.Match(a); !reflect.DeepEqual(got, want[i].matches) {
						t.Errorf("%s: Analyzer matches %v, Analyze %v", docs[i].file, got, want[i].matches)
						return
					}
					a.Release()
				}
			}
		}()
	}
	wg.Wait()
	matched := 0
	for _, w := range want {
		matched += len(w.matches)
	}
	if matched == 0 {
		t.Fatal("no rule matched any item: the comparison proves nothing")
	}
}
