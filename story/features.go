package story

import (
	"slices"

	"github.com/kljensen/snowball/english"

	"github.com/wirewatch/wirewatch/rules"
)

// LeadWords is how many words of the lead (summary, else content) a
// signature reads: enough for the who/what/where of a news lead, short
// enough that a long article body does not drown its headline.
const LeadWords = 60

// TitleWords caps the words read from a title (hostile feeds send
// kilobyte titles).
const TitleWords = 64

func maxWords(f rules.Field) int {
	if f == rules.FieldTitle {
		return TitleWords
	}
	return LeadWords
}

// maxFeatures caps the shingles of one item, so hostile input costs a
// bounded amount of work.
const maxFeatures = TitleWords + LeadWords

// stopText lists function words of Urdu and Hindi (English uses the
// Snowball list). They are analysed at start with the rules package, so
// they are compared in exactly the form item words take.
const stopText = `
کے کی کا کو سے میں نے ہے ہیں اور پر کہ کر کیا گیا گئی گئے ہو ہوا ہوئی ہوئے یہ وہ بھی تو جو ایک لیے بعد تک کہا دیا
رہا رہی رہے ساتھ جس ان اس نہیں کوئی جب تھا تھی تھے گا گی گے والے والی والا ہی کسی کہنا کہتے مطابق جانب
का की के को से में ने है हैं और पर कि यह वह भी तो जो एक लिए बाद तक कहा दिया गया गई गए था थे थी हो होगी होगा
कर करने करेंगे करेगी करेगा ही साथ बीच इस उस नहीं कोई जब वाले वाली वाला किसी अपने अपनी बताया
`

var stopwords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range rules.Analyze(rules.Document{Title: stopText}).Words(rules.FieldTitle) {
		m[w] = true
	}
	return m
}()

// isStop reports a word that carries no story: a function word, or a
// single ASCII letter.
func isStop(exact string) bool {
	if len(exact) == 1 && exact[0] >= 'a' && exact[0] <= 'z' {
		return true
	}
	return stopwords[exact] || english.IsStopWord(exact)
}

// contentWords returns the stems of an item's title and lead words with
// function words removed, title first.
func contentWords(a *rules.Analyzed) []string {
	lead := rules.FieldSummary
	if len(a.Text(lead)) == 0 {
		lead = rules.FieldContent
	}
	var out []string
	for _, f := range [...]rules.Field{rules.FieldTitle, lead} {
		exact, stems := a.Words(f), a.Stems(f)
		if n := maxWords(f); len(exact) > n {
			exact, stems = exact[:n], stems[:n]
		}
		for i, w := range exact {
			if !isStop(w) {
				out = append(out, stems[i])
			}
		}
	}
	return out
}

// features returns an item's shingles as sorted, distinct 32-bit hashes:
// one per content word (single-word shingles). Measured on the labelled
// set (testdata/pairs.tsv, TestMethodChoice), single words separate
// same-story pairs from same-topic pairs better than single words plus
// neighbouring pairs, and much better than pairs alone: different outlets
// reword a story, so they share its people, places, numbers and key nouns
// far more often than two words in a row.
func features(words []string, dst []uint32) []uint32 {
	dst = dst[:0]
	for _, w := range words {
		dst = append(dst, uint32(hashString(w)>>32))
		if len(dst) >= maxFeatures {
			break
		}
	}
	slices.Sort(dst)
	return slices.Compact(dst)
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
