package rules

import (
	"hash/maphash"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/words"
)

// Field is one searchable part of an item.
type Field uint8

// The searchable fields of an item.
const (
	FieldTitle Field = iota
	FieldSummary
	FieldContent
	FieldFeed
	FieldAuthor
	FieldCategory
	FieldLink
	numFields
)

var fieldNames = [numFields]string{"title", "summary", "content", "feed", "author", "category", "link"}

// String returns the field's name as written in rules: "title", "summary"...
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// fieldByName returns the field a rule names, if any.
func fieldByName(name string) (Field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return Field(i), true
		}
	}
	return 0, false
}

// fieldMask is a set of fields.
type fieldMask uint8

const defaultScope = fieldMask(1<<FieldTitle | 1<<FieldSummary | 1<<FieldContent)

func (m fieldMask) has(f Field) bool { return m&(1<<f) != 0 }

// Document is one item as the caller has it. Text fields are plain text
// unless HTML is true, in which case Title, Summary and Content are HTML to
// strip (tags removed, entities decoded, script/style dropped).
type Document struct {
	Title, Summary, Content, Feed, Author, Link string
	Categories                                  []string
	HTML                                        bool
}

// token is one word of a rule, or of an item as tokens returns it.
type token struct {
	start, end int32  // byte offsets into the field's text
	pos        int32  // word position; categories are set apart by a gap
	cased      string // NFKC, punctuation mapped, possessive removed
	exact      string // cased, case-folded, Latin accents stripped
	stem       string // English stem of exact (or exact)
}

// itok is one word of an item's field, as Analyze keeps it: no pointers,
// so that an item's words cost the garbage collector nothing to scan. Its
// exact form and stem are its form's keys. Its cased form is its text
// with any possessive trimmed or, when normalisation changed more than
// that, a string of its own (see casedKeys).
type itok struct {
	start, end int32 // byte offsets into the field's text
	pos        int32 // word position; categories are set apart by a gap
	form       int32 // its exact form, in forms
}

// occ is one occurrence of a term: a field and the index of its token.
type occ struct {
	f Field
	i int32
}

type fieldData struct {
	text string
	toks []itok
}

// Analyzed is a Document normalised once, with word positions per field.
// It is read-only after Analyze and safe for concurrent use.
type Analyzed struct {
	fields [numFields]fieldData

	// Postings: every token of every field is an occurrence, numbered in
	// field and token order. forms holds each exact form and each stem with
	// its first occurrence as that kind of form; nextExact/nextStem chain
	// the following ones (-1 ends).
	occs      []occ
	forms     []form  // distinct exact forms and stems, in first-seen order
	slots     []int32 // hash table over forms: form index + 1 (0: empty)
	nextExact []int32
	nextStem  []int32
	// The tokens whose cased form is not their trimmed text, as
	// casedKey(f, i) in ascending order, and for each the index of its
	// cased form in cased.
	casedKeys []uint32
	casedRefs []int32
	cased     []string

	keysOnce sync.Once
	keys     []string // sorted distinct exact forms, for prefixes

	z    *Analyzer           // that made it, to Release it to
	seen map[string]seenWord // while analysing: what each non-ASCII raw word normalised to
}

// categoryGap separates categories so no phrase or NEAR spans two of them.
const categoryGap = 1000

// An Analyzer analyses documents and remembers the forms (exact form and
// stem) of the words it has met, so that a service analysing a stream of
// news stems each word of its vocabulary about once instead of in every
// item. Its memory is bounded: a fixed table of 65,536 words (about 6 MB
// when full), where a new word replaces an old one of the same set. It is
// safe for concurrent use; hold one per process, like an Index. A nil
// *Analyzer analyses with no memory.
type Analyzer struct {
	hashes [formsSlots]atomic.Uint64
	forms  [formsSlots]atomic.Pointer[formsEntry]
	free   sync.Pool // of *Analyzed, given back by Release
}

// formsSlots is the size of an Analyzer's table of word forms, in sets of
// formsWays: powers of two, larger than the distinct words of a day of news.
const (
	formsSlots = 1 << 16
	formsWays  = 4
)

// NewAnalyzer returns an Analyzer with an empty memory.
func NewAnalyzer() *Analyzer { return new(Analyzer) }

// Analyze normalises a document and records where each word occurs. It
// remembers nothing between calls; to analyse many documents, use an
// Analyzer.
func Analyze(d Document) *Analyzed {
	var z *Analyzer
	return z.Analyze(d)
}

// Analyze normalises a document and records where each word occurs.
func (z *Analyzer) Analyze(d Document) *Analyzed {
	a := z.newAnalyzed()
	n := newNormalizer()
	title, summary, content := d.Title, d.Summary, d.Content
	if d.HTML {
		title, summary, content = PlainText(title), PlainText(summary), PlainText(content)
	}
	a.fields[FieldTitle].text = cleanText(title)
	a.fields[FieldSummary].text = cleanText(summary)
	a.fields[FieldContent].text = cleanText(content)
	a.fields[FieldFeed].text = cleanText(d.Feed)
	a.fields[FieldAuthor].text = cleanText(d.Author)
	a.fields[FieldLink].text = cleanText(d.Link)
	var cats []string
	for _, c := range d.Categories {
		if c = cleanText(c); c != "" {
			cats = append(cats, c)
		}
	}
	a.fields[FieldCategory].text = strings.Join(cats, categorySep)

	size := 0
	for f := range a.fields {
		size += len(a.fields[f].text)
	}
	a.initForms(size/8 + 8)
	a.occs = grow(a.occs, size/5+1)
	t := tokenizer{n: n, a: a, z: z}
	for f := range a.fields {
		fd := &a.fields[f]
		fd.toks = grow(fd.toks, len(fd.text)/5+1)
		t.f = Field(f)
		t.tokenize(fd.text, Field(f) == FieldCategory)
	}
	a.chain()
	if z == nil {
		a.seen = nil
	} else {
		clear(a.seen) // the map is kept for the next document
	}
	return a
}

// newAnalyzed returns an empty Analyzed, one given back by Release if z
// has one.
func (z *Analyzer) newAnalyzed() *Analyzed {
	if z != nil {
		if a, ok := z.free.Get().(*Analyzed); ok {
			return a
		}
	}
	return &Analyzed{z: z}
}

// Release gives a's memory back to the Analyzer that made it, for a
// later document, sparing the garbage collector most of an item's
// analysis. a must not be used afterwards; what was taken from it
// (matches and their spans, snippets, texts, words) stays valid.
// Releasing is optional, and does nothing for an Analyzed made by Analyze.
func (a *Analyzed) Release() {
	if a.z == nil {
		return
	}
	for f := range a.fields {
		a.fields[f] = fieldData{toks: a.fields[f].toks[:0]}
	}
	clear(a.forms)
	a.forms = a.forms[:0]
	clear(a.cased)
	a.cased = a.cased[:0]
	a.casedKeys = a.casedKeys[:0]
	a.casedRefs = a.casedRefs[:0]
	clear(a.keys)
	a.keys = a.keys[:0]
	a.keysOnce = sync.Once{}
	a.z.free.Put(a)
}

// grow returns s emptied, with room for n elements.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// chain links each form's occurrences, in ascending order, as the first
// in the form and the next in nextExact or nextStem.
func (a *Analyzed) chain() {
	a.nextExact = grow(a.nextExact, len(a.occs))[:len(a.occs)]
	a.nextStem = grow(a.nextStem, len(a.occs))[:len(a.occs)]
	for g := int32(len(a.occs)) - 1; g >= 0; g-- {
		o := a.occs[g]
		x := a.fields[o.f].toks[o.i].form
		fx := &a.forms[x]
		a.nextExact[g], fx.exact = fx.exact, g
		fy := &a.forms[fx.stemOf]
		a.nextStem[g], fy.stem = fy.stem, g
	}
}

// exactOf returns the exact form of token i of field f.
func (a *Analyzed) exactOf(f Field, i int32) string {
	return a.forms[a.fields[f].toks[i].form].key
}

// stemOf returns the stem of token i of field f.
func (a *Analyzed) stemOf(f Field, i int32) string {
	return a.forms[a.forms[a.fields[f].toks[i].form].stemOf].key
}

// casedOf returns the cased form of token i of field f.
func (a *Analyzed) casedOf(f Field, i int32) string {
	if len(a.casedKeys) > 0 {
		k := casedKey(f, i)
		if j, ok := slices.BinarySearch(a.casedKeys, k); ok {
			return a.cased[a.casedRefs[j]]
		}
	}
	t := &a.fields[f].toks[i]
	raw := a.fields[f].text[t.start:t.end]
	j, k := trimPossessiveIdx(raw)
	return raw[j:k]
}

// casedKey orders tokens by field, then index.
func casedKey(f Field, i int32) uint32 { return uint32(f)<<28 | uint32(i) }

// formOf returns a form of token i of field f.
func (a *Analyzed) formOf(f Field, i int32, m mode) string {
	switch m {
	case modeStem:
		return a.stemOf(f, i)
	case modeExact:
		return a.exactOf(f, i)
	}
	return a.casedOf(f, i)
}

// tokens returns the words of field f with all their forms.
func (a *Analyzed) tokens(f Field) []token {
	toks := a.fields[f].toks
	out := make([]token, len(toks))
	for i, t := range toks {
		out[i] = token{start: t.start, end: t.end, pos: t.pos, cased: a.casedOf(f, int32(i)), exact: a.exactOf(f, int32(i)), stem: a.stemOf(f, int32(i))}
	}
	return out
}

// form is one distinct exact form or stem of an item, with the first of
// its occurrences as each kind of form (-1: none).
type form struct {
	key         string
	hash        uint64
	exact, stem int32
	stemOf      int32     // of a form seen as an exact form: its stem's form (-1: not yet)
	exactFields fieldMask // the fields it occurs in as an exact form
	stemFields  fieldMask // the fields it occurs in as a stem
}

// formSeed seeds the hash of the forms table; it is set once, at init.
var formSeed = maphash.MakeSeed()

func (a *Analyzed) initForms(n int) {
	a.forms = grow(a.forms, n)
	size := 16
	for size < 2*n {
		size *= 2
	}
	if cap(a.slots) >= size {
		a.slots = a.slots[:size]
		clear(a.slots)
	} else {
		a.slots = make([]int32, size)
	}
}

// findForm returns the index of the form with key k and hash h, or -1.
func (a *Analyzed) findForm(k []byte, h uint64) int32 {
	mask := uint64(len(a.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := a.slots[i]
		if s == 0 {
			return -1
		}
		if f := &a.forms[s-1]; f.hash == h && f.key == string(k) {
			return s - 1
		}
	}
}

// lookup returns the index of a form, or -1.
func (a *Analyzed) lookup(k string) int32 {
	if len(a.slots) == 0 {
		return -1
	}
	h := maphash.String(formSeed, k)
	mask := uint64(len(a.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := a.slots[i]
		if s == 0 {
			return -1
		}
		if f := &a.forms[s-1]; f.hash == h && f.key == k {
			return s - 1
		}
	}
}

// addForm returns the index of the form k, adding it if new.
func (a *Analyzed) addForm(k string) int32 {
	return a.addFormHash(k, maphash.String(formSeed, k))
}

// addFormHash is addForm for a key whose hash h is known.
func (a *Analyzed) addFormHash(k string, h uint64) int32 {
	mask := uint64(len(a.slots) - 1)
	i := h & mask
	for ; ; i = (i + 1) & mask {
		s := a.slots[i]
		if s == 0 {
			break
		}
		if f := &a.forms[s-1]; f.hash == h && f.key == k {
			return s - 1
		}
	}
	id := int32(len(a.forms))
	a.forms = append(a.forms, form{key: k, hash: h, exact: -1, stem: -1, stemOf: -1})
	a.slots[i] = id + 1
	if 2*len(a.forms) > len(a.slots) {
		a.slots = make([]int32, 2*len(a.slots))
		mask = uint64(len(a.slots) - 1)
		for j := range a.forms {
			k := a.forms[j].hash & mask
			for a.slots[k] != 0 {
				k = (k + 1) & mask
			}
			a.slots[k] = int32(j) + 1
		}
	}
	return id
}

// addOcc records the next occurrence (token i of field f) with its forms;
// chain links the occurrences of each form once all are recorded.
// exact and st are the token's exact form and stem when exactID < 0; a
// nonzero hashes holds their hashes.
func (a *Analyzed) addOcc(f Field, i int32, exact, st string, hashes *[2]uint64, exactID int32) int32 {
	a.occs = append(a.occs, occ{f, i})
	if exactID < 0 {
		if hashes != nil {
			exactID = a.addFormHash(exact, hashes[0])
		} else {
			exactID = a.addForm(exact)
		}
	}
	x := &a.forms[exactID]
	x.exactFields |= 1 << f
	stemID := x.stemOf
	if stemID < 0 {
		stemID = exactID
		if st != exact {
			if hashes != nil {
				stemID = a.addFormHash(st, hashes[1])
			} else {
				stemID = a.addForm(st)
			}
		}
		a.forms[exactID].stemOf = stemID
	}
	a.forms[stemID].stemFields |= 1 << f
	return exactID
}

// first returns the first occurrence of a rule token's form, or -1.
func (a *Analyzed) first(k *token, m mode) int32 {
	if m == modeStem {
		if i := a.lookup(k.stem); i >= 0 {
			return a.forms[i].stem
		}
		return -1
	}
	if i := a.lookup(k.exact); i >= 0 {
		return a.forms[i].exact
	}
	return -1
}

// next returns the occurrence after g of the same form, or -1.
func (a *Analyzed) next(g int32, m mode) int32 {
	if m == modeStem {
		return a.nextStem[g]
	}
	return a.nextExact[g]
}

const categorySep = " | "

// Text returns the plain text of a field, which Span offsets index into.
func (a *Analyzed) Text(f Field) string {
	if f >= numFields {
		return ""
	}
	return a.fields[f].text
}

// sortedKeys returns the item's distinct exact forms, sorted.
func (a *Analyzed) sortedKeys() []string {
	a.keysOnce.Do(func() {
		a.keys = grow(a.keys, len(a.forms))
		for i := range a.forms {
			if a.forms[i].exact >= 0 {
				a.keys = append(a.keys, a.forms[i].key)
			}
		}
		sort.Strings(a.keys)
	})
	return a.keys
}

// hasWordChar reports whether a segment is a word (has a letter, digit or
// mark) rather than space or punctuation.
func hasWordChar(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return true
			}
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) {
			return true
		}
	}
	return false
}

// tokenize splits text into words (UAX #29) and normalises each. Words
// joined by dots are split ("dawn.com" is two words), except
// single-letter abbreviations ("U.S." is the word "us").
func (tz *tokenizer) tokenize(text string, categories bool) {
	pos := int32(0)
	seg := words.FromString(text)
	for seg.Next() {
		v := seg.Value()
		start := seg.Start()
		if categories && v == "|" {
			pos += categoryGap
			continue
		}
		if !hasWordChar(v) {
			continue
		}
		if strings.IndexByte(v, '.') < 0 {
			tz.appendToken(v, true, start, start+len(v), &pos)
			continue
		}
		parts := strings.Split(v, ".")
		abbrev := true
		for _, p := range parts {
			if utf8.RuneCountInString(p) > 1 {
				abbrev = false
				break
			}
		}
		if abbrev {
			tz.appendToken(strings.Join(parts, ""), false, start, start+len(v), &pos)
			continue
		}
		off := start
		for _, p := range parts {
			if hasWordChar(p) {
				tz.appendToken(p, true, off, off+len(p), &pos)
			}
			off += len(p) + 1
		}
	}
}

// tokenizer splits text into tokens. With a, it appends them to field f
// of a and records each token's occurrence and forms; without, to out.
type tokenizer struct {
	n   *normalizer
	z   *Analyzer // remembers word forms; nil: none
	a   *Analyzed
	f   Field
	out []token
}

// seenWord is what a non-ASCII word normalised to: its cased form in
// a.cased and its exact form in a.forms (-1: not a word).
type seenWord struct{ cased, form int32 }

// appendToken normalises a raw word, which is text[start:end] if inText,
// and appends it (if it is a word) at position *pos.
func (tz *tokenizer) appendToken(raw string, inText bool, start, end int, pos *int32) {
	var cased, exact, st string
	var hashBuf [2]uint64 // hashes of exact and st, if hashes is set
	var hashes *[2]uint64
	memo := false // a new non-ASCII word, to remember
	exactID := int32(-1)
	plain := false  // cased is the trimmed raw text
	cs := int32(-1) // else its index in a.cased, if known
	if w, ok := asciiWord(raw); ok {
		// The common case: an ASCII word. A word seen before in this item
		// (in any case) reuses its forms; others come from the cache.
		i, j := trimPossessiveIdx(w)
		cased = w[i:j]
		plain = inText && len(w) == len(raw)
		if len(cased) <= 64 {
			var buf [64]byte
			b := buf[:len(cased)]
			for i := 0; i < len(cased); i++ {
				c := cased[i]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				b[i] = c
			}
			h := maphash.Bytes(formSeed, b)
			if tz.a != nil {
				if id := tz.a.findForm(b, h); id >= 0 && tz.a.forms[id].stemOf >= 0 {
					exactID = id
				}
			}
			if exactID < 0 {
				hashes = &hashBuf
				exact, st, hashBuf[1] = tz.z.asciiForms(b, h)
				hashBuf[0] = h
			}
		} else {
			exact = asciiLower(cased)
			st = stem(exact)
		}
	} else {
		if tz.a != nil {
			if w, ok := tz.a.seen[raw]; ok {
				if w.form < 0 {
					return
				}
				exactID, cs = w.form, w.cased
			}
		}
		if exactID < 0 {
			cased, exact = tz.n.word(raw)
			st = stem(exact)
			memo = tz.a != nil
		}
	}
	if exactID < 0 && (exact == "" || !hasWordChar(exact)) {
		if memo {
			tz.remember(raw, seenWord{-1, -1})
		}
		return
	}
	if tz.a == nil {
		tz.out = append(tz.out, token{start: int32(start), end: int32(end), pos: *pos, cased: cased, exact: exact, stem: st})
		*pos++
		return
	}
	fd := &tz.a.fields[tz.f]
	i := int32(len(fd.toks))
	if !plain {
		if cs < 0 {
			cs = int32(len(tz.a.cased))
			tz.a.cased = append(tz.a.cased, cased)
		}
		tz.a.casedKeys = append(tz.a.casedKeys, casedKey(tz.f, i))
		tz.a.casedRefs = append(tz.a.casedRefs, cs)
	}
	id := tz.a.addOcc(tz.f, i, exact, st, hashes, exactID)
	fd.toks = append(fd.toks, itok{start: int32(start), end: int32(end), pos: *pos, form: id})
	*pos++
	if memo {
		tz.remember(raw, seenWord{cs, id})
	}
}

// remember records what a non-ASCII raw word normalised to.
func (tz *tokenizer) remember(raw string, w seenWord) {
	if tz.a.seen == nil {
		tz.a.seen = make(map[string]seenWord)
	}
	tz.a.seen[raw] = w
}

// asciiWord returns raw with its apostrophes made ASCII (’, ‘ and ` map to
// ', as mapPunct does) when that leaves a plain ASCII word, which then
// needs no Unicode normalisation.
func asciiWord(raw string) (string, bool) {
	plain := true
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '`':
			plain = false
		case c >= utf8.RuneSelf:
			if !strings.HasPrefix(raw[i:], "\u2019") && !strings.HasPrefix(raw[i:], "\u2018") {
				return "", false
			}
			plain = false
			i += 2
		}
	}
	if plain {
		return raw, true
	}
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '`':
			b = append(b, '\'')
		case c >= utf8.RuneSelf:
			b = append(b, '\'')
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// analyzeWords splits a rule word or phrase into normalised tokens, the same
// way item text is split.
func analyzeWords(n *normalizer, s string) []token {
	tz := tokenizer{n: n}
	tz.tokenize(cleanText(s), false)
	return tz.out
}
