package story

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// DefaultThreshold is the similarity at or above which two items are one
// story. It was chosen on testdata/pairs.tsv (TestPrecisionRecall) as the
// best balance of precision and recall there (0.913 and 0.933): a little
// higher loses reworded same-story pairs, a little lower merges different
// stories about the same actors.
const DefaultThreshold = 0.26

// Version is the encoding version of a marshalled Signature. It changes
// whenever the bytes or the words they come from (normalisation, stop
// words, hashing) change, so a stored signature is never compared with a
// new one made differently.
const Version = 1

// ErrVersion is returned by UnmarshalBinary for a signature written by
// another version; callers treat the item as having no signature.
var ErrVersion = errors.New("story: signature of another version")

// LSH banding: numBands bands of bandRows MinHash values each. With two
// rows, a pair of similarity s shares at least one band with probability
// 1-(1-s^2)^64: 0.99 at the threshold 0.26, 0.06 for unrelated items
// sharing one word in thirty, so Match verifies few candidates.
const (
	bandRows = 2
	numBands = 64
	numHash  = bandRows * numBands
)

// Signature is an item's story fingerprint: the sorted distinct hashes of
// the content words of its title and lead, and the LSH band keys of their
// MinHash. The zero Signature (no words) matches nothing.
//
// Signatures keep the word hashes rather than only the MinHash values:
// for a title and a 60-word lead they are as small (about 30 words, 4
// bytes each before compression), and they give the exact similarity, with
// no estimation error around the threshold.
type Signature struct {
	feats []uint32
	bands [numBands]uint64
}

// Sign computes the signature of an item from its title and lead
// (summary). Text is plain text; use SignAnalyzed for an item the rules
// package has already analysed (HTML stripped, say). Only the first
// maxSignBytes of each are read: far more than TitleWords or LeadWords
// words of any script need.
func Sign(title, lead string) Signature {
	return SignAnalyzed(rules.Analyze(rules.Document{Title: prefix(title), Summary: prefix(lead)}))
}

const maxSignBytes = 8 << 10

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
	return newSignature(features(contentWords(a), nil))
}

func newSignature(feats []uint32) Signature {
	s := Signature{feats: feats}
	if len(feats) == 0 {
		s.feats = nil
		return s
	}
	var mins [numHash]uint32
	for i := range mins {
		mins[i] = ^uint32(0)
	}
	for _, f := range feats {
		x := mix64(uint64(f))
		for i := range mins {
			if v := uint32((perm[i].a*x + perm[i].b) >> 32); v < mins[i] {
				mins[i] = v
			}
		}
	}
	for b := range s.bands {
		k := uint64(mins[b*bandRows])<<32 | uint64(mins[b*bandRows+1])
		s.bands[b] = mix64(k ^ uint64(b+1)*0x9e3779b97f4a7c15)
	}
	return s
}

// perm holds the MinHash permutations: multiply-shift hashes with fixed
// constants, so signatures are the same in every process.
var perm = func() (p [numHash]struct{ a, b uint64 }) {
	x := uint64(0x5769726577617463) // "Wirewatc"
	for i := range p {
		x += 0x9e3779b97f4a7c15
		p[i].a = mix64(x) | 1
		x += 0x9e3779b97f4a7c15
		p[i].b = mix64(x)
	}
	return p
}()

// IsZero reports a signature with no words; it matches nothing.
func (s Signature) IsZero() bool { return len(s.feats) == 0 }

// Len returns the number of distinct content words in the signature.
func (s Signature) Len() int { return len(s.feats) }

// Similarity returns the Jaccard similarity of two signatures' word sets:
// shared words over all words, 0 to 1. Zero signatures have similarity 0.
func Similarity(a, b Signature) float64 {
	if len(a.feats) == 0 || len(b.feats) == 0 {
		return 0
	}
	in := intersect(a.feats, b.feats)
	return float64(in) / float64(len(a.feats)+len(b.feats)-in)
}

func intersect(a, b []uint32) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		x, y := a[i], b[j]
		if x == y {
			n++
		}
		if x <= y {
			i++
		}
		if x >= y {
			j++
		}
	}
	return n
}

// MarshalBinary encodes the signature for a database column: a version
// byte, the number of word hashes, then the sorted hashes as uvarint
// deltas (about 100 to 200 bytes for a headline and lead).
func (s Signature) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 2+len(s.feats)*5)
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(len(s.feats)))
	prev := uint32(0)
	for i, f := range s.feats {
		d := f - prev
		if i == 0 {
			d = f
		}
		b = binary.AppendUvarint(b, uint64(d))
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
		return fmt.Errorf("story: signature: %d words, at most %d", n, maxFeatures)
	}
	p = p[k:]
	feats := make([]uint32, 0, n)
	cur := uint64(0)
	for i := uint64(0); i < n; i++ {
		d, k := binary.Uvarint(p)
		if k <= 0 {
			return fmt.Errorf("story: signature: bad word %d of %d", i, n)
		}
		p = p[k:]
		if i > 0 && d == 0 {
			return fmt.Errorf("story: signature: word %d repeats", i)
		}
		cur += d
		if cur > 0xFFFFFFFF {
			return fmt.Errorf("story: signature: word %d out of range", i)
		}
		feats = append(feats, uint32(cur))
	}
	if len(p) != 0 {
		return fmt.Errorf("story: signature: %d trailing bytes", len(p))
	}
	*s = newSignature(feats)
	return nil
}
