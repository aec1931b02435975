package rules

import (
	"strings"
	"testing"
)

// TestMistypedOperatorWarnings: an operator written in the wrong case or
// shape is searched as a word, so check warns and names what to write, and
// the author gets no other, misleading warning for it.
func TestMistypedOperatorWarnings(t *testing.T) {
	for _, c := range []struct {
		query string
		col   int
		want  string // the only warning, a substring of it; "" for none
	}{
		{`Pakistan near/5 Kabul`, 10, `lowercase "near/5" is searched as a word; write NEAR/5 for the operator`},
		{`Pakistan Near/5 Kabul`, 10, `"Near/5" is searched as a word; write NEAR/5 for the operator`},
		{`Pakistan NEAR5 Kabul`, 10, `"NEAR5" is searched as a word; write NEAR/5 for the operator`},
		{`Pakistan near5 Kabul`, 10, `write NEAR/5 for the operator`},
		{`Pakistan near Kabul`, 10, `lowercase "near" is searched as a word; write NEAR for the operator`},
		{`Pakistan onear/3 Kabul`, 10, `write ONEAR/3 for the operator`},
		{`Pakistan Onear Kabul`, 10, `write ONEAR for the operator`},
		{`Pakistan ONEAR12 Kabul`, 10, `write ONEAR/12 for the operator`},
		{`atleast(2, talks OR negotiations)`, 1, `lowercase "atleast(" is searched as the word "atleast" and a group; write ATLEAST(2, …) for the operator`},
		{`Atleast(3, Kabul OR Taliban)`, 1, `write ATLEAST(3, …) for the operator`},
		{`AtLeast( 4 ,Kabul)`, 1, `write ATLEAST(4, …) for the operator`},
		{`ATLEAST (2, Kabul OR Taliban)`, 1, `"ATLEAST (" is searched as the word "ATLEAST" and a group; write ATLEAST(2, …), with no space before the parenthesis`},
		{`Pakistan ATLEAST Kabul`, 10, `the operator is written ATLEAST(n, words)`},
		{`case("TED") talks`, 1, `lowercase "case(" is searched as the word "case" and a group; write CASE(…) for the operator`},
		{`Case(US) talks`, 1, `write CASE(…) for the operator`},
		{`CASE ("TED") talks`, 1, `write CASE(…), with no space before the parenthesis`},
		{`Pakistan Or India`, 10, `"Or" is searched as a word; write OR for the operator, or "or" in quotes to search for the word`},
		{`Pakistan and India`, 10, `lowercase "and" is searched as a word; write AND for the operator`},
		// Ordinary words that only look like operators draw nothing.
		{`court case`, 0, ""},
		{`nearly Kabul`, 0, ""},
		{`Kabul nearby`, 0, ""},
		{`"near" Kabul`, 0, ""},
		{`"at least" talks`, 0, ""},
		// The operators themselves.
		{`Pakistan NEAR/5 Kabul`, 0, ""},
		{`ATLEAST(2, talks OR negotiations)`, 0, ""},
		{`CASE("TED") talks`, 0, ""},
	} {
		r, err := Compile("w", c.query)
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		ws := r.Warnings()
		if c.want == "" {
			if len(ws) != 0 {
				t.Errorf("%q: warnings %v, want none", c.query, ws)
			}
			continue
		}
		if len(ws) != 1 || !strings.Contains(ws[0].Msg, c.want) || ws[0].Col != c.col {
			t.Errorf("%q: warnings %v\nwant one, at column %d: %s", c.query, ws, c.col, c.want)
		}
	}
}

// TestMistypedOperatorStillAWord: the warning does not change what the rule
// means: the mistyped operator is searched as a word, as the message says.
func TestMistypedOperatorStillAWord(t *testing.T) {
	r, err := Compile("w", `Pakistan near/5 Kabul`)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Match(Analyze(Document{Title: "Pakistan and Kabul"})); ok {
		t.Error(`"near/5" acted as an operator`)
	}
	if _, ok := r.Match(Analyze(Document{Title: "Pakistan near 5 Kabul"})); !ok {
		t.Error(`"near/5" is not searched as words`)
	}
}

// TestMistypedOperatorNamedInError: when a mistyped operator makes the rest
// of the rule fail to compile, the error names the operator too, since the
// warning alone is lost with the rule.
func TestMistypedOperatorNamedInError(t *testing.T) {
	_, err := Compile("w", `AtLeast(2 , talks OR negotiations)`)
	if err == nil {
		t.Fatal("compiled")
	}
	want := `rule "w": column 11: "," has no letters or digits to search for (and at column 1: "AtLeast(" is searched as the word "AtLeast" and a group; write ATLEAST(2, …) for the operator)`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}
