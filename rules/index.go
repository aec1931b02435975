package rules

import (
	"slices"
	"sync"
)

// Index matches an item against many rules at once. Each rule is filed
// under its anchor terms; matching an item looks up the item's distinct
// terms and evaluates only the rules filed under them. An Index is
// immutable once built and safe for concurrent use: callers build a new one
// when rules change and swap it atomically.
type Index struct {
	rules      []*Rule
	exact      map[string][]int32
	stem       map[string][]int32
	prefix     map[string][]int32
	prefixLens []int // distinct byte lengths of prefix anchors
	scratch    sync.Pool
}

// Match is one rule that matched an item, with the spans that made it match.
type Match struct {
	Rule  *Rule
	Spans []Span
}

type scratch struct {
	stamp []uint32
	gen   uint32
	cands []int32
}

// NewIndex builds an index over rules. Nil rules are skipped.
func NewIndex(rules []*Rule) *Index {
	ix := &Index{
		exact:  map[string][]int32{},
		stem:   map[string][]int32{},
		prefix: map[string][]int32{},
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		id := int32(len(ix.rules))
		ix.rules = append(ix.rules, r)
		for _, a := range r.anchors {
			switch a.kind {
			case anchorExact:
				ix.exact[a.key] = append(ix.exact[a.key], id)
			case anchorStem:
				ix.stem[a.key] = append(ix.stem[a.key], id)
			case anchorPrefix:
				ix.prefix[a.key] = append(ix.prefix[a.key], id)
				if !slices.Contains(ix.prefixLens, len(a.key)) {
					ix.prefixLens = append(ix.prefixLens, len(a.key))
				}
			}
		}
	}
	slices.Sort(ix.prefixLens)
	n := len(ix.rules)
	ix.scratch.New = func() any { return &scratch{stamp: make([]uint32, n)} }
	return ix
}

// Len returns the number of rules in the index.
func (ix *Index) Len() int { return len(ix.rules) }

// Match returns the rules that match a, in the order they were given to
// NewIndex.
func (ix *Index) Match(a *Analyzed) []Match {
	if ix == nil || a == nil || len(ix.rules) == 0 {
		return nil
	}
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.gen++
	if sc.gen == 0 {
		clear(sc.stamp)
		sc.gen = 1
	}
	gen := sc.gen
	cands := sc.cands[:0]
	add := func(ids []int32) {
		for _, id := range ids {
			if sc.stamp[id] != gen {
				sc.stamp[id] = gen
				cands = append(cands, id)
			}
		}
	}
	if len(ix.exact) > 0 || len(ix.prefixLens) > 0 {
		for k := range a.exact {
			if ids, ok := ix.exact[k]; ok {
				add(ids)
			}
			for _, l := range ix.prefixLens {
				if l > len(k) {
					break
				}
				if ids, ok := ix.prefix[k[:l]]; ok {
					add(ids)
				}
			}
		}
	}
	if len(ix.stem) > 0 {
		for k := range a.stem {
			if ids, ok := ix.stem[k]; ok {
				add(ids)
			}
		}
	}
	slices.Sort(cands)
	sc.cands = cands
	var out []Match
	for _, id := range cands {
		r := ix.rules[id]
		if spans, ok := r.Match(a); ok {
			out = append(out, Match{Rule: r, Spans: spans})
		}
	}
	return out
}
