package rules_test

import (
	"fmt"

	"github.com/wirewatch/wirewatch/rules"
)

// Matching a stream of items against editors' rules.
func Example() {
	var compiled []*rules.Rule
	for _, r := range [][2]string{
		{"Cross-border strikes", `Pakistan AND strike NEAR/6 (Afghanistan OR Kabul OR "deep into") NOT cricket`},
		{"Talks collapse", `(talks OR negotiat*) NEAR/8 (fail* OR collapse OR "workable solution") AND (Afghanistan OR Istanbul) NOT IMF`},
	} {
		c, err := rules.Compile(r[0], r[1])
		if err != nil {
			fmt.Println(err)
			return
		}
		compiled = append(compiled, c)
	}
	ix := rules.NewIndex(compiled)
	z := rules.NewAnalyzer()
	for _, title := range []string{
		"Pakistan threatens strikes deep into Afghanistan",
		"Istanbul talks failed to bring about any workable solution",
		"Cricket: Pakistan's strike rate against Afghanistan",
		"IMF talks fail in Islamabad",
	} {
		a := z.Analyze(rules.Document{Title: title})
		for _, m := range ix.Match(a) {
			snippet, _ := rules.Snippet(a, m.Spans, 80)
			fmt.Printf("%s: %s\n", m.Rule.Name(), snippet)
		}
		a.Release()
	}
	// Output:
	// Cross-border strikes: Pakistan threatens strikes deep into Afghanistan
	// Talks collapse: Istanbul talks failed to bring about any workable solution
}
