package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Rule is one compiled rule. It is immutable and safe for concurrent use.
type Rule struct {
	name, query string
	root        *node
	anchors     []anchor   // the index files the rule under these
	checks      [][]anchor // more clauses a candidate item must satisfy
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
		var e *Error
		if errors.As(err, &e) && p.mistyped != nil && p.mistyped.Col < e.Col {
			e.Msg += fmt.Sprintf(" (and at column %d: %s)", p.mistyped.Col, p.mistyped.Msg)
		}
		return nil, err
	}
	setScope(root, defaultScope)
	clauses, ok := clausesOf(root)
	if !ok {
		off := noPositive(root)
		return nil, p.errAt(off, "this rule has no word that must appear (only NOT terms, or an OR branch made only of NOT); it would match almost every item")
	}
	sortClauses(clauses)
	anchors := clauses[0]
	r := &Rule{name: name, query: query, root: root, anchors: anchors, checks: clauses[1:min(len(clauses), 1+maxChecks)], warnings: p.warnings}
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
// and OR without parentheses, operators written in the wrong case or shape
// (or, near/5, NEAR5, atleast(2, …), case(…)), each naming what to write,
// and very common anchors.
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

// tokMatch reports whether token i of field f has rule token k's form.
func tokMatch(a *Analyzed, f Field, i int32, k *token, m mode) bool {
	switch m {
	case modeStem:
		return a.stemOf(f, i) == k.stem
	case modeExact:
		return a.exactOf(f, i) == k.exact
	default:
		return a.casedOf(f, i) == k.cased
	}
}

// eval reports whether n matches a.
func eval(a *Analyzed, n *node) bool {
	switch n.kind {
	case kSeq:
		if len(n.units) == 1 && len(n.units[0].alts) == 1 && len(n.units[0].alts[0]) == 1 {
			k := &n.units[0].alts[0][0]
			for g := a.first(k, n.mode); g >= 0; g = a.next(g, n.mode) {
				o := a.occs[g]
				if n.scope.has(o.f) && (n.mode != modeCased || a.casedOf(o.f, o.i) == k.cased) {
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
		if c, ok := countSimple(a, n.kids[0], n.n); ok {
			return c >= n.n
		}
		if !eval(a, n.kids[0]) {
			return false
		}
		return len(occs(a, n.kids[0], false)) >= n.n
	}
	return false
}

// countSimple counts, up to limit, the occurrences of single words (or an
// OR of them) in scope without building their list. ok is false when n is
// not that simple, or when two branches could count one place twice.
func countSimple(a *Analyzed, n *node, limit int) (count int, ok bool) {
	var leaves [8]*node
	ls := leaves[:0]
	switch n.kind {
	case kSeq:
		ls = append(ls, n)
	case kOr:
		if len(n.kids) > len(leaves) {
			return 0, false
		}
		ls = append(ls, n.kids...)
	default:
		return 0, false
	}
	for i, l := range ls {
		if l.kind != kSeq || l.mode == modeCased || len(l.units) != 1 || len(l.units[0].alts) != 1 || len(l.units[0].alts[0]) != 1 {
			return 0, false
		}
		// Two branches matching the same word would count it twice.
		for _, o := range ls[:i] {
			if o.mode != l.mode || o.units[0].alts[0][0].exact == l.units[0].alts[0][0].exact || o.units[0].alts[0][0].stem == l.units[0].alts[0][0].stem {
				return 0, false
			}
		}
	}
	for _, l := range ls {
		k := &l.units[0].alts[0][0]
		for g := a.first(k, l.mode); g >= 0; g = a.next(g, l.mode) {
			if l.scope.has(a.occs[g].f) {
				count++
				if count >= limit {
					return count, true
				}
			}
		}
	}
	return count, true
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
	slices.SortFunc(s, func(x, y span3) int {
		if x.f != y.f {
			return int(x.f) - int(y.f)
		}
		if x.s != y.s {
			return int(x.s - y.s)
		}
		return int(x.e - y.e)
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
	multi := len(n.units[0].alts) > 1
	var seen map[occ]bool
	if multi {
		seen = map[occ]bool{}
	}
	var endsBuf, nextBuf [8]int32
	ends, next := endsBuf[:0], nextBuf[:0]
	for _, alt := range n.units[0].alts {
		k := &alt[0]
		for g := a.first(k, n.mode); g >= 0; g = a.next(g, n.mode) {
			o := a.occs[g]
			if !n.scope.has(o.f) {
				continue
			}
			if multi {
				if seen[o] {
					continue
				}
				seen[o] = true
			}
			toks := a.fields[o.f].toks
			ends = append(ends[:0], o.i)
			for _, u := range n.units {
				next = next[:0]
				for _, p := range ends {
					for _, alt := range u.alts {
						if e, ok := runAt(a, o.f, p, alt, n.mode); ok {
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

// runAt reports whether the tokens of alt occur at token p of field f,
// and where the run ends (exclusive).
func runAt(a *Analyzed, f Field, p int32, alt []token, m mode) (int32, bool) {
	if int(p)+len(alt) > len(a.fields[f].toks) {
		return 0, false
	}
	for j := range alt {
		if !tokMatch(a, f, p+int32(j), &alt[j], m) {
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
		for g := a.forms[a.lookup(keys[i])].exact; g >= 0; g = a.nextExact[g] {
			if o := a.occs[g]; n.scope.has(o.f) {
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
	slices.SortFunc(out, func(x, y Span) int {
		if x.Field != y.Field {
			return int(x.Field) - int(y.Field)
		}
		if x.Start != y.Start {
			return x.Start - y.Start
		}
		return x.End - y.End
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

// maxChecks bounds how many clauses beyond the anchor clause the index
// checks before evaluating a candidate rule.
const maxChecks = 3

type anchorKind uint8

const (
	anchorExact anchorKind = iota
	anchorStem
	anchorPrefix
)

// anchor is a term at least one of which occurs in every item a rule
// matches.
type anchor struct {
	kind  anchorKind
	key   string
	scope fieldMask // the fields the term must occur in
	// extra lists clauses that also hold whenever this term is why its
	// clause is satisfied (the other words of its phrase or AND branch).
	extra [][]anchor
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
	if !a.scope.has(FieldContent) {
		n += 3 // a term required in the title (say) is rarer than anywhere
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

func tokenAnchor(t *token, m mode, scope fieldMask) anchor {
	if m == modeStem {
		return anchor{kind: anchorStem, key: t.stem, scope: scope}
	}
	return anchor{kind: anchorExact, key: t.exact, scope: scope}
}

// clausesOf returns what every item n matches must contain, as clauses:
// each clause is a set of terms at least one of which occurs in the item.
// ok is false if n can match with no particular term (NOT x). For AND and
// NEAR every positive operand's clauses hold; for OR, one clause made of
// each branch's best clause; for a phrase, one clause per word.
func clausesOf(n *node) ([][]anchor, bool) {
	switch n.kind {
	case kSeq:
		var out [][]anchor
		for _, u := range n.units {
			var set []anchor
			for _, alt := range u.alts {
				var ba anchor
				bs := -1
				for i := range alt {
					an := tokenAnchor(&alt[i], n.mode, n.scope)
					if r := rarity(an); r > bs {
						ba, bs = an, r
					}
				}
				set = appendAnchor(set, ba)
			}
			out = appendClause(out, set)
		}
		return out, len(out) > 0
	case kPrefix:
		return [][]anchor{{{kind: anchorPrefix, key: n.prefix, scope: n.scope}}}, true
	case kAnd, kNear:
		var out [][]anchor
		for _, k := range n.kids {
			cs, ok := clausesOf(k)
			if !ok {
				continue
			}
			for _, c := range cs {
				out = appendClause(out, c)
			}
		}
		return out, len(out) > 0
	case kOr:
		// One clause: the best clause of each branch. Each of its terms
		// carries the branch's other clauses as extras: if the branch is
		// why the rule matches, those hold too.
		var all []anchor
		for _, k := range n.kids {
			cs, ok := clausesOf(k)
			if !ok {
				return nil, false
			}
			sortClauses(cs)
			for _, a := range cs[0] {
				a.extra = append(append([][]anchor(nil), a.extra...), cs[1:]...)
				if len(a.extra) > maxChecks {
					a.extra = a.extra[:maxChecks]
				}
				all = appendAnchor(all, a)
			}
		}
		return [][]anchor{all}, true
	case kAtLeast:
		return clausesOf(n.kids[0])
	}
	return nil, false
}

// anchorsOf returns n's most selective clause.
func anchorsOf(n *node) ([]anchor, bool) {
	cs, ok := clausesOf(n)
	if !ok {
		return nil, false
	}
	sortClauses(cs)
	return cs[0], true
}

// sortClauses orders clauses from the most to the least selective.
func sortClauses(cs [][]anchor) {
	sort.SliceStable(cs, func(i, j int) bool {
		si, sj := setScore(cs[i]), setScore(cs[j])
		if si != sj {
			return si > sj
		}
		return len(cs[i]) < len(cs[j])
	})
}

func appendClause(cs [][]anchor, c []anchor) [][]anchor {
	for _, x := range cs {
		if len(x) == len(c) {
			same := true
			for _, a := range c {
				if !slices.ContainsFunc(x, func(b anchor) bool { return b.kind == a.kind && b.key == a.key && b.scope == a.scope }) {
					same = false
					break
				}
			}
			if same {
				return cs
			}
		}
	}
	return append(cs, c)
}

// appendAnchor adds a term to a clause; the same term twice is kept once,
// with the union of its scopes.
func appendAnchor(s []anchor, a anchor) []anchor {
	for i, x := range s {
		if x.kind == a.kind && x.key == a.key {
			s[i].scope |= a.scope
			s[i].extra = nil // matched by either way: only the term itself is sure
			return s
		}
	}
	return append(s, a)
}
