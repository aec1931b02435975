package story

import (
	"slices"

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
	var all []string
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
	var out []term
	content := false
	for _, f := range fs {
		for i, w := range f.exact {
			stop := isStop(l, w)
			if dropStops && stop {
				continue
			}
			content = content || !stop
			m := uint8(1)
			if f.title {
				m = titleCount | titleBit
			}
			out = append(out, term{uint32(hashString(truncate(st.stem(w, f.cased[i]), stemRunes)) >> 32), m})
		}
	}
	if !content {
		return nil // only function words: no story to tell
	}
	slices.SortFunc(out, func(a, b term) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return 0
	})
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
