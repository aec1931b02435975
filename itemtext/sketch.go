package itemtext

import (
	"encoding/binary"
	"sync"

	"github.com/wirewatch/wirewatch/rules"
)

// The sketch is a Bloom filter over the distinct words and stems of every
// field of an item (rules.Analyzed.Words and Stems), and the first 4 bytes
// of each word (for wildcards: "negotiat*" is checked as a word starting
// with "nego"; a 3-letter one, "war*", cannot be), after 4 bytes of
// analysis fingerprint and 1 byte of hash count:
//
//	fingerprint (uint32, little endian) | k | bits
//
// With bitsPerKey bits per distinct key and sketchK hashes, a word the
// item lacks passes for about 1 in 45 items (10 bits and 6 hashes: 1 in
// 120, for a sketch a quarter larger; TestMeasure).
const (
	bitsPerKey = 8
	sketchK    = 5
	maxSketch  = 4 << 10 // bytes of bits: items with very many words share a denser filter
	minSketch  = 8
)

// prefixLens are the lengths (bytes) of the word starts a sketch holds; a
// wildcard is checked on the longest that fits it. Each length costs
// sketch bytes: 3-byte starts would double what 4-byte ones add, for
// wildcards of exactly three letters.
var prefixLens = [...]int{4}

// prefixHash is the key of a word start, apart from whole words.
func prefixHash(p string) uint64 { return fnv64(p) ^ 0x9e3779b97f4a7c15 }

// fnv64 is FNV-1a: stable across processes and versions, unlike maphash.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// appendSketch appends the sketch of an analysed item.
func appendSketch(dst []byte, a *rules.Analyzed) []byte {
	seen := map[uint64]struct{}{}
	for f := rules.FieldTitle; f <= rules.FieldLink; f++ {
		for _, w := range a.Words(f) {
			seen[fnv64(w)] = struct{}{}
			for _, n := range prefixLens {
				if len(w) >= n {
					seen[prefixHash(w[:n])] = struct{}{}
				}
			}
		}
		for _, w := range a.Stems(f) {
			seen[fnv64(w)] = struct{}{}
		}
	}
	n := (len(seen)*bitsPerKey + 7) / 8
	n = min(max(n, minSketch), maxSketch)
	dst = binary.LittleEndian.AppendUint32(dst, Fingerprint())
	dst = append(dst, sketchK)
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	bits := dst[start:]
	m := uint64(n * 8)
	for h := range seen {
		h1, h2 := h&0xffffffff, h>>32|1
		for i := range uint64(sketchK) {
			b := (h1 + i*h2) % m
			bits[b/8] |= 1 << (b % 8)
		}
	}
	return dst
}

// probe is a text that exercises every step of the rules' analysis that
// decides which words and stems an item has: NFKC, invisible characters,
// case folding, accents, possessives, abbreviations, hyphens, English
// stems and irregular forms, Arabic-script letter variants, Devanagari,
// Cyrillic and Han.
const probe = "Pakistan’s defence minister STRIKES; struck, striking, fought, broke, " +
	"talks collapsed — negotiations failed. Türkiye TÜRKİYE Zoë naïve café ﬁnance " +
	"U.N. U.S. e-mail cross-border crossborder 3.5% 2025-10-29 soft\u00adhyphen zero\u200bwidth " +
	"پاکستانی پاكستاني افغانستان کے भारत का पाकिस्तान Россия Москва 中国外交部 " +
	"running ran runs women children mice analyses went gone better best"

var fingerprint = sync.OnceValue(func() uint32 {
	a := rules.Analyze(rules.Document{Title: probe, Summary: probe, Content: probe, Feed: "Dawn", Author: "Baqir Sajjad", Link: "https://www.dawn.com/news/1951234/a-b", Categories: []string{"Pakistan", "World"}})
	h := uint64(14695981039346656037)
	mix := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	mix("sketch v2: words, stems, 4-byte word starts; 8 bits a key, 5 hashes")
	for f := rules.FieldTitle; f <= rules.FieldLink; f++ {
		for _, w := range a.Words(f) {
			mix(w)
		}
		for _, w := range a.Stems(f) {
			mix(w)
		}
	}
	return uint32(h) ^ uint32(h>>32)
})

// Fingerprint identifies the text analysis of this build: the words and
// stems the rules package makes of a probe text covering its steps. A
// sketch written with another fingerprint is ignored.
func Fingerprint() uint32 { return fingerprint() }

// Filter decides from a record's sketch whether any of some rules may match
// the item: a false answer is sure, a true one needs the full match.
type Filter struct {
	// rules[i] is the checkable clauses of rule i, as term hashes; a rule
	// with none makes the filter pass everything.
	rules [][][]uint64
	all   bool
}

// maxFilterTerms bounds the terms a Filter checks per item; past it (many
// rules), checking costs more than the rules' own index saves, and the
// filter passes everything.
const maxFilterTerms = 512

// NewFilter returns a Filter for rs: an item passes when some rule's
// required words (rules.Rule.Requires) may all be in it. A wildcard is
// checked as a word starting with its first 4 bytes (or 3).
func NewFilter(rs ...*rules.Rule) *Filter {
	f := &Filter{}
	terms := 0
	for _, r := range rs {
		if r == nil {
			continue
		}
		var cs [][]uint64
		for _, c := range r.Requires() {
			var hs []uint64
			for _, t := range c {
				if t.Kind != rules.TermPrefix {
					hs = append(hs, fnv64(t.Form))
					continue
				}
				n := min(len(t.Form), prefixLens[len(prefixLens)-1])
				if n < prefixLens[0] {
					hs = nil // too short to check: the clause cannot be
					break
				}
				hs = append(hs, prefixHash(t.Form[:n]))
			}
			if hs != nil {
				cs = append(cs, hs)
				terms += len(hs)
			}
		}
		if len(cs) == 0 {
			f.all = true
		}
		f.rules = append(f.rules, cs)
	}
	if terms > maxFilterTerms || len(f.rules) == 0 {
		f.all = true
	}
	return f
}

// MayMatch reports whether the item of rec may match one of the filter's
// rules. It is true for a record without a usable sketch (none, another
// analysis, unreadable), so skipping is always safe.
func (f *Filter) MayMatch(rec []byte) bool {
	if f.all {
		return true
	}
	sk, _, err := split(rec)
	if err != nil || len(sk) < 5+minSketch || binary.LittleEndian.Uint32(sk) != Fingerprint() {
		return true
	}
	k := uint64(sk[4])
	bits := sk[5:]
	m := uint64(len(bits) * 8)
	has := func(h uint64) bool {
		h1, h2 := h&0xffffffff, h>>32|1
		for i := range k {
			b := (h1 + i*h2) % m
			if bits[b/8]&(1<<(b%8)) == 0 {
				return false
			}
		}
		return true
	}
rule:
	for _, cs := range f.rules {
		for _, c := range cs {
			found := false
			for _, h := range c {
				if has(h) {
					found = true
					break
				}
			}
			if !found {
				continue rule
			}
		}
		return true
	}
	return false
}

// Checks reports whether the filter can skip anything: false when some
// rule has no word a sketch can check or there are too many rules, so
// every item is matched in full.
func (f *Filter) Checks() bool { return !f.all }
