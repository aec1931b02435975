package rules

import "fmt"

// ExampleProblem is an example a rule does not match, or a counterexample
// it matches.
type ExampleProblem struct {
	Counter bool   // a counterexample (must not match); else an example (must match)
	Index   int    // its position in its list, from 0
	Text    string // the example as written
}

func (p ExampleProblem) String() string {
	if p.Counter {
		return fmt.Sprintf("counterexample matches: %q", p.Text)
	}
	return fmt.Sprintf("example does not match: %q", p.Text)
}

// CheckExamples runs a rule's examples (each must match) and
// counterexamples (none may), each read as the title of an item. It is what
// `wirewatch check` reports for a rule of the config file and what the
// Slack rule editor shows for a rule of the store.
func CheckExamples(r *Rule, examples, counterexamples []string) []ExampleProblem {
	var out []ExampleProblem
	for i, ex := range examples {
		if _, ok := r.Match(Analyze(Document{Title: ex})); !ok {
			out = append(out, ExampleProblem{Index: i, Text: ex})
		}
	}
	for i, ex := range counterexamples {
		if _, ok := r.Match(Analyze(Document{Title: ex})); ok {
			out = append(out, ExampleProblem{Counter: true, Index: i, Text: ex})
		}
	}
	return out
}

// ByteOffset is the byte offset in query of the 1-based rune column col,
// as Error.Col and Diagnostic.Col count (len(query) past its end).
func ByteOffset(query string, col int) int {
	i := 0
	for n := range query {
		if i == col-1 {
			return n
		}
		i++
	}
	return len(query)
}
