package story

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/rules"
)

// benchItems makes n synthetic items. A third of their words come from
// the vocabulary of the labelled pairs drawn with a Zipf law, so that a
// desk's common words ("pakistan", "minister") recur across stories; the
// rest come uniformly from 50,000 other words, the long tail of names,
// places and numbers that make stories differ.
func benchItems(b *testing.B, n int) (titles, leads []string) { return benchItemsLead(b, n, 35) }

// benchItemsLead is benchItems with leads of leadWords words.
func benchItemsLead(b testing.TB, n, leadWords int) (titles, leads []string) {
	seen := map[string]bool{}
	var vocab []string
	for _, p := range loadPairs(b) {
		for _, s := range []string{p.titleA, p.leadA, p.titleB, p.leadB} {
			for _, w := range strings.Fields(s) {
				if !seen[w] {
					seen[w] = true
					vocab = append(vocab, w)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 4, uint64(len(vocab)-1))
	words := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			if i%3 == 0 {
				ws[i] = vocab[z.Uint64()]
			} else {
				ws[i] = "w" + strconv.Itoa(r.IntN(50_000))
			}
		}
		return strings.Join(ws, " ")
	}
	for i := 0; i < n; i++ {
		titles = append(titles, words(12))
		leads = append(leads, words(leadWords))
	}
	return titles, leads
}

// BenchmarkGroup is the grouping cost per item with 10,000 stories in the
// channel's window: Sign, Match, Add (which also expires the oldest item,
// keeping the window at 10,000, and keeps the document frequencies). It
// also reports the memory the index holds per open story (B/story: heap
// in use after filling the window, over 10,000), and the time per item
// less the rules' analysis of its text (group-ns/op), which the daemon
// makes anyway to match the rules and passes to SignAnalyzed.
func BenchmarkGroup(b *testing.B) { benchGroup(b, 35) }

// BenchmarkGroupLongLeads is BenchmarkGroup with leads of 300 words (the
// most a signature reads), as feeds that put whole articles in their
// summaries give.
func BenchmarkGroupLongLeads(b *testing.B) { benchGroup(b, LeadWords) }

func benchGroup(b *testing.B, leadWords int) {
	const stories = 10_000
	fresh := 1 << 15 // new items; b.N beyond this repeats them
	if leadWords > 100 {
		fresh = 1 << 12
	}
	titles, leads := benchItemsLead(b, stories+fresh, leadWords)
	step := 24 * time.Hour / stories
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	idx := New(Options{Window: 24 * time.Hour})
	now := t0
	for i := 0; i < stories; i++ {
		idx.Add(titles[i], "#desk", Sign(titles[i], leads[i]), now)
		now = now.Add(step)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perStory := float64(after.HeapAlloc-before.HeapAlloc) / stories
	grouped := 0
	var analysis time.Duration
	z := rules.NewAnalyzer() // as the daemon analyses its items
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := stories + i%fresh
		// Sign, in its two parts: the rules' analysis of the item (which
		// the daemon makes once for matching the rules, so grouping
		// reuses it) and the signature made from it.
		start := time.Now()
		a := z.Analyze(rules.Document{Title: prefix(titles[j]), Summary: prefix(leads[j])})
		analysis += time.Since(start)
		s := SignAnalyzed(a)
		a.Release()
		id, _, ok := idx.Match("#desk", s, now)
		if ok {
			grouped++
		} else {
			id = titles[j]
		}
		idx.Add(id, "#desk", s, now)
		now = now.Add(step)
	}
	b.StopTimer()
	if n := idx.Len(); n > stories+1 {
		b.Fatalf("%d items held, window should keep about %d", n, stories)
	}
	b.ReportMetric(float64(grouped)/float64(b.N), "grouped/op")
	// ns/op less the rules' analysis: what grouping adds in the daemon.
	b.ReportMetric(float64(b.Elapsed()-analysis)/float64(b.N), "group-ns/op")
	b.ReportMetric(perStory, "B/story")
}

// BenchmarkMatch is Match alone against 10,000 stories, signature given.
func BenchmarkMatch(b *testing.B) {
	const stories = 10_000
	titles, leads := benchItems(b, stories+1024)
	idx := New(Options{})
	for i := 0; i < stories; i++ {
		idx.Add(titles[i], "#desk", Sign(titles[i], leads[i]), t0)
	}
	sigs := make([]Signature, 1024)
	for i := range sigs {
		sigs[i] = Sign(titles[stories+i], leads[stories+i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idx.Match("#desk", sigs[i%len(sigs)], t0.Add(time.Hour))
	}
}

// BenchmarkSign is the signature of one headline and lead.
func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Sign(dawnTitle, dawnLead)
	}
}
