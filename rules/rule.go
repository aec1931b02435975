package rules

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Rule is one compiled rule. It is immutable and safe for concurrent use.
type Rule struct {
	name, query string
	root        *node
	anchors     []anchor
	warnings    []Diagnostic
}

// Span is a matched place: byte offsets into a.Text(Field).
type Span struct {
	Field      Field
	Start, End int
}

// Compile parses and checks one rule. A non-nil error is an *Error naming
// the rule and the column of the problem.
func Compile(name, query string) (*Rule, error) {
	p := &parser{name: name, q: query, norm: newNormalizer()}
	if len(query) > maxQueryLen {
		return nil, p.errAt(maxQueryLen, "rule is too long (more than %d bytes)", maxQueryLen)
	}
	if !utf8.ValidString(query) {
		for i := 0; i < len(query); {
			r, size := utf8.DecodeRuneInString(query[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, p.errAt(i, "rule is not valid UTF-8 text")
			}
			i += size
		}
	}
	root, err := p.parse()
	if err != nil {
		return nil, err
	}
	setScope(root, defaultScope)
	anchors, ok := anchorsOf(root)
	if !ok {
		off := noPositive(root)
		return nil, p.errAt(off, "this rule has no word that must appear (only NOT terms, or an OR branch made only of NOT); it would match almost every item")
	}
	r := &Rule{name: name, query: query, root: root, anchors: anchors, warnings: p.warnings}
	allCommon := true
	for _, a := range anchors {
		if a.kind == anchorPrefix || !isCommon(a.key) {
			allCommon = false
			break
		}
	}
	if allCommon {
		r.warnings = append(r.warnings, Diagnostic{Rule: name, Col: 1, Msg: "every word this rule requires (" + anchorList(anchors) + ") is very common, so it will fire on most items; add a rarer word that must appear"})
	}
	for _, a := range anchors {
		if a.kind != anchorPrefix && isCommon(a.key) && !allCommon {
			r.warnings = append(r.warnings, Diagnostic{Rule: name, Col: 1, Msg: "\"" + a.key + "\" is a very common word and one of this rule's alternatives on its own; the rule will be checked against most items"})
			break
		}
	}
	return r, nil
}

func anchorList(as []anchor) string {
	var ks []string
	for _, a := range as {
		ks = append(ks, "\""+a.key+"\"")
	}
	return strings.Join(ks, ", ")
}

// noPositive returns the offset of the part of a rule that has no
// positive term, for the error message.
func noPositive(n *node) int {
	switch n.kind {
	case kOr:
		for _, k := range n.kids {
			if _, ok := anchorsOf(k); !ok {
				return noPositive(k)
			}
		}
	case kAnd:
		return n.off
	}
	return n.off
}

// Name returns the rule's name.
func (r *Rule) Name() string { return r.name }

// Query returns the rule's text as written.
func (r *Rule) Query() string { return r.query }

// Warnings returns what `check` should tell the rule's author: mixed AND
// and OR without parentheses, lowercase operators, very common anchors.
func (r *Rule) Warnings() []Diagnostic { return append([]Diagnostic(nil), r.warnings...) }

// Match evaluates this one rule against an analysed item and returns the
// spans of the words that made it match.
func (r *Rule) Match(a *Analyzed) ([]Span, bool) {
	if a == nil || !eval(a, r.root) {
		return nil, false
	}
	var sp []span3
	collect(a, r.root, &sp)
	return toSpans(a, sp), true
}

// --- evaluation ---

// span3 is an occurrence: token indexes s..e (inclusive) in field f.
type span3 struct {
	f    Field
	s, e int32
}

func tokMatch(t *token, k *token, m mode) bool {
	switch m {
	case modeStem:
		return t.stem == k.stem
	case modeExact:
		return t.exact == k.exact
	default:
		return t.cased == k.cased
	}
}

func (a *Analyzed) postings(k *token, m mode) []occ {
	if m == modeStem {
		return a.stem[k.stem]
	}
	return a.exact[k.exact]
}

// eval reports whether n matches a.
func eval(a *Analyzed, n *node) bool {
	switch n.kind {
	case kSeq:
		if len(n.units) == 1 && len(n.units[0].alts) == 1 && len(n.units[0].alts[0]) == 1 {
			k := &n.units[0].alts[0][0]
			for _, o := range a.postings(k, n.mode) {
				if n.scope.has(o.f) && (n.mode != modeCased || a.fields[o.f].toks[o.i].cased == k.cased) {
					return true
				}
			}
			return false
		}
		return len(seqOccs(a, n, true)) > 0
	case kPrefix:
		return len(prefixOccs(a, n, true)) > 0
	case kAnd:
		for _, k := range n.kids {
			if !eval(a, k) {
				return false
			}
		}
		return true
	case kOr:
		for _, k := range n.kids {
			if eval(a, k) {
				return true
			}
		}
		return false
	case kNot:
		return !eval(a, n.kids[0])
	case kNear:
		return len(occs(a, n, true)) > 0
	case kAtLeast:
		if !eval(a, n.kids[0]) {
			return false
		}
		return len(occs(a, n.kids[0], false)) >= n.n
	}
	return false
}

// occs returns the occurrences of a positional node; with first, it may
// stop after finding one.
func occs(a *Analyzed, n *node, first bool) []span3 {
	switch n.kind {
	case kSeq:
		return seqOccs(a, n, first)
	case kPrefix:
		return prefixOccs(a, n, first)
	case kOr:
		var out []span3
		for _, k := range n.kids {
			out = append(out, occs(a, k, first)...)
			if first && len(out) > 0 {
				return out
			}
		}
		return dedupe(out)
	case kNear:
		l := occs(a, n.kids[0], false)
		if len(l) == 0 {
			return nil
		}
		r := occs(a, n.kids[1], false)
		var out []span3
		for _, x := range l {
			tx := a.fields[x.f].toks
			for _, y := range r {
				if x.f != y.f {
					continue
				}
				var gap int32
				switch {
				case x.e < y.s:
					gap = tx[y.s].pos - tx[x.e].pos - 1
				case y.e < x.s && !n.ordered:
					gap = tx[x.s].pos - tx[y.e].pos - 1
				default:
					continue
				}
				if gap > int32(n.n) {
					continue
				}
				out = append(out, span3{x.f, min(x.s, y.s), max(x.e, y.e)})
				if first {
					return out
				}
			}
		}
		return dedupe(out)
	}
	return nil
}

func dedupe(s []span3) []span3 {
	if len(s) < 2 {
		return s
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].f != s[j].f {
			return s[i].f < s[j].f
		}
		if s[i].s != s[j].s {
			return s[i].s < s[j].s
		}
		return s[i].e < s[j].e
	})
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// seqOccs finds a word or phrase: each unit in turn at consecutive
// positions, trying every alternative of a unit.
func seqOccs(a *Analyzed, n *node, first bool) []span3 {
	var out []span3
	seen := map[occ]bool{}
	var ends, next []int32
	for _, alt := range n.units[0].alts {
		k := &alt[0]
		for _, o := range a.postings(k, n.mode) {
			if !n.scope.has(o.f) || seen[o] {
				continue
			}
			seen[o] = true
			toks := a.fields[o.f].toks
			ends = append(ends[:0], o.i)
			for _, u := range n.units {
				next = next[:0]
				for _, p := range ends {
					for _, alt := range u.alts {
						if e, ok := runAt(toks, p, alt, n.mode); ok {
							next = appendUnique(next, e)
						}
					}
				}
				ends, next = next, ends
				if len(ends) == 0 {
					break
				}
			}
			for _, e := range ends {
				last := e - 1
				if toks[last].pos-toks[o.i].pos != last-o.i {
					continue // crosses a category boundary
				}
				out = append(out, span3{o.f, o.i, last})
				if first {
					return out
				}
			}
		}
	}
	return dedupe(out)
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// runAt reports whether the tokens of alt occur at toks[p:], and where
// the run ends (exclusive).
func runAt(toks []token, p int32, alt []token, m mode) (int32, bool) {
	if int(p)+len(alt) > len(toks) {
		return 0, false
	}
	for j := range alt {
		if !tokMatch(&toks[int(p)+j], &alt[j], m) {
			return 0, false
		}
	}
	return p + int32(len(alt)), true
}

func prefixOccs(a *Analyzed, n *node, first bool) []span3 {
	keys := a.sortedKeys()
	i := sort.SearchStrings(keys, n.prefix)
	var out []span3
	for ; i < len(keys) && strings.HasPrefix(keys[i], n.prefix); i++ {
		for _, o := range a.exact[keys[i]] {
			if n.scope.has(o.f) {
				out = append(out, span3{o.f, o.i, o.i})
				if first {
					return out
				}
			}
		}
	}
	return dedupe(out)
}

// collect appends the occurrences that made a matching node match.
func collect(a *Analyzed, n *node, out *[]span3) {
	switch n.kind {
	case kSeq, kPrefix:
		*out = append(*out, occs(a, n, false)...)
	case kAnd:
		for _, k := range n.kids {
			collect(a, k, out)
		}
	case kOr:
		for _, k := range n.kids {
			if eval(a, k) {
				collect(a, k, out)
			}
		}
	case kNot:
	case kNear:
		ranges := occs(a, n, false)
		var leaves []span3
		collectLeaves(a, n, &leaves)
		for _, l := range leaves {
			for _, r := range ranges {
				if l.f == r.f && l.s >= r.s && l.e <= r.e {
					*out = append(*out, l)
					break
				}
			}
		}
	case kAtLeast:
		collect(a, n.kids[0], out)
	}
}

func collectLeaves(a *Analyzed, n *node, out *[]span3) {
	switch n.kind {
	case kSeq, kPrefix:
		*out = append(*out, occs(a, n, false)...)
	default:
		for _, k := range n.kids {
			collectLeaves(a, k, out)
		}
	}
}

// toSpans turns token occurrences into byte spans, sorted, with
// overlapping spans merged.
func toSpans(a *Analyzed, sp []span3) []Span {
	out := make([]Span, 0, len(sp))
	for _, x := range sp {
		toks := a.fields[x.f].toks
		out = append(out, Span{Field: x.f, Start: int(toks[x.s].start), End: int(toks[x.e].end)})
	}
	return mergeSpans(out)
}

func mergeSpans(out []Span) []Span {
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && merged[n-1].Field == s.Field && s.Start < merged[n-1].End {
			if s.End > merged[n-1].End {
				merged[n-1].End = s.End
			}
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// --- anchors ---

type anchorKind uint8

const (
	anchorExact anchorKind = iota
	anchorStem
	anchorPrefix
)

// anchor is a term at least one of which occurs in every item a rule
// matches.
type anchor struct {
	kind anchorKind
	key  string
}

// rarity scores how selective an anchor is likely to be; higher is rarer.
func rarity(a anchor) int {
	n := utf8.RuneCountInString(a.key)
	switch {
	case a.kind == anchorPrefix:
		return n // a prefix covers many words
	case isCommon(a.key):
		return 0
	}
	if n > 12 {
		n = 12
	}
	return 4 + n
}

// setScore is the rarity of the least rare anchor of a set.
func setScore(as []anchor) int {
	s := 1 << 30
	for _, a := range as {
		s = min(s, rarity(a))
	}
	return s
}

func tokenAnchor(t *token, m mode) anchor {
	if m == modeStem {
		return anchor{anchorStem, t.stem}
	}
	return anchor{anchorExact, t.exact}
}

// anchorsOf returns a set of terms of which at least one occurs in every
// item n matches, choosing rare terms; ok is false if there is none (the
// node can match without any particular term, such as NOT x).
func anchorsOf(n *node) ([]anchor, bool) {
	switch n.kind {
	case kSeq:
		var best []anchor
		bestScore := -1
		for _, u := range n.units {
			var set []anchor
			for _, alt := range u.alts {
				var ba anchor
				bs := -1
				for i := range alt {
					an := tokenAnchor(&alt[i], n.mode)
					if r := rarity(an); r > bs {
						ba, bs = an, r
					}
				}
				set = appendAnchor(set, ba)
			}
			if s := setScore(set); s > bestScore || (s == bestScore && len(set) < len(best)) {
				best, bestScore = set, s
			}
		}
		return best, len(best) > 0
	case kPrefix:
		return []anchor{{anchorPrefix, n.prefix}}, true
	case kAnd, kNear:
		var best []anchor
		bestScore := -1
		for _, k := range n.kids {
			set, ok := anchorsOf(k)
			if !ok {
				continue
			}
			if s := setScore(set); s > bestScore || (s == bestScore && len(set) < len(best)) {
				best, bestScore = set, s
			}
		}
		return best, best != nil
	case kOr:
		var all []anchor
		for _, k := range n.kids {
			set, ok := anchorsOf(k)
			if !ok {
				return nil, false
			}
			for _, a := range set {
				all = appendAnchor(all, a)
			}
		}
		return all, true
	case kAtLeast:
		return anchorsOf(n.kids[0])
	}
	return nil, false
}

func appendAnchor(s []anchor, a anchor) []anchor {
	for _, x := range s {
		if x == a {
			return s
		}
	}
	return append(s, a)
}
