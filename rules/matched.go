package rules

// MatchedWords lists the distinct words and phrases that spans cover in
// a, in order, each as field:text as the item has it ("title:Pakistan",
// "summary:deep into Afghanistan"): why an item matched, as `wirewatch
// try` and `once -dry-run` show it. Spans outside their field's text are
// skipped.
func MatchedWords(a *Analyzed, spans []Span) []string {
	var out []string
	seen := map[string]bool{}
	for _, sp := range spans {
		t := a.Text(sp.Field)
		if sp.Start < 0 || sp.End > len(t) || sp.Start >= sp.End {
			continue
		}
		w := sp.Field.String() + ":" + t[sp.Start:sp.End]
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
