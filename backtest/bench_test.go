package backtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/rules"
)

// The example rules of config.example.toml.
const (
	crossBorder = `(Pakistan OR Afghanistan OR Afghan OR Taliban OR Kabul OR Islamabad)
AND ((strike OR airstrike OR "air strike") NEAR/10 (cross-border OR border OR "deep into" OR territory OR soil))
AND (military OR army OR terror* OR retaliat* OR attack OR defence OR defense)
NOT (strike-rate OR cricket OR wicket* OR "on strike" OR workers OR wages OR transporters OR labour OR labor OR walkout)`
	talksCollapse = `(talks OR negotiations OR dialogue OR "peace process")
NEAR/8 (fail* OR collapse OR "broke down" OR stall OR deadlock OR "no breakthrough" OR "workable solution")
AND (Pakistan OR Afghanistan OR Afghan OR Taliban OR Kabul OR Islamabad)
NOT (IMF OR "monetary fund" OR bailout OR workers OR wages OR transporters OR cricket)`
	broad = `(Trump OR Biden OR Harris) AND (election OR president OR campaign)`
)

// desk builds n stored items seen over the 7 days before now: the real
// corpus' records over and over (each copy a distinct item), with the
// reference wire (the reference article among near misses) and the three
// outlets' story mixed in every 5,000 items.
func desk(b testing.TB, n int, now time.Time) *backtest.Memory {
	its := corpus(b)
	z := rules.NewAnalyzer()
	enc := func(t itemtext.Text) []byte {
		a := z.Analyze(t.Document())
		defer a.Release()
		return itemtext.Encode(t, a)
	}
	recs := make([][]byte, len(its))
	for i, it := range its {
		recs[i] = enc(it.text)
	}
	var wire [][]byte
	for _, f := range []string{"reference.rss", "story-dawn.rss", "story-geo.rss", "story-tribune.rss"} {
		ws, err := parseFile("testdata/" + f)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range ws {
			wire = append(wire, enc(w.text))
		}
	}
	m := &backtest.Memory{}
	start := now.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(n)
	for i := range n {
		rec := recs[i%len(recs)]
		if i%5000 == 2500 {
			rec = wire[(i/5000)%len(wire)]
		}
		m.AddRecord(fmt.Sprintf("feed-%d", i%1000), fmt.Sprint(i), start.Add(time.Duration(i)*step), rec)
	}
	return m
}

// BenchmarkOneRuleWeek: one rule over 100,000 stored items (about 7 days of
// a 1,000-feed desk), as `try -since 7d` and the playground run it.
// ms-first is the time to the first result.
//
//	go test -run '^$' -bench OneRuleWeek -benchmem -cpu 1 -count 5 ./backtest/
func BenchmarkOneRuleWeek(b *testing.B) {
	now := time.Now()
	benchRules(b, desk(b, 100_000, now), now)
}

// benchRules runs the week's backtest of each rule over src (100,000
// items stored over the 7 days before now), reporting the time to the
// first result (ms-first), the matches and the share of items skipped by
// their sketch.
func benchRules(b *testing.B, src backtest.Source, now time.Time) {
	z := rules.NewAnalyzer() // a long-lived analyser, as the daemon has
	for _, c := range []struct{ name, q string }{{"cross-border", crossBorder}, {"talks-collapse", talksCollapse}, {"broad", broad}, {"wildcard", `negotiat*`}} {
		r, err := rules.Compile(c.name, c.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var first time.Duration
			var sum *backtest.Summary
			for b.Loop() {
				start := time.Now()
				first = 0
				sum, err = backtest.Run(context.Background(), src, []*rules.Rule{r}, backtest.Options{Since: now.Add(-8 * 24 * time.Hour), Analyzer: z}, func(*backtest.Result) error {
					if first == 0 {
						first = time.Since(start)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if sum.Scanned != 100_000 {
				b.Fatalf("scanned %d items", sum.Scanned)
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "ms-first")
			b.ReportMetric(float64(sum.Matched), "matches")
			b.ReportMetric(100*float64(sum.Skipped)/float64(sum.Scanned), "%skipped")
		})
	}
}
