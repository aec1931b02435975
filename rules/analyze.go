package rules

import (
	"sort"
	"strconv"
	"strings"
	"sync"
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

// token is one word of a field.
type token struct {
	start, end int32  // byte offsets into the field's text
	pos        int32  // word position; categories are set apart by a gap
	cased      string // NFKC, punctuation mapped, possessive removed
	exact      string // cased, case-folded, Latin accents stripped
	stem       string // English stem of exact (or exact)
}

// occ is one occurrence of a term: a field and the index of its token.
type occ struct {
	f Field
	i int32
}

type fieldData struct {
	text string
	toks []token
}

// Analyzed is a Document normalised once, with word positions per field.
// It is read-only after Analyze and safe for concurrent use.
type Analyzed struct {
	fields [numFields]fieldData

	// Postings: every token of every field is an occurrence, numbered in
	// field and token order. forms maps each exact form and each stem to its
	// heads: its first occurrence as that kind of form; nextExact/nextStem chain the
	// following ones (-1 ends).
	occs      []occ
	forms     map[string]int32 // form -> index in heads and formKeys
	heads     []heads
	formKeys  []string
	nextExact []int32
	nextStem  []int32

	keysOnce sync.Once
	keys     []string // sorted distinct exact forms, for prefixes
}

// categoryGap separates categories so no phrase or NEAR spans two of them.
const categoryGap = 1000

// Analyze normalises a document and records where each word occurs.
func Analyze(d Document) *Analyzed {
	a := &Analyzed{}
	n := newNormalizer()
	title, summary, content := d.Title, d.Summary, d.Content
	if d.HTML {
		title, summary, content = PlainText(title), PlainText(summary), PlainText(content)
	}
	a.fields[FieldTitle] = fieldData{text: cleanText(title)}
	a.fields[FieldSummary] = fieldData{text: cleanText(summary)}
	a.fields[FieldContent] = fieldData{text: cleanText(content)}
	a.fields[FieldFeed] = fieldData{text: cleanText(d.Feed)}
	a.fields[FieldAuthor] = fieldData{text: cleanText(d.Author)}
	a.fields[FieldLink] = fieldData{text: cleanText(d.Link)}
	var cats []string
	for _, c := range d.Categories {
		if c = cleanText(c); c != "" {
			cats = append(cats, c)
		}
	}
	a.fields[FieldCategory] = fieldData{text: strings.Join(cats, categorySep)}

	total := 0
	for f := range a.fields {
		fd := &a.fields[f]
		fd.toks = tokenize(n, fd.text, Field(f) == FieldCategory, make([]token, 0, len(fd.text)/5+1))
		total += len(fd.toks)
	}
	a.occs = make([]occ, 0, total)
	for f := range a.fields {
		for i := range a.fields[f].toks {
			a.occs = append(a.occs, occ{Field(f), int32(i)})
		}
	}
	a.forms = make(map[string]int32, total*3/4+8)
	a.heads = make([]heads, 0, total*3/4+8)
	a.formKeys = make([]string, 0, total*3/4+8)
	a.nextExact = make([]int32, total)
	a.nextStem = make([]int32, total)
	form := func(k string) *heads {
		i, ok := a.forms[k]
		if !ok {
			i = int32(len(a.heads))
			a.forms[k] = i
			a.heads = append(a.heads, heads{-1, -1})
			a.formKeys = append(a.formKeys, k)
		}
		return &a.heads[i]
	}
	// Walk backwards, pushing each occurrence in front, so that every chain
	// is in ascending order.
	for g := total - 1; g >= 0; g-- {
		o := a.occs[g]
		t := &a.fields[o.f].toks[o.i]
		h := form(t.exact)
		a.nextExact[g], h.exact = h.exact, int32(g)
		if t.stem != t.exact {
			h = form(t.stem)
		}
		a.nextStem[g], h.stem = h.stem, int32(g)
	}
	return a
}

// heads are the first occurrences of a string as an exact form and as a
// stem (-1: none).
type heads struct{ exact, stem int32 }

// first returns the first occurrence of a rule token's form, or -1.
func (a *Analyzed) first(k *token, m mode) int32 {
	if m == modeStem {
		if i, ok := a.forms[k.stem]; ok {
			return a.heads[i].stem
		}
		return -1
	}
	if i, ok := a.forms[k.exact]; ok {
		return a.heads[i].exact
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
		a.keys = make([]string, 0, len(a.forms))
		for i, k := range a.formKeys {
			if a.heads[i].exact >= 0 {
				a.keys = append(a.keys, k)
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
func tokenize(n *normalizer, text string, categories bool, dst []token) []token {
	dst = dst[:0]
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
			dst = appendToken(n, dst, v, start, start+len(v), &pos)
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
			dst = appendToken(n, dst, strings.Join(parts, ""), start, start+len(v), &pos)
			continue
		}
		off := start
		for _, p := range parts {
			if hasWordChar(p) {
				dst = appendToken(n, dst, p, off, off+len(p), &pos)
			}
			off += len(p) + 1
		}
	}
	return dst
}

func appendToken(n *normalizer, dst []token, raw string, start, end int, pos *int32) []token {
	var cased, exact, st string
	if w, ok := asciiWord(raw); ok {
		// The common case, cached: the exact form and stem of a cased
		// ASCII word.
		cased = trimPossessive(w)
		exact, st = asciiForms(cased)
	} else {
		cased, exact = n.word(raw)
		st = stem(exact)
	}
	if exact == "" || !hasWordChar(exact) {
		return dst
	}
	dst = append(dst, token{start: int32(start), end: int32(end), pos: *pos, cased: cased, exact: exact, stem: st})
	*pos++
	return dst
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
	return tokenize(n, cleanText(s), false, nil)
}
