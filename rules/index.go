package rules

import (
	"slices"
	"sync"
)

// Index matches an item against many rules at once, in the manner of
// Lucene's Monitor and the Elasticsearch percolator: the rules are indexed,
// not the items.
//
// Compiling a rule yields clauses that any item it matches must satisfy
// (each clause a set of terms, one of which must occur). The index files
// each rule under the terms of its most selective clause. To match an item
// it looks up the item's distinct terms, which marks the terms present and
// gathers the candidate rules; a candidate whose other clauses are not
// satisfied by the marked terms is dropped without evaluation; only the
// rest are evaluated on the item's word positions.
//
// An Index is immutable once built and safe for concurrent use: callers
// build a new one when rules change and swap it atomically.
type Index struct {
	rules []*Rule

	// Term dictionary: every term any rule's clauses use; a string has up to
	// three term ids: as an exact form, a stem and a prefix (-1: not used).
	dict       map[string]termIDs
	prefixLens []int       // distinct byte lengths of prefix terms
	prefixHead []uint64    // bitset of hashed first 3 bytes of prefix terms
	postings   [][]posting // term id -> rules anchored on it
	checks     [][]clause  // rule -> its other clauses
	nterms     int

	scratch sync.Pool
}

// Match is one rule that matched an item, with the spans that made it match.
type Match struct {
	Rule  *Rule
	Spans []Span
}

type termIDs [3]int32 // indexed by anchorKind

// posting files a rule under a term, in the fields the rule needs it in.
type posting struct {
	rule  int32
	scope fieldMask
	extra []clause // clauses that must also hold for this posting to count
}

// clause is satisfied if one of its terms occurs in its fields.
type clause []posting // posting.rule holds a term id here

type scratch struct {
	termStamp []uint32
	termMask  []fieldMask // fields a marked term occurs in
	marked    []int32
	ruleStamp []uint32
	gen       uint32
	cands     []int32
}

// NewIndex builds an index over rules. Nil rules are skipped.
func NewIndex(rules []*Rule) *Index {
	ix := &Index{dict: map[string]termIDs{}}
	id := func(a anchor) int32 {
		ids, ok := ix.dict[a.key]
		if !ok {
			ids = termIDs{-1, -1, -1}
		}
		if ids[a.kind] < 0 {
			ids[a.kind] = int32(ix.nterms)
			ix.nterms++
			ix.dict[a.key] = ids
			ix.postings = append(ix.postings, nil)
			if a.kind == anchorPrefix {
				if !slices.Contains(ix.prefixLens, len(a.key)) {
					ix.prefixLens = append(ix.prefixLens, len(a.key))
				}
				if ix.prefixHead == nil {
					ix.prefixHead = make([]uint64, prefixHeadBits/64)
				}
				h := headHash(a.key)
				ix.prefixHead[h/64] |= 1 << (h % 64)
			}
		}
		return ids[a.kind]
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		rid := int32(len(ix.rules))
		ix.rules = append(ix.rules, r)
		toClauses := func(cs [][]anchor) []clause {
			var out []clause
			for _, c := range cs {
				var cl clause
				for _, a := range c {
					cl = append(cl, posting{rule: id(a), scope: a.scope})
				}
				out = append(out, cl)
			}
			return out
		}
		for _, a := range r.anchors {
			t := id(a)
			ix.postings[t] = append(ix.postings[t], posting{rule: rid, scope: a.scope, extra: toClauses(a.extra)})
		}
		ix.checks = append(ix.checks, toClauses(r.checks))
	}
	slices.Sort(ix.prefixLens)
	nrules, nterms := len(ix.rules), ix.nterms
	ix.scratch.New = func() any {
		return &scratch{termStamp: make([]uint32, nterms), termMask: make([]fieldMask, nterms), ruleStamp: make([]uint32, nrules)}
	}
	return ix
}

// Len returns the number of rules in the index.
func (ix *Index) Len() int { return len(ix.rules) }

// Match returns the rules that match a, in the order they were given to
// NewIndex, each with its spans.
func (ix *Index) Match(a *Analyzed) []Match {
	if ix == nil || a == nil || len(ix.rules) == 0 {
		return nil
	}
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.gen++
	if sc.gen == 0 {
		clear(sc.termStamp)
		clear(sc.ruleStamp)
		sc.gen = 1
	}
	gen := sc.gen
	marked := sc.marked[:0]
	// Mark the terms of the item that some rule uses, with the fields they
	// occur in.
	mark := func(t int32, m fieldMask) {
		if sc.termStamp[t] != gen {
			sc.termStamp[t] = gen
			sc.termMask[t] = 0
			marked = append(marked, t)
		}
		sc.termMask[t] |= m
	}
	for k, h := range a.forms {
		ids, ok := ix.dict[k]
		if ok && ids[anchorStem] >= 0 && h.stem >= 0 {
			var m fieldMask
			for g := h.stem; g >= 0; g = a.nextStem[g] {
				m |= 1 << a.occs[g].f
			}
			mark(ids[anchorStem], m)
		}
		if h.exact < 0 {
			continue
		}
		var m fieldMask
		fields := func() fieldMask {
			if m == 0 {
				for g := h.exact; g >= 0; g = a.nextExact[g] {
					m |= 1 << a.occs[g].f
				}
			}
			return m
		}
		if ok && ids[anchorExact] >= 0 {
			mark(ids[anchorExact], fields())
		}
		if len(ix.prefixLens) == 0 || len(k) < ix.prefixLens[0] {
			continue
		}
		if h := headHash(k); ix.prefixHead[h/64]&(1<<(h%64)) == 0 {
			continue // no prefix term starts like this word
		}
		for _, l := range ix.prefixLens {
			if l > len(k) {
				break
			}
			if p, ok := ix.dict[k[:l]]; ok && p[anchorPrefix] >= 0 {
				mark(p[anchorPrefix], fields())
			}
		}
	}
	sc.marked = marked
	// Candidates: rules filed under a marked term in the right fields,
	// whose other clauses the marked terms satisfy.
	cands := sc.cands[:0]
	for _, t := range marked {
		m := sc.termMask[t]
		for i := range ix.postings[t] {
			p := &ix.postings[t][i]
			if p.scope&m == 0 || sc.ruleStamp[p.rule] == gen || !satisfied(p.extra, sc) {
				continue
			}
			sc.ruleStamp[p.rule] = gen
			if satisfied(ix.checks[p.rule], sc) {
				cands = append(cands, p.rule)
			}
		}
	}
	kept := cands
	slices.Sort(kept)
	sc.cands = kept
	var out []Match
	for _, id := range kept {
		r := ix.rules[id]
		if spans, ok := r.Match(a); ok {
			out = append(out, Match{Rule: r, Spans: spans})
		}
	}
	return out
}

// satisfied reports whether the marked terms satisfy every clause.
func satisfied(cs []clause, sc *scratch) bool {
	for _, c := range cs {
		ok := false
		for _, t := range c {
			if sc.termStamp[t.rule] == sc.gen && sc.termMask[t.rule]&t.scope != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

const prefixHeadBits = 1 << 16

// headHash hashes the first 3 bytes of a string (every prefix term has at
// least 3 letters) to a bit of the prefix filter.
func headHash(s string) uint32 {
	return (uint32(s[0])*0x9E3779B1 ^ uint32(s[1])*0x85EBCA77 ^ uint32(s[2])*0xC2B2AE3D) % prefixHeadBits
}
