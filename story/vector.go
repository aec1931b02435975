package story

import (
	"math"
	"slices"
)

// maxMatchTerms caps the terms of an item's vector in the index: an item
// with more distinct terms (a long lead) is compared by its maxMatchTerms
// heaviest (count times idf), so that matching and memory stay bounded
// per item. Items with fewer terms (a headline, a summary of a few
// sentences) are compared whole. 0: no cap.
var maxMatchTerms = 192

// maxQueryTerms caps the terms of an item's vector when it is matched.
var maxQueryTerms = 160

// unitScale is the fixed-point scale of a weight in a unit vector held by
// the index: 16 bits, a step of 1/65535.
const unitScale = 65535

// vector is an item's term vector as the index weighs it: its kept terms
// (sorted) with their weights (count times idf), and its norm over them.
type vector struct {
	terms []uint32
	w     []float32
	norm  float64
	n     int // distinct terms of the signature, kept or not
}

// vectorOf weighs s's terms with the index's document frequencies and
// keeps the maxMatchTerms heaviest.
func (x *Index) vectorOf(s Signature, keep int) vector { return x.weigh(s, keep, nil) }

// weigh is vectorOf with the document frequencies of s's terms given
// (nil: looked up).
func (x *Index) weigh(s Signature, keep int, dfs []int32) vector {
	v := vector{terms: s.feats, w: make([]float32, len(s.feats)), n: len(s.feats)}
	for i, f := range s.feats {
		var idf float64
		if dfs != nil {
			idf = x.idfOf(dfs[i])
		} else {
			idf = x.idf(f)
		}
		v.w[i] = float32(idf * float64(s.meta[i]&countMask))
	}
	if keep > 0 && len(v.terms) > keep {
		v.terms, v.w = heaviest(v.terms, v.w, keep)
	}
	for _, w := range v.w {
		v.norm += float64(w) * float64(w)
	}
	v.norm = math.Sqrt(v.norm)
	return v
}

// heaviest returns the k heaviest terms (ties to the smaller hash), in
// term order, with their weights.
func heaviest(terms []uint32, w []float32, k int) ([]uint32, []float32) {
	cut := kth(slices.Clone(w), k) // the k-th heaviest weight
	ties := k                      // terms of weight cut that are kept
	for _, x := range w {
		if x > cut {
			ties--
		}
	}
	kt, kw := make([]uint32, 0, k), make([]float32, 0, k)
	for i, x := range w {
		if x > cut || x == cut && ties > 0 {
			if x == cut {
				ties--
			}
			kt, kw = append(kt, terms[i]), append(kw, x)
		}
	}
	return kt, kw
}

// kth returns the k-th largest of w (1: the largest), reordering w
// (quickselect).
func kth(w []float32, k int) float32 {
	lo, hi, i := 0, len(w)-1, k-1 // the answer's index in w sorted descending
	for lo < hi {
		// Median of three as the pivot; Hoare partition, descending.
		mid := lo + (hi-lo)/2
		a, b, c := w[lo], w[mid], w[hi]
		p := max(min(a, b), min(max(a, b), c))
		l, r := lo, hi
		for l <= r {
			for w[l] > p {
				l++
			}
			for w[r] < p {
				r--
			}
			if l <= r {
				w[l], w[r] = w[r], w[l]
				l++
				r--
			}
		}
		switch {
		case i <= r:
			hi = r
		case i >= l:
			lo = l
		default:
			return w[i]
		}
	}
	return w[i]
}

// unit quantises v's weights over its norm to 16 bits.
func (v vector) unit() []uint16 {
	u := make([]uint16, len(v.w))
	if v.norm == 0 {
		return u
	}
	for i, w := range v.w {
		u[i] = uint16(min(unitScale, math.Round(float64(w)/v.norm*unitScale)))
	}
	return u
}

// cosine is the cosine of q with an entry's unit vector.
func (q vector) cosine(e *entry) float64 {
	if q.norm == 0 {
		return 0
	}
	return min(1, dot(q.terms, q.w, e.all, e.unit)/(q.norm*unitScale))
}

// dot is the dot product of two sparse vectors, each its terms (sorted)
// and their weights: the one sorted merge behind every similarity here.
func dot[A, B float32 | uint16](at []uint32, aw []A, bt []uint32, bw []B) float64 {
	var d float64
	i, j := 0, 0
	for i < len(at) && j < len(bt) {
		x, y := at[i], bt[j]
		if x == y {
			d += float64(aw[i]) * float64(bw[j])
		}
		if x <= y {
			i++
		}
		if x >= y {
			j++
		}
	}
	return d
}
