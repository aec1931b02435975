package rules

// The reference evaluator: a plain, slow, obviously correct reading of the
// language, used to check the fast matcher (Index.Match and Rule.Match).
// It shares only the syntax tree and the analysed tokens with the code it
// checks: no postings maps, no anchors, no early exits. Every leaf is found
// by scanning every token of every field in scope.

import (
	"sort"
	"strings"
)

// refItem is an analysed item as the reference evaluator reads it: every
// field's tokens, materialised once per item rather than at every leaf of
// every rule, so that comparing many rules against the corpus stays quick.
type refItem struct {
	toks [numFields][]token
}

func newRefItem(a *Analyzed) *refItem {
	it := &refItem{}
	for f := range it.toks {
		it.toks[f] = a.tokens(Field(f))
	}
	return it
}

func (it *refItem) tokens(f Field) []token { return it.toks[f] }

// refSpan is an occurrence: tokens s..e (inclusive) of field f.
type refSpan struct {
	f    Field
	s, e int
}

// refTokEq compares a text token with a rule token in a mode.
func refTokEq(t, k token, m mode) bool {
	switch m {
	case modeStem:
		return t.stem == k.stem
	case modeExact:
		return t.exact == k.exact
	}
	return t.cased == k.cased
}

// refSeqEnds returns every index where units[u:] can end when they start at
// token i (a word of a sequence may be a run of several tokens).
func refSeqEnds(toks []token, i int, units []unit, m mode) []int {
	if len(units) == 0 {
		return []int{i}
	}
	var ends []int
	for _, alt := range units[0].alts {
		ok := i+len(alt) <= len(toks)
		for j := 0; ok && j < len(alt); j++ {
			ok = refTokEq(toks[i+j], alt[j], m)
		}
		if ok {
			ends = append(ends, refSeqEnds(toks, i+len(alt), units[1:], m)...)
		}
	}
	return ends
}

// refOccs lists every occurrence of a positional node.
func refOccs(it *refItem, n *node) []refSpan {
	var out []refSpan
	switch n.kind {
	case kSeq:
		for f := Field(0); f < numFields; f++ {
			if !n.scope.has(f) {
				continue
			}
			toks := it.tokens(f)
			for i := range toks {
				for _, end := range refSeqEnds(toks, i, n.units, n.mode) {
					last := end - 1
					// consecutive positions: no category boundary inside
					if int(toks[last].pos-toks[i].pos) == last-i {
						out = append(out, refSpan{f, i, last})
					}
				}
			}
		}
	case kPrefix:
		for f := Field(0); f < numFields; f++ {
			if !n.scope.has(f) {
				continue
			}
			for i, t := range it.tokens(f) {
				if strings.HasPrefix(t.exact, n.prefix) {
					out = append(out, refSpan{f, i, i})
				}
			}
		}
	case kOr:
		for _, k := range n.kids {
			out = append(out, refOccs(it, k)...)
		}
	case kNear:
		for _, x := range refOccs(it, n.kids[0]) {
			for _, y := range refOccs(it, n.kids[1]) {
				if x.f != y.f {
					continue
				}
				toks := it.tokens(x.f)
				// words strictly between the two, counted by position
				var between int
				if x.e < y.s {
					between = int(toks[y.s].pos - toks[x.e].pos - 1)
				} else if y.e < x.s && !n.ordered {
					between = int(toks[x.s].pos - toks[y.e].pos - 1)
				} else {
					continue // overlapping, or in the wrong order for ONEAR
				}
				if between <= n.n {
					out = append(out, refSpan{x.f, min(x.s, y.s), max(x.e, y.e)})
				}
			}
		}
	default:
		panic("refOccs of a non-positional node")
	}
	return refUnique(out)
}

func refUnique(s []refSpan) []refSpan {
	m := map[refSpan]bool{}
	var out []refSpan
	for _, x := range s {
		if !m[x] {
			m[x] = true
			out = append(out, x)
		}
	}
	return out
}

// refEval is the truth of a node for an item.
func refEval(it *refItem, n *node) bool {
	switch n.kind {
	case kAnd:
		all := true
		for _, k := range n.kids {
			all = all && refEval(it, k)
		}
		return all
	case kOr:
		any := false
		for _, k := range n.kids {
			any = any || refEval(it, k)
		}
		return any
	case kNot:
		return !refEval(it, n.kids[0])
	case kAtLeast:
		return len(refOccs(it, n.kids[0])) >= n.n
	default:
		return len(refOccs(it, n)) > 0
	}
}

// refCollect gathers the occurrences that make a true node true: every
// positive part of an AND, the true branches of an OR, the words of a NEAR
// that lie inside a qualifying range, and nothing under NOT.
func refCollect(it *refItem, n *node) []refSpan {
	switch n.kind {
	case kAnd:
		var out []refSpan
		for _, k := range n.kids {
			out = append(out, refCollect(it, k)...)
		}
		return out
	case kOr:
		var out []refSpan
		for _, k := range n.kids {
			if refEval(it, k) {
				out = append(out, refCollect(it, k)...)
			}
		}
		return out
	case kNot:
		return nil
	case kAtLeast:
		return refCollect(it, n.kids[0])
	case kNear:
		ranges := refOccs(it, n)
		var out []refSpan
		for _, l := range refLeafOccs(it, n) {
			for _, r := range ranges {
				if l.f == r.f && l.s >= r.s && l.e <= r.e {
					out = append(out, l)
					break
				}
			}
		}
		return out
	default:
		return refOccs(it, n)
	}
}

func refLeafOccs(it *refItem, n *node) []refSpan {
	if n.kind == kSeq || n.kind == kPrefix {
		return refOccs(it, n)
	}
	var out []refSpan
	for _, k := range n.kids {
		out = append(out, refLeafOccs(it, k)...)
	}
	return out
}

// refMatch is the reference answer for a rule: whether it matches, and its
// spans as byte ranges, sorted, overlapping ones merged.
func refMatch(it *refItem, r *Rule) ([]Span, bool) {
	if !refEval(it, r.root) {
		return nil, false
	}
	var spans []Span
	for _, o := range refCollect(it, r.root) {
		toks := it.tokens(o.f)
		spans = append(spans, Span{o.f, int(toks[o.s].start), int(toks[o.e].end)})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].Field != spans[j].Field {
			return spans[i].Field < spans[j].Field
		}
		if spans[i].Start != spans[j].Start {
			return spans[i].Start < spans[j].Start
		}
		return spans[i].End < spans[j].End
	})
	var merged []Span
	for _, s := range spans {
		if k := len(merged); k > 0 && merged[k-1].Field == s.Field && s.Start < merged[k-1].End {
			merged[k-1].End = max(merged[k-1].End, s.End)
			continue
		}
		merged = append(merged, s)
	}
	return merged, true
}
