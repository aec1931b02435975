package itemtext

import (
	"testing"

	"github.com/wirewatch/wirewatch/rules"
)

// go test -run '^$' -bench . -benchmem ./itemtext/ : per corpus item.

func BenchmarkEncode(b *testing.B) {
	ts := corpus(b)
	z := rules.NewAnalyzer()
	as := make([]*rules.Analyzed, len(ts))
	for i := range ts {
		as[i] = z.Analyze(ts[i].Document())
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Encode(ts[i%len(ts)], as[i%len(ts)])
	}
}

func BenchmarkDecode(b *testing.B) {
	ts := corpus(b)
	recs := make([][]byte, len(ts))
	for i := range ts {
		recs[i] = Encode(ts[i], nil)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Decode(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMayMatch(b *testing.B) {
	ts := corpus(b)
	recs := make([][]byte, len(ts))
	for i := range ts {
		recs[i] = Encode(ts[i], rules.Analyze(ts[i].Document()))
	}
	r, err := rules.Compile("talks", `(talks OR negotiations OR dialogue) NEAR/8 (fail* OR collapse OR stall) AND (Pakistan OR Afghanistan OR Taliban)`)
	if err != nil {
		b.Fatal(err)
	}
	f := NewFilter(r)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.MayMatch(recs[i%len(recs)])
	}
}
