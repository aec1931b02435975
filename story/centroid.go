package story

import (
	"math"
	"slices"
)

// maxCentroidTerms caps the terms of a story's centroid: its heaviest
// terms are kept.
const maxCentroidTerms = 256

// centroid is the sum of the unit term vectors of a story's reports: the
// words the story keeps coming back to weigh most. A report can join a
// story by resembling its centroid as well as by resembling one of its
// reports, so that the tenth headline of a running story, worded like
// none before it, still finds it.
type centroid struct {
	feats []uint32
	w     []float32
	norm  float32
}

// unitOf returns the unit vector of an entry: its terms with their
// weights when added, over their norm.
func unitOf(e *entry) ([]uint32, []float32) {
	var f []uint32
	var w []float32
	for i, u := range e.unit {
		if u != 0 {
			f, w = append(f, e.all[i]), append(w, float32(u)/unitScale)
		}
	}
	return f, w
}

// add adds a vector to the centroid.
func (c *centroid) add(feats []uint32, w []float32) { c.merge(feats, w, 1) }

// sub takes a vector (added before) from the centroid.
func (c *centroid) sub(feats []uint32, w []float32) { c.merge(feats, w, -1) }

// merge adds (sign 1) or subtracts (sign -1) a vector.
func (c *centroid) merge(feats []uint32, w []float32, sign float32) {
	of, ow := c.feats, c.w
	nf := make([]uint32, 0, len(of)+len(feats))
	nw := make([]float32, 0, len(of)+len(feats))
	i, j := 0, 0
	for i < len(of) || j < len(feats) {
		switch {
		case j >= len(feats) || i < len(of) && of[i] < feats[j]:
			nf, nw = append(nf, of[i]), append(nw, ow[i])
			i++
		case i >= len(of) || feats[j] < of[i]:
			if sign > 0 {
				nf, nw = append(nf, feats[j]), append(nw, w[j])
			}
			j++
		default:
			if v := ow[i] + sign*w[j]; v > 1e-6 {
				nf, nw = append(nf, of[i]), append(nw, v)
			}
			i++
			j++
		}
	}
	if len(nf) > maxCentroidTerms {
		idx := make([]int, len(nf))
		for k := range idx {
			idx[k] = k
		}
		slices.SortFunc(idx, func(a, b int) int {
			if nw[a] > nw[b] {
				return -1
			}
			if nw[a] < nw[b] {
				return 1
			}
			return int(nf[a]) - int(nf[b])
		})
		idx = idx[:maxCentroidTerms]
		slices.Sort(idx)
		kf, kw := make([]uint32, len(idx)), make([]float32, len(idx))
		for k, x := range idx {
			kf[k], kw[k] = nf[x], nw[x]
		}
		nf, nw = kf, kw
	}
	c.feats, c.w = nf, nw
	var n float64
	for _, v := range nw {
		n += float64(v) * float64(v)
	}
	c.norm = float32(math.Sqrt(n))
}

// similarity is the cosine of q with the centroid.
func (c *centroid) similarity(q vector) float64 {
	if c.norm == 0 || q.norm == 0 {
		return 0
	}
	return min(1, dot(q.terms, q.w, c.feats, c.w)/(q.norm*float64(c.norm)))
}
