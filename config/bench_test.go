package config

import (
	"fmt"
	"strings"
	"testing"
)

// manyRules is a config of one feed and n rules, about 65 bytes a rule as
// a desk writes them (100,000 rules: 6.5 MB).
func manyRules(n int) []byte {
	words := []string{"strike", "border", "talks", "Kabul", "Pakistan", "Taliban", "collapse", "drone", "Khost", "ceasefire"}
	var b strings.Builder
	b.WriteString("[[feeds]]\nname = \"Dawn\"\nurl = \"https://www.dawn.com/feeds/home\"\n\n")
	for i := range n {
		fmt.Fprintf(&b, "[[rules]]\nname = \"rule %d\"\nquery = '%s AND %s%d'\n\n", i, words[i%10], words[(i/10)%10], i)
	}
	return []byte(b.String())
}

// BenchmarkParseRules loads a config of 1,000 to 100,000 rules: TOML
// decoding, positions, validation. Loading is linear in the file's size
// (it was quadratic: 10,000 rules took 20 s).
//
//	go test -run '^$' -bench BenchmarkParseRules -benchmem -count 5 ./config/
func BenchmarkParseRules(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		data := manyRules(n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				c, err := Parse("bench.toml", data, noEnv)
				if err != nil || len(c.Rules) != n {
					b.Fatalf("%d rules, %v", len(c.Rules), err)
				}
			}
		})
	}
}
