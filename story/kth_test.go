package story

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKth checks the quickselect behind an item's heaviest terms against
// a sort, with ties.
func TestKth(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 1; n < 300; n += 7 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(r.IntN(20))
		}
		sorted := slices.Clone(w)
		slices.Sort(sorted)
		slices.Reverse(sorted)
		for k := 1; k <= n; k += 3 {
			if got := kth(slices.Clone(w), k); got != sorted[k-1] {
				t.Fatalf("n %d k %d: %v, want %v", n, k, got, sorted[k-1])
			}
		}
	}
}
