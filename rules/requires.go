package rules

// TermKind says how a Term of Requires occurs in an item.
type TermKind uint8

const (
	// TermWord is an exact word form, as Analyzed.Words gives them.
	TermWord TermKind = iota
	// TermStem is a stem, as Analyzed.Stems gives them.
	TermStem
	// TermPrefix is the start of an exact word form (a wildcard).
	TermPrefix
)

// Term is one word an item may need for a rule to match it.
type Term struct {
	Kind TermKind
	Form string
}

// Requires returns what every item the rule matches contains, as clauses:
// each clause is a list of terms at least one of which occurs in the item,
// in some field (the clauses do not say which). An item that has no term
// of some clause cannot match, so a caller holding only an item's words
// (a stored summary of them, say) can skip the item without analysing it.
// The clauses are the ones the Index files and checks the rule under (its
// most selective clause first, then at most a few others); they are
// necessary, not sufficient: an item that satisfies them all still needs
// Match. The result is a copy.
func (r *Rule) Requires() [][]Term {
	out := make([][]Term, 0, 1+len(r.checks))
	for _, c := range append([][]anchor{r.anchors}, r.checks...) {
		ts := make([]Term, len(c))
		for i, a := range c {
			ts[i] = Term{Form: a.key}
			switch a.kind {
			case anchorStem:
				ts[i].Kind = TermStem
			case anchorPrefix:
				ts[i].Kind = TermPrefix
			}
		}
		out = append(out, ts)
	}
	return out
}
