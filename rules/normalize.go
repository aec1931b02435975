package rules

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// isInvisible reports characters removed from text before it is split into
// words: they are invisible (or formatting only) and would otherwise break
// or disguise a word. ZWJ and ZWNJ are kept: they change how scripts such
// as Persian and Devanagari are written.
func isInvisible(r rune) bool {
	switch r {
	case '\u00AD', // soft hyphen
		'\u200B',           // zero-width space
		'\uFEFF',           // BOM / zero-width no-break space
		'\u2060',           // word joiner
		'\u180E',           // Mongolian vowel separator
		'\u200E', '\u200F', // LRM, RLM
		'\u061C': // Arabic letter mark
		return true
	}
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// cleanText removes invisible characters and collapses white space. The
// result is the text that spans index into.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	// Fast path: already clean (single ASCII spaces, nothing invisible).
	clean := len(s) == 0 || (s[0] != ' ' && s[len(s)-1] != ' ')
	for i := 0; clean && i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			clean = i+1 < len(s) && s[i+1] != ' '
		case c < ' ' || c == 0x7f:
			clean = false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			clean = !isInvisible(r) && !unicode.IsSpace(r)
			i += size - 1
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			// ASCII: a control character or white space is a space.
			i++
			if c <= ' ' || c == 0x7f {
				space = b.Len() > 0
				continue
			}
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isInvisible(r):
			continue
		case unicode.IsSpace(r) || (r < ' ' || r == 0x7f):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mapPunct maps curly quotes and apostrophes and every dash to ASCII, and
// drops characters that only decorate a word (tatweel, Arabic harakat).
// It returns -1 for a rune to drop.
func mapPunct(r rune) rune {
	switch r {
	case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u02BC', '\uFF07', '`', '\u00B4':
		return '\''
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u00AB', '\u00BB', '\uFF02':
		return '"'
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE58', '\uFE63', '\uFF0D', '\u2E3A', '\u2E3B':
		return '-'
	case '\u0640': // Arabic tatweel
		return -1
	}
	if isInvisible(r) {
		return -1
	}
	// Arabic harakat (short vowels, shadda, sukun...) and superscript alef:
	// optional marks, written inconsistently.
	if (r >= '\u064B' && r <= '\u065F') || r == '\u0670' {
		return -1
	}
	return unifyArabic(r)
}

// unifyArabic maps the letter variants of Arabic, Persian and Urdu that
// stand for the same letter to one form: yeh, kaf, heh and alef.
func unifyArabic(r rune) rune {
	switch r {
	case '\u064A', '\u0649', '\u06D0': // Arabic yeh, alef maksura, yeh (Pashto)
		return '\u06CC' // Farsi/Urdu yeh
	case '\u0643', '\u06AA': // Arabic kaf, swash kaf
		return '\u06A9' // keheh (Persian/Urdu kaf)
	case '\u0647', '\u06BE', '\u06C1', '\u06D5', '\u06C0', '\u06C2': // heh forms
		return '\u0647'
	case '\u0623', '\u0625', '\u0622', '\u0671', '\u0672', '\u0673': // alef with hamza/madda, wasla
		return '\u0627'
	}
	return r
}

// latinSpecial folds Latin letters that carry a "stroke" rather than a
// combining accent, so NFD cannot strip them.
var latinSpecial = map[rune]string{
	'ø': "o", 'đ': "d", 'ł': "l", 'ı': "i", 'æ': "ae", 'œ': "oe", 'ħ': "h", 'ŧ': "t", 'ƀ': "b", 'ɨ': "i",
}

// stripLatinAccents removes combining marks that follow a Latin letter.
// Marks on other scripts (Devanagari vowel signs, for example) are kept:
// removing them would corrupt the word.
func stripLatinAccents(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	latinBase := false
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if latinBase {
				continue
			}
			b.WriteRune(r)
			continue
		}
		latinBase = unicode.Is(unicode.Latin, r)
		if rep, ok := latinSpecial[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizer turns raw words into their matching forms. It holds a case
// folder, which is stateful, so each goroutine uses its own normalizer.
type normalizer struct {
	fold cases.Caser
}

func newNormalizer() *normalizer { return &normalizer{fold: cases.Fold()} }

// word returns the cased form of a raw word (NFKC, punctuation mapped,
// invisible marks dropped, possessive removed) and its exact form (cased
// form case-folded, Latin accents stripped). Both are empty for a word
// with no letter or digit.
func (n *normalizer) word(raw string) (cased, exact string) {
	if isASCII(raw) {
		cased = raw
		if strings.IndexByte(cased, '`') >= 0 {
			cased = strings.ReplaceAll(cased, "`", "'")
		}
		cased = trimPossessive(cased)
		exact = asciiLower(cased)
		return cased, exact
	}
	s := raw
	if !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
	}
	for _, r := range s {
		if mapPunct(r) != r {
			s = norm.NFC.String(strings.Map(mapPunct, s))
			break
		}
	}
	cased = trimPossessive(s)
	exact = cased
	if needsFold(exact) {
		exact = n.fold.String(exact)
		n.fold.Reset()
	}
	if hasLatinAccent(exact) {
		exact = stripLatinAccents(exact)
	}
	return cased, exact
}

// needsFold reports whether case folding can change s: it has an upper or
// title case letter, or one of the lower case letters that fold to
// another form.
func needsFold(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r >= 'A' && r <= 'Z' {
				return true
			}
			continue
		}
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return true
		}
		switch r {
		case 'ß', 'ς', 'ſ', 'ϐ', 'ϑ', 'ϕ', 'ϖ', 'ϰ', 'ϱ', 'ϵ', 'ẛ', '\u0345', 'ŉ', 'ǰ', 'ΐ', 'ΰ', 'և', 'ẖ', 'ẗ', 'ẘ', 'ẙ', 'ẚ':
			return true
		}
		if (r >= 0x13F8 && r <= 0x13FD) || (r >= 0xAB70 && r <= 0xABBF) || (r >= 0xFB00 && r <= 0xFB17) || (r >= 0x1F80 && r <= 0x1FFF) {
			return true // Cherokee lower case, ligatures, Greek with iota
		}
	}
	return false
}

// hasLatinAccent reports whether s may carry an accent on a Latin letter:
// a non-ASCII Latin letter, or a combining mark right after an ASCII one.
func hasLatinAccent(s string) bool {
	prevLatin := false
	for _, r := range s {
		if r < utf8.RuneSelf {
			prevLatin = r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			continue
		}
		if unicode.Is(unicode.Latin, r) || (prevLatin && unicode.Is(unicode.Mn, r)) {
			return true
		}
		prevLatin = false
	}
	return false
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// trimPossessive removes an English possessive ('s or a trailing ') and
// stray apostrophes at either end.
func trimPossessive(s string) string {
	i, j := trimPossessiveIdx(s)
	return s[i:j]
}

// trimPossessiveIdx returns the bounds of trimPossessive(s) in s.
func trimPossessiveIdx(s string) (i, j int) {
	j = len(s)
	if j > 2 && s[j-2] == '\'' && (s[j-1] == 's' || s[j-1] == 'S') {
		j -= 2
	}
	for i < j && s[i] == '\'' {
		i++
	}
	for j > i && s[j-1] == '\'' {
		j--
	}
	return i, j
}

// irregular maps irregular English forms to the form the stemmer knows.
var irregular = map[string]string{
	"struck": "strike", "stricken": "strike",
	"broke": "break", "broken": "break",
	"fought": "fight",
	"went":   "go", "gone": "go",
	"took": "take", "taken": "take",
	"gave": "give", "given": "give",
	"held": "hold",
	"met":  "meet",
	"said": "say", "says": "say",
	"told":  "tell",
	"ran":   "run",
	"began": "begin", "begun": "begin",
	"fled":    "flee",
	"shot":    "shoot",
	"won":     "win",
	"lost":    "lose",
	"sought":  "seek",
	"brought": "bring",
	"caught":  "catch",
	"led":     "lead",
	"spoke":   "speak", "spoken": "speak",
	"chose": "choose", "chosen": "choose",
	"risen": "rise",
	"fell":  "fall", "fallen": "fall",
	"wrote": "write", "written": "write",
	"stole": "steal", "stolen": "steal",
	"froze": "freeze", "frozen": "freeze",
	"bought": "buy",
	"sold":   "sell",
	"paid":   "pay",
	"laid":   "lay",
	"drove":  "drive", "driven": "drive",
	"flew": "fly", "flown": "fly",
	"threw": "throw", "thrown": "throw",
	"grew": "grow", "grown": "grow",
	"knew": "know", "known": "know",
	"hid": "hide", "hidden": "hide",
	"sank": "sink", "sunk": "sink",
	"swore": "swear", "sworn": "swear",
	"tore": "tear", "torn": "tear",
	"wore": "wear", "worn": "wear",
	"dealt":    "deal",
	"meant":    "mean",
	"felt":     "feel",
	"kept":     "keep",
	"built":    "build",
	"sent":     "send",
	"spent":    "spend",
	"taught":   "teach",
	"thought":  "think",
	"found":    "find",
	"stood":    "stand",
	"withdrew": "withdraw", "withdrawn": "withdraw",
	"overthrew": "overthrow", "overthrown": "overthrow",
	"forbade": "forbid", "forbidden": "forbid",
	"men": "man", "women": "woman", "children": "child",
	"people": "person",
	"mice":   "mouse", "feet": "foot", "teeth": "tooth",
	"crises": "crisis", "analyses": "analysis",
}

// stem returns the English stem of an exact form; words that are not
// plain a-z (other scripts, digits mixed with letters) are their own stem.
func stem(exact string) string {
	if len(exact) <= 2 {
		return exact
	}
	for i := 0; i < len(exact); i++ {
		if c := exact[i]; (c < 'a' || c > 'z') && c != '\'' {
			return exact
		}
	}
	w := exact
	if base, ok := irregular[w]; ok {
		w = base
	}
	return english.Stem(w, true)
}

// formsEntry is the exact form and stem of an ASCII word, with the hash
// of the exact form (maphash with formSeed) and of the stem.
type formsEntry struct {
	hash, stemHash uint64
	exact, stem    string
}

// asciiForms returns the exact form and stem of a lower-cased ASCII word
// (the same as word and stem would give for the cased word), whose hash
// is h, and the hash of the stem. An Analyzer remembers them; a nil one
// computes them every time.
func (z *Analyzer) asciiForms(lower []byte, h uint64) (exact, st string, stemHash uint64) {
	set := -1
	if z != nil {
		// The word's set of formsWays slots: their hashes share a cache
		// line, so a lookup reads one entry, the one whose hash matches.
		set = int(h & (formsSlots/formsWays - 1) * formsWays)
		for i := set; i < set+formsWays; i++ {
			if z.hashes[i].Load() != h {
				continue
			}
			if e := z.forms[i].Load(); e != nil && e.hash == h && e.exact == string(lower) {
				return e.exact, e.stem, e.stemHash
			}
		}
	}
	exact = string(lower)
	st = stem(exact)
	stemHash = maphash.String(formSeed, st)
	if set >= 0 {
		// Fill an empty slot of the set, or else replace one at random.
		// Racing writers may pair one's hash with the other's entry; a
		// reader checks the entry itself, so that costs a miss, no error.
		i := set + rand.IntN(formsWays)
		for j := set; j < set+formsWays; j++ {
			if z.hashes[j].Load() == 0 {
				i = j
				break
			}
		}
		z.forms[i].Store(&formsEntry{hash: h, stemHash: stemHash, exact: exact, stem: st})
		z.hashes[i].Store(h)
	}
	return exact, st, stemHash
}

// commonWords are words so frequent in news that a rule anchored only on
// them is checked against nearly every item.
var commonWords = map[string]bool{
	"said": true, "say": true, "says": true, "new": true, "year": true, "years": true,
	"one": true, "two": true, "also": true, "would": true, "could": true, "people": true,
	"news": true, "time": true, "like": true, "just": true, "will": true, "can": true,
	"get": true, "make": true, "first": true, "last": true, "us": true, "may": true,
}

// isCommon reports whether a normalised term is too common to anchor on.
func isCommon(term string) bool {
	if utf8.RuneCountInString(term) == 1 {
		// A one-letter word or digit is very common (a Han character is not,
		// necessarily). Two-letter words are common only as stop words:
		// "UN", "EU" and "UK" are fine anchors.
		r, _ := utf8.DecodeRuneInString(term)
		if r < 0x2E80 {
			return true
		}
	}
	return english.IsStopWord(term) || commonWords[term]
}
