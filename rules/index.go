package rules

import (
	"hash/maphash"
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
// it looks up the item's distinct terms once, which marks the terms present
// (with the fields they occur in) and gathers the candidate rules; a
// candidate whose other clauses are not satisfied by the marked terms is
// dropped without evaluation; only the rest are evaluated.
//
// Evaluation runs on a flat copy of every rule's tree kept in one array in
// rule order (a program): AND, OR and NOT nodes, and single words and
// wildcards as interned term ids whose presence was marked once per item,
// so that most of a candidate is decided by comparing integers in
// contiguous memory. Phrases, NEAR, ATLEAST and CASE() are evaluated on the
// item's word positions by the rule's own tree.
//
// An Index is immutable once built and safe for concurrent use: callers
// build a new one when rules change and swap it atomically.
type Index struct {
	rules []*Rule

	// Term dictionary: every term any rule's clauses or program use; a
	// string has up to three term ids: as an exact form, a stem and a
	// prefix (-1: not used).
	dict       map[string]termIDs // while building; then the table below
	dictSlots  []int32            // open addressing by maphash(formSeed): entry index + 1
	dictTerms  []dictEntry
	prefixLens []int    // distinct byte lengths of prefix terms
	prefixHead []uint64 // bitset of hashed first 3 bytes of prefix terms
	prefixBits []uint64 // Bloom filter of prefix terms (prefixHash)
	nterms     int

	// Postings: postings[postOff[t]:postOff[t+1]] are the rules anchored
	// on term t.
	postOff  []int32
	postings []posting

	// Clause lists, flat: a list at offset o is code[o] clauses, each a
	// count of terms followed by that many (term id << 8 | field mask).
	// Offset 0 is the empty list.
	code   []uint32
	checks []int32 // rule -> offset of its other clauses in code

	// Programs: rule r's program starts at progStart[r]; nodes[i] is the
	// syntax tree node instruction i was made from.
	prog      []instr
	nodes     []*node
	progStart []int32

	scratch sync.Pool
}

// Match is one rule that matched an item, with the spans that made it match.
type Match struct {
	Rule  *Rule
	Spans []Span
}

type termIDs [3]int32 // indexed by anchorKind

// dictEntry is a term of the dictionary table, with the hash Analyze also
// gives each form of an item, so that looking a form up hashes nothing.
type dictEntry struct {
	hash uint64
	key  string
	ids  termIDs
}

// buildDict moves the dictionary map into the table.
func (ix *Index) buildDict() {
	size := 16
	for size < 2*len(ix.dict) {
		size *= 2
	}
	ix.dictSlots = make([]int32, size)
	ix.dictTerms = make([]dictEntry, 0, len(ix.dict))
	mask := uint64(size - 1)
	for k, ids := range ix.dict {
		h := maphash.String(formSeed, k)
		i := h & mask
		for ix.dictSlots[i] != 0 {
			i = (i + 1) & mask
		}
		ix.dictTerms = append(ix.dictTerms, dictEntry{h, k, ids})
		ix.dictSlots[i] = int32(len(ix.dictTerms))
	}
	ix.dict = nil
}

// lookup returns the term ids of a string whose hash is h.
func (ix *Index) lookup(k string, h uint64) (termIDs, bool) {
	mask := uint64(len(ix.dictSlots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := ix.dictSlots[i]
		if s == 0 {
			return termIDs{}, false
		}
		if e := &ix.dictTerms[s-1]; e.hash == h && e.key == k {
			return e.ids, true
		}
	}
}

// posting files a rule under a term, in the fields the rule needs it in.
type posting struct {
	rule  int32
	extra int32 // offset in code of clauses that must also hold (0: none)
	scope fieldMask
}

type opcode uint8

const (
	opTerm opcode = iota // a single word or a wildcard: a marked term
	opAnd
	opOr
	opNot
	opPhrase  // a phrase of plain words: its word terms follow, one per word
	opAtLeast // ATLEAST(n, words): its word terms follow; term holds n
	opTree    // anything else positional: evaluated on the tree node, if the
	// marked terms satisfy its clauses (at offset term in code)
)

// instr is one node of a rule's flat program. Its children follow it;
// skip is the index just past its subtree.
type instr struct {
	op    opcode
	scope fieldMask
	mode  mode
	term  int32
	skip  int32
}

// pfxHit is a form of the item that starts with a prefix term.
type pfxHit struct{ term, form int32 }

type scratch struct {
	termStamp []uint32
	termMask  []fieldMask // fields a marked term occurs in
	termHead  []int32     // first occurrence of a marked word term
	marked    []int32
	ruleStamp []uint32
	gen       uint32
	cands     []int32
	occs      []span3
	pfx       []pfxHit // the item's forms each marked prefix term matched
}

// termKind returns the term a node stands for when it is a single word
// (not CASE) or a wildcard.
func termKind(n *node) (anchor, bool) {
	switch n.kind {
	case kPrefix:
		return anchor{kind: anchorPrefix, key: n.prefix}, true
	case kSeq:
		if n.mode != modeCased && len(n.units) == 1 && len(n.units[0].alts) == 1 && len(n.units[0].alts[0]) == 1 {
			return tokenAnchor(&n.units[0].alts[0][0], n.mode, n.scope), true
		}
	}
	return anchor{}, false
}

// plainPhrase returns the words of a phrase whose every word has one
// form (no hyphen alternatives), not CASE(), or nil.
func plainPhrase(n *node) []*token {
	if n.kind != kSeq || n.mode == modeCased || len(n.units) < 2 || len(n.units) > 8 {
		return nil
	}
	var ws []*token
	for _, u := range n.units {
		if len(u.alts) != 1 || len(u.alts[0]) != 1 {
			return nil
		}
		ws = append(ws, &u.alts[0][0])
	}
	return ws
}

// simpleCount returns the leaves of an ATLEAST whose operand countSimple
// can count (single words, or an OR of distinct ones), or nil.
func simpleCount(n *node) []*node {
	if n.kind != kAtLeast {
		return nil
	}
	k := n.kids[0]
	ls := []*node{k}
	if k.kind == kOr {
		if len(k.kids) > 8 {
			return nil
		}
		ls = k.kids
	} else if k.kind != kSeq {
		return nil
	}
	for i, l := range ls {
		if _, ok := termKind(l); !ok || l.kind != kSeq {
			return nil
		}
		for _, o := range ls[:i] {
			if o.mode != l.mode || o.units[0].alts[0][0].exact == l.units[0].alts[0][0].exact || o.units[0].alts[0][0].stem == l.units[0].alts[0][0].stem {
				return nil
			}
		}
	}
	return ls
}

// NewIndex builds an index over rules. Nil rules are skipped.
func NewIndex(rules []*Rule) *Index {
	ix := &Index{dict: map[string]termIDs{}, code: []uint32{0}}
	id := func(a anchor) int32 {
		ids, ok := ix.dict[a.key]
		if !ok {
			ids = termIDs{-1, -1, -1}
		}
		if ids[a.kind] < 0 {
			ids[a.kind] = int32(ix.nterms)
			ix.nterms++
			ix.dict[a.key] = ids
			if a.kind == anchorPrefix {
				if !slices.Contains(ix.prefixLens, len(a.key)) {
					ix.prefixLens = append(ix.prefixLens, len(a.key))
				}
				if ix.prefixHead == nil {
					ix.prefixHead = make([]uint64, prefixHeadBits/64)
				}
				hh := headHash(a.key)
				ix.prefixHead[hh/64] |= 1 << (hh % 64)
				if ix.prefixBits == nil {
					ix.prefixBits = make([]uint64, 1<<prefixBitsLog/64)
				}
				h := prefixHash(a.key) >> (64 - prefixBitsLog)
				ix.prefixBits[h/64] |= 1 << (h % 64)
			}
		}
		return ids[a.kind]
	}
	toCode := func(cs [][]anchor) int32 {
		if len(cs) == 0 {
			return 0
		}
		off := int32(len(ix.code))
		ix.code = append(ix.code, uint32(len(cs)))
		for _, c := range cs {
			ix.code = append(ix.code, uint32(len(c)))
			for _, a := range c {
				ix.code = append(ix.code, uint32(id(a))<<8|uint32(a.scope))
			}
		}
		return off
	}
	type filed struct {
		term int32
		p    posting
	}
	var files []filed
	var compile func(n *node)
	compile = func(n *node) {
		i := len(ix.prog)
		ix.prog = append(ix.prog, instr{})
		ix.nodes = append(ix.nodes, n)
		in := instr{scope: n.scope, mode: n.mode}
		if a, ok := termKind(n); ok {
			in.op, in.term = opTerm, id(a)
		} else if words := plainPhrase(n); words != nil {
			in.op = opPhrase
			for _, w := range words {
				ix.prog = append(ix.prog, instr{op: opTerm, scope: n.scope, mode: n.mode, term: id(tokenAnchor(w, n.mode, n.scope))})
				ix.nodes = append(ix.nodes, n)
			}
		} else if leaves := simpleCount(n); leaves != nil {
			in.op, in.term = opAtLeast, int32(n.n)
			for _, l := range leaves {
				compile(l)
			}
		} else {
			switch n.kind {
			case kAnd:
				in.op = opAnd
			case kOr:
				in.op = opOr
			case kNot:
				in.op = opNot
			default:
				in.op = opTree
			}
			if in.op != opTree {
				for _, k := range n.kids {
					compile(k)
				}
			} else if cs, ok := clausesOf(n); ok {
				// What any match of the node needs: checked on the
				// marked terms before the node is evaluated on positions.
				in.term = toCode(cs)
			}
		}
		in.skip = int32(len(ix.prog))
		ix.prog[i] = in
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		rid := int32(len(ix.rules))
		ix.rules = append(ix.rules, r)
		for _, a := range r.anchors {
			files = append(files, filed{id(a), posting{rule: rid, scope: a.scope, extra: toCode(a.extra)}})
		}
		ix.checks = append(ix.checks, toCode(r.checks))
		ix.progStart = append(ix.progStart, int32(len(ix.prog)))
		compile(r.root)
	}
	// Postings, grouped by term, each group in rule order.
	ix.postOff = make([]int32, ix.nterms+1)
	for _, f := range files {
		ix.postOff[f.term+1]++
	}
	for t := 0; t < ix.nterms; t++ {
		ix.postOff[t+1] += ix.postOff[t]
	}
	ix.postings = make([]posting, len(files))
	fill := slices.Clone(ix.postOff[:ix.nterms])
	for _, f := range files {
		ix.postings[fill[f.term]] = f.p
		fill[f.term]++
	}
	slices.Sort(ix.prefixLens)
	ix.buildDict()
	nrules, nterms := len(ix.rules), ix.nterms
	ix.scratch.New = func() any {
		return &scratch{termStamp: make([]uint32, nterms), termMask: make([]fieldMask, nterms), termHead: make([]int32, nterms), ruleStamp: make([]uint32, nrules)}
	}
	return ix
}

// Len returns the number of rules in the index.
func (ix *Index) Len() int { return len(ix.rules) }

// Match returns the rules that match a, in the order they were given to
// NewIndex, each with its spans.
func (ix *Index) Match(a *Analyzed) []Match { return ix.match(a, false) }

// match is Match; with all, it evaluates every rule rather than the
// candidates.
func (ix *Index) match(a *Analyzed, all bool) []Match {
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
	sc.pfx = sc.pfx[:0]
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
	for fi := range a.forms {
		fm := &a.forms[fi]
		k := fm.key
		ids, ok := ix.lookup(k, fm.hash)
		if ok && ids[anchorStem] >= 0 && fm.stem >= 0 {
			mark(ids[anchorStem], fm.stemFields)
			sc.termHead[ids[anchorStem]] = fm.stem
		}
		if fm.exact < 0 {
			continue
		}
		if ok && ids[anchorExact] >= 0 {
			mark(ids[anchorExact], fm.exactFields)
			sc.termHead[ids[anchorExact]] = fm.exact
		}
		if len(ix.prefixLens) == 0 || len(k) < ix.prefixLens[0] {
			continue
		}
		if hh := headHash(k); ix.prefixHead[hh/64]&(1<<(hh%64)) == 0 {
			continue // no prefix term starts like this word
		}
		// Probe the dictionary only for the prefixes of this word that
		// the filter has seen: hash the word once, a byte at a time.
		ph, li := uint64(fnvOffset), 0
		for b := 0; b < len(k) && li < len(ix.prefixLens); b++ {
			ph = (ph ^ uint64(k[b])) * fnvPrime
			if b+1 != ix.prefixLens[li] {
				continue
			}
			li++
			if bit := ph >> (64 - prefixBitsLog); ix.prefixBits[bit/64]&(1<<(bit%64)) == 0 {
				continue
			}
			if p, ok := ix.lookup(k[:b+1], maphash.String(formSeed, k[:b+1])); ok && p[anchorPrefix] >= 0 {
				mark(p[anchorPrefix], fm.exactFields)
				sc.pfx = append(sc.pfx, pfxHit{p[anchorPrefix], int32(fi)})
			}
		}
	}
	sc.marked = marked
	if all {
		// Every rule is a candidate: the naive loop, on the same program
		// (for the benchmark that measures what the pruning saves).
		cands := sc.cands[:0]
		for id := range ix.rules {
			cands = append(cands, int32(id))
		}
		sc.cands = cands
		return ix.evalCands(a, sc)
	}
	// Candidates: rules filed under a marked term in the right fields,
	// whose other clauses the marked terms satisfy.
	cands := sc.cands[:0]
	for _, t := range marked {
		m := sc.termMask[t]
		for _, p := range ix.postings[ix.postOff[t]:ix.postOff[t+1]] {
			if p.scope&m == 0 || sc.ruleStamp[p.rule] == gen || !ix.satisfied(p.extra, sc) {
				continue
			}
			sc.ruleStamp[p.rule] = gen
			if ix.satisfied(ix.checks[p.rule], sc) {
				cands = append(cands, p.rule)
			}
		}
	}
	slices.Sort(cands)
	sc.cands = cands
	return ix.evalCands(a, sc)
}

// evalCands evaluates the candidate rules and returns those that match.
func (ix *Index) evalCands(a *Analyzed, sc *scratch) []Match {
	var out []Match
	for _, id := range sc.cands {
		start := ix.progStart[id]
		if !ix.eval(a, sc, start) {
			continue
		}
		sp := sc.occs[:0]
		ix.collect(a, sc, start, &sp)
		sc.occs = sp
		out = append(out, Match{Rule: ix.rules[id], Spans: toSpans(a, sp)})
	}
	return out
}

// present reports whether a marked term occurs in one of the fields.
func (sc *scratch) present(t int32, scope fieldMask) bool {
	return sc.termStamp[t] == sc.gen && sc.termMask[t]&scope != 0
}

// eval runs the program instruction i (and its subtree) on an item.
func (ix *Index) eval(a *Analyzed, sc *scratch, i int32) bool {
	in := &ix.prog[i]
	switch in.op {
	case opTerm:
		return sc.present(in.term, in.scope)
	case opAnd:
		for j := i + 1; j < in.skip; j = ix.prog[j].skip {
			if !ix.eval(a, sc, j) {
				return false
			}
		}
		return true
	case opOr:
		for j := i + 1; j < in.skip; j = ix.prog[j].skip {
			if ix.eval(a, sc, j) {
				return true
			}
		}
		return false
	case opNot:
		return !ix.eval(a, sc, i+1)
	case opPhrase:
		return ix.phrase(a, sc, i, nil)
	case opAtLeast:
		count, limit := 0, int(in.term)
		for j := i + 1; j < in.skip; j++ {
			w := &ix.prog[j]
			if !sc.present(w.term, w.scope) {
				continue
			}
			for g := sc.termHead[w.term]; g >= 0; g = a.next(g, w.mode) {
				if w.scope.has(a.occs[g].f) {
					if count++; count >= limit {
						return true
					}
				}
			}
		}
		return false
	}
	if !ix.satisfied(in.term, sc) {
		return false
	}
	return eval(a, ix.nodes[i])
}

// phrase reports whether the phrase at instruction i occurs: its first
// word in scope, followed by the others at consecutive positions.
// With out, it appends every occurrence and reports whether there was one.
func (ix *Index) phrase(a *Analyzed, sc *scratch, i int32, out *[]span3) bool {
	in := &ix.prog[i]
	for j := i + 1; j < in.skip; j++ {
		if !sc.present(ix.prog[j].term, in.scope) {
			return false
		}
	}
	// Walk the first word's occurrences and, in step, every other word's:
	// word u must occur at occurrence number g+u. All chains ascend.
	var curBuf [8]int32
	n := int(in.skip - i - 1)
	cur := curBuf[:0]
	for j := i + 1; j < in.skip; j++ {
		cur = append(cur, sc.termHead[ix.prog[j].term])
	}
	found := false
	for g := cur[0]; g >= 0; g = a.next(g, in.mode) {
		o := a.occs[g]
		if !in.scope.has(o.f) {
			continue
		}
		ok := true
		for u := 1; ok && u < n; u++ {
			want := g + int32(u)
			for cur[u] >= 0 && cur[u] < want {
				cur[u] = a.next(cur[u], in.mode)
			}
			if cur[u] < 0 {
				return found
			}
			ok = cur[u] == want
		}
		if !ok {
			continue
		}
		// The same field, at consecutive positions (no category gap).
		end := a.occs[g+int32(n)-1]
		if end.f == o.f {
			toks := a.fields[o.f].toks
			if toks[end.i].pos-toks[o.i].pos == int32(n-1) {
				if out == nil {
					return true
				}
				found = true
				*out = append(*out, span3{o.f, o.i, end.i})
			}
		}
	}
	return found
}

// collect appends the occurrences that made a matching instruction match,
// as collect does on the tree.
func (ix *Index) collect(a *Analyzed, sc *scratch, i int32, out *[]span3) {
	in := &ix.prog[i]
	switch in.op {
	case opAnd:
		for j := i + 1; j < in.skip; j = ix.prog[j].skip {
			ix.collect(a, sc, j, out)
		}
	case opOr:
		for j := i + 1; j < in.skip; j = ix.prog[j].skip {
			if ix.eval(a, sc, j) {
				ix.collect(a, sc, j, out)
			}
		}
	case opNot:
	case opTerm:
		if ix.nodes[i].kind == kPrefix {
			// The words the marking found to start with the prefix.
			for _, h := range sc.pfx {
				if h.term != in.term {
					continue
				}
				for g := a.forms[h.form].exact; g >= 0; g = a.nextExact[g] {
					if o := a.occs[g]; in.scope.has(o.f) {
						*out = append(*out, span3{o.f, o.i, o.i})
					}
				}
			}
			return
		}
		ix.collectTerm(a, sc, in, out)
	case opAtLeast:
		for j := i + 1; j < in.skip; j++ {
			ix.collectTerm(a, sc, &ix.prog[j], out)
		}
	case opPhrase:
		ix.phrase(a, sc, i, out)
	default:
		collect(a, ix.nodes[i], out)
	}
}

// collectTerm appends the occurrences of a word term in its scope.
func (ix *Index) collectTerm(a *Analyzed, sc *scratch, in *instr, out *[]span3) {
	if sc.termStamp[in.term] != sc.gen {
		return
	}
	for g := sc.termHead[in.term]; g >= 0; g = a.next(g, in.mode) {
		if o := a.occs[g]; in.scope.has(o.f) {
			*out = append(*out, span3{o.f, o.i, o.i})
		}
	}
}

// satisfied reports whether the marked terms satisfy every clause of the
// list at offset off in code.
func (ix *Index) satisfied(off int32, sc *scratch) bool {
	if off == 0 {
		return true
	}
	code := ix.code
	n := code[off]
	p := off + 1
	for ; n > 0; n-- {
		k := int32(code[p])
		p++
		ok := false
		for _, t := range code[p : p+k] {
			if sc.termStamp[t>>8] == sc.gen && sc.termMask[t>>8]&fieldMask(t) != 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
		p += k
	}
	return true
}

const prefixHeadBits = 1 << 16

// headHash hashes the first 3 bytes of a string (every prefix term has at
// least 3 letters) to a bit of the prefix head filter.
func headHash(s string) uint32 {
	return (uint32(s[0])*0x9E3779B1 ^ uint32(s[1])*0x85EBCA77 ^ uint32(s[2])*0xC2B2AE3D) % prefixHeadBits
}

// The prefix filter: one bit per prefix term, of 2^prefixBitsLog.
const (
	prefixBitsLog = 20
	fnvOffset     = 14695981039346656037
	fnvPrime      = 1099511628211
)

// prefixHash is 64-bit FNV-1a.
func prefixHash(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}
