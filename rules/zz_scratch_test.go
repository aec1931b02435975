package rules

import "testing"

func TestZZSizes(t *testing.T) {
	benchSetup(t)
	var size, forms, occs, toks, tokcap, slots int
	for _, a := range benchAn {
		for f := range a.fields {
			size += len(a.fields[f].text)
			toks += len(a.fields[f].toks)
			tokcap += cap(a.fields[f].toks)
		}
		forms += len(a.forms)
		occs += len(a.occs)
		slots += len(a.slots)
	}
	n := len(benchAn)
	t.Logf("size %d forms %d (cap %d) occs %d toks %d tokcap %d slots %d", size/n, forms/n, size/n/8+8, occs/n, toks/n, tokcap/n, slots/n)
}
