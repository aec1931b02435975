package story

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// DefaultThreshold is the similarity at or above which two items with a
// lead's worth of words are one story; for shorter items the index uses a
// lower one (see Index.Match and the package doc). It was chosen on real
// labelled news in six languages and the project's own pairs
// (TestStoryData, TestPrecisionRecall), one value for every language.
const DefaultThreshold = 0.41

// Version is the encoding version of a marshalled Signature. It changes
// whenever the bytes or the words they come from (normalisation, stop
// words, stemming, hashing) change, so a stored signature is never
// compared with a new one made differently. Version 1 (word sets compared
// by Jaccard similarity) is no longer read: UnmarshalBinary returns
// ErrVersion for it.
const Version = 2

// ErrVersion is returned by UnmarshalBinary for a signature written by
// another version; callers treat the item as having no signature.
var ErrVersion = errors.New("story: signature of another version")

// Signature is an item's story fingerprint: the distinct stemmed content
// words (terms) of its title and lead, hashed, sorted, each with how often
// it occurs and whether the title has it. The zero Signature (no terms)
// matches nothing.
type Signature struct {
	feats []uint32
	meta  []uint8 // per term: titleBit | count
}

// Sign computes the signature of an item from its title and lead
// (summary). Text is plain text; use SignAnalyzed for an item the rules
// package has already analysed (HTML stripped, say). Only the first
// maxSignBytes of each are read: far more than TitleWords or LeadWords
// words of any script need.
func Sign(title, lead string) Signature {
	return SignAnalyzed(rules.Analyze(rules.Document{Title: prefix(title), Summary: prefix(lead)}))
}

const maxSignBytes = 16 << 10

// prefix cuts s to at most maxSignBytes, at a character boundary.
func prefix(s string) string {
	if len(s) <= maxSignBytes {
		return s
	}
	i := maxSignBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// SignAnalyzed computes the signature of an analysed item from its title
// and the first LeadWords words of its summary, or of its content when the
// summary is empty.
func SignAnalyzed(a *rules.Analyzed) Signature {
	ts := itemTerms(a)
	if len(ts) == 0 {
		return Signature{}
	}
	s := Signature{feats: make([]uint32, len(ts)), meta: make([]uint8, len(ts))}
	for i, t := range ts {
		s.feats[i], s.meta[i] = t.h, t.meta
	}
	return s
}

// IsZero reports a signature with no words; it matches nothing.
func (s Signature) IsZero() bool { return len(s.feats) == 0 }

// Len returns the number of distinct terms in the signature.
func (s Signature) Len() int { return len(s.feats) }

// Similarity returns the cosine of two signatures' term vectors with every
// term weighing its count alone, 0 to 1: the score an Index gives before it
// knows which terms are rare (it weighs them by their document frequencies
// among its stories). Zero signatures have similarity 0.
func Similarity(a, b Signature) float64 {
	wa, wb := counts(a), counts(b)
	// Squared norms as dot products, so that a signature's similarity to
	// itself is exactly 1.
	na, nb := dot(a.feats, wa, a.feats, wa), dot(b.feats, wb, b.feats, wb)
	if na == 0 || nb == 0 {
		return 0
	}
	return min(1, dot(a.feats, wa, b.feats, wb)/math.Sqrt(na*nb))
}

// counts is each term's count in s, as a weight.
func counts(s Signature) []float32 {
	w := make([]float32, len(s.meta))
	for i, m := range s.meta {
		w[i] = float32(m & countMask)
	}
	return w
}

// MarshalBinary encodes the signature for a database column: a version
// byte, the number of terms, then each term's hash as a uvarint delta from
// the one before and its meta byte (about 3 to 5 bytes a term).
func (s Signature) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 2+len(s.feats)*6)
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(len(s.feats)))
	prev := uint32(0)
	for i, f := range s.feats {
		b = binary.AppendUvarint(b, uint64(f-prev))
		b = append(b, s.meta[i])
		prev = f
	}
	return b, nil
}

// UnmarshalBinary decodes a signature written by MarshalBinary. It
// returns ErrVersion (wrapped) for another version and an error for
// malformed bytes; s is unchanged on error.
func (s *Signature) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return errors.New("story: empty signature")
	}
	if data[0] != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrVersion, data[0], Version)
	}
	p := data[1:]
	n, k := binary.Uvarint(p)
	if k <= 0 {
		return errors.New("story: signature: bad length")
	}
	if n > maxFeatures {
		return fmt.Errorf("story: signature: %d terms, at most %d", n, maxFeatures)
	}
	p = p[k:]
	feats := make([]uint32, 0, n)
	meta := make([]uint8, 0, n)
	cur := uint64(0)
	for i := uint64(0); i < n; i++ {
		d, k := binary.Uvarint(p)
		if k <= 0 || len(p) < k+1 {
			return fmt.Errorf("story: signature: bad term %d of %d", i, n)
		}
		m := p[k]
		p = p[k+1:]
		if i > 0 && d == 0 {
			return fmt.Errorf("story: signature: term %d repeats", i)
		}
		if m&countMask == 0 {
			return fmt.Errorf("story: signature: term %d has count 0", i)
		}
		cur += d
		if cur > math.MaxUint32 {
			return fmt.Errorf("story: signature: term %d out of range", i)
		}
		feats = append(feats, uint32(cur))
		meta = append(meta, m)
	}
	if len(p) != 0 {
		return fmt.Errorf("story: signature: %d trailing bytes", len(p))
	}
	*s = Signature{}
	if n > 0 {
		*s = Signature{feats: feats, meta: meta}
	}
	return nil
}
