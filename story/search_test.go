package story

import (
	"strconv"
	"testing"
	"time"
)

// TestCandidateSearchLosesNothing checks the inverted index's candidate
// search, with its unread common lists, capped vectors and centroid
// bounds, against comparing every item and every story centroid in full.
// On the project's labelled items, each is matched against all the others
// (the two reports of a same-story pair are one story, so centroids are
// compared too); on the semeval articles (300-word leads, when the data is
// there), each second article against all the first ones in one channel.
// Both ways must give the same story and score.
func TestCandidateSearchLosesNothing(t *testing.T) {
	pairs := loadPairs(t)
	type item struct {
		story string
		sig   Signature
	}
	var items []item
	for i, p := range pairs {
		a, b := "a"+strconv.Itoa(i), "b"+strconv.Itoa(i)
		if p.same {
			b = a
		}
		items = append(items, item{a, Sign(p.titleA, p.leadA)}, item{b, Sign(p.titleB, p.leadB)})
	}
	found := 0
	for qi, q := range items {
		idx := New(Options{})
		for i, it := range items {
			if i != qi {
				idx.Add(it.story, "#desk", it.sig, t0)
			}
		}
		if searchAgrees(t, idx, q.sig, t0.Add(time.Hour), "pairs.tsv item "+strconv.Itoa(qi)) {
			found++
		}
	}
	if found == 0 {
		t.Fatal("no item matched: the comparison proves nothing")
	}
	t.Logf("pairs.tsv: %d items, %d matched a story, the same as comparing every item in full", len(items), found)

	sem := loadSemeval(t, storyData(t)) // skips when the data is absent
	idx := New(Options{})
	for i, p := range sem {
		idx.Add("a"+strconv.Itoa(i), "#desk", Sign(p.titleA, p.textA), t0)
	}
	found = 0
	for i, p := range sem {
		if searchAgrees(t, idx, Sign(p.titleB, p.textB), t0.Add(time.Hour), "semeval pair "+strconv.Itoa(i)) {
			found++
		}
	}
	t.Logf("semeval: %d articles against %d in one channel, %d matched, the same as comparing every item in full", len(sem), len(sem), found)
}

// searchAgrees matches s in idx's channel #desk and compares the answer
// with comparing s with every item and story centroid in full. It reports
// whether s matched.
func searchAgrees(t *testing.T, idx *Index, s Signature, now time.Time, what string) bool {
	t.Helper()
	id, score, ok := idx.Match("#desk", s, now)
	c := idx.chans["#desk"]
	v := idx.vectorOf(s, maxQueryTerms)
	wantID, want := "", 0.0
	seen := map[*storyState]bool{}
	for _, e := range c.bySeq {
		if e == nil {
			continue
		}
		if sim := v.cosine(e); sim >= idx.thresholdFor(v.n, e.n) && sim > want {
			wantID, want = e.story, sim
		}
		if st := e.st; idx.n >= minCentroidStories && st.cent != nil && !seen[st] {
			seen[st] = true
			if cs := st.cent.similarity(v); cs >= centroidFactor*idx.thresholdFor(v.n, len(st.cent.feats)) && cs > want {
				wantID, want = e.story, cs
			}
		}
	}
	if ok != (wantID != "") || score != want || id != wantID {
		t.Errorf("%s: the index says %q %.6f %v, every item compared says %q %.6f", what, id, score, ok, wantID, want)
	}
	return ok
}
