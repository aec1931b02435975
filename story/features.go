package story

import (
	"slices"
	"sync"

	"github.com/wirewatch/wirewatch/rules"
)

// LeadWords is how many words of the lead (summary, else content) a
// signature reads: a news lead's who, what, where and when with the
// paragraphs that follow it, which is where reworded reports of one story
// still share their names, places and numbers.
const LeadWords = 300

// TitleWords caps the words read from a title (hostile feeds send
// kilobyte titles).
const TitleWords = 64

// maxFeatures caps the distinct terms of one item, so hostile input costs
// a bounded amount of work and storage.
const maxFeatures = TitleWords + LeadWords

// A term's meta byte: its count in the item (capped at maxCount), and a
// bit for a term of the title.
const (
	countMask = 0x7f
	maxCount  = countMask
	titleBit  = 0x80
)

// term is one distinct stemmed content word of an item: its hash, how
// often it occurs in the title and lead, and whether the title has it.
type term struct {
	h    uint32
	meta uint8
}

// itemTerms returns the distinct terms of an analysed item's title and
// lead (the first LeadWords words of the summary, else of the content),
// sorted by hash: words stemmed by the item's language, function words
// dropped.
func itemTerms(a *rules.Analyzed) []term {
	lead := rules.FieldSummary
	if len(a.Text(lead)) == 0 {
		lead = rules.FieldContent
	}
	type field struct {
		exact, cased []string
		title        bool
	}
	var fs [2]field
	all := make([]string, 0, TitleWords+LeadWords)
	for i, f := range [...]rules.Field{rules.FieldTitle, lead} {
		exact, cased := a.Words(f), a.CasedWords(f)
		n := LeadWords
		if f == rules.FieldTitle {
			n = TitleWords
		}
		if len(exact) > n {
			exact, cased = exact[:n], cased[:n]
		}
		fs[i] = field{exact, cased, f == rules.FieldTitle}
		all = append(all, exact...)
	}
	l := guessLang(all)
	st := newStemmer(l)
	out := make([]term, 0, len(all))
	content := false
	for _, f := range fs {
		hs := terms.of(l, st, f.exact, f.cased)
		for i := range f.exact {
			stop := hs[i]&stopBit != 0
			if dropStops && stop {
				continue
			}
			content = content || !stop
			m := uint8(1)
			if f.title {
				m = titleCount | titleBit
			}
			out = append(out, term{uint32(hs[i]), m})
		}
	}
	if !content {
		return nil // only function words: no story to tell
	}
	// Sort by hash (as one number with the meta byte, which sorts
	// faster than a comparison function; repeats merge the same in any
	// order).
	keys := make([]uint64, len(out))
	for i, t := range out {
		keys[i] = uint64(t.h)<<8 | uint64(t.meta)
	}
	keys = radixSort(keys, make([]uint64, len(keys)))
	for i, k := range keys {
		out[i] = term{uint32(k >> 8), uint8(k)}
	}
	// Merge repeats: counts add up, the title bit sticks.
	k := 0
	for _, t := range out {
		if k > 0 && out[k-1].h == t.h {
			p := &out[k-1]
			c := min(int(p.meta&countMask)+int(t.meta&countMask), maxCount)
			p.meta = (p.meta|t.meta)&^countMask | uint8(c)
			continue
		}
		out[k] = t
		k++
	}
	out = out[:k]
	if len(out) > maxFeatures {
		// Keep the title's terms and the most frequent others.
		slices.SortStableFunc(out, func(a, b term) int {
			return int(b.meta&countMask) + int(b.meta&titleBit)*2 - int(a.meta&countMask) - int(a.meta&titleBit)*2
		})
		out = out[:maxFeatures]
		slices.SortFunc(out, func(a, b term) int {
			if a.h < b.h {
				return -1
			}
			return 1
		})
	}
	return out
}

// termCache remembers the term (stem cut to stemRunes letters, hashed)
// each word makes in each language, and whether it is a function word, by the word's 64-bit hash: news
// repeats its words, and a Snowball stemmer costs far more than a map
// lookup. Each language holds at most maxCachedWords words (about 2 MB);
// a full map is emptied.
type termCache struct {
	mu        sync.RWMutex
	stemRunes int
	m         [numLangs]map[uint64]uint64 // by the word's hash: term | stopBit
}

// stopBit marks a function word in a termCache value.
const stopBit = 1 << 32

const maxCachedWords = 1 << 17

var terms termCache

// of returns the terms of the words exact (cased: as written) of an item
// in language l, each with stopBit set for a function word (isStop).
func (c *termCache) of(l lang, st *stemmer, exact, cased []string) []uint64 {
	key := exact
	if l == langTR {
		key = cased // Turkish is stemmed as written
	}
	out := make([]uint64, len(exact))
	keys := make([]uint64, len(key))
	for i, w := range key {
		keys[i] = hashString(w)
	}
	var miss []int
	c.mu.RLock()
	valid := c.stemRunes == stemRunes
	for i, k := range keys {
		h, ok := c.m[l][k]
		if !valid || !ok {
			miss = append(miss, i)
		}
		out[i] = h
	}
	c.mu.RUnlock()
	if len(miss) == 0 {
		return out
	}
	for _, i := range miss {
		out[i] = hashString(truncate(st.stem(exact[i], cased[i]), stemRunes)) >> 32
		if isStop(l, exact[i]) {
			out[i] |= stopBit
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stemRunes != stemRunes {
		c.stemRunes = stemRunes
		for i := range c.m {
			c.m[i] = nil
		}
	}
	m := c.m[l]
	if m == nil || len(m)+len(miss) > maxCachedWords {
		m = make(map[uint64]uint64)
		c.m[l] = m
	}
	for _, i := range miss {
		m[keys[i]] = out[i]
	}
	return out
}

// radixSort sorts keys by their bits 8 to 39 (a term's hash; the low
// byte, its meta, is left in any order), using tmp (as long as keys) and
// returning whichever of the two holds the result.
func radixSort(keys, tmp []uint64) []uint64 {
	for shift := 8; shift < 40; shift += 8 {
		var count [257]int
		for _, k := range keys {
			count[(k>>shift)&0xff+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, k := range keys {
			d := (k >> shift) & 0xff
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// truncate cuts a stem to its first n letters.
func truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// hashString is FNV-1a, 64 bits, finished with a mixer: stable across
// processes and versions, which a stored signature needs.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// mix64 is the SplitMix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
