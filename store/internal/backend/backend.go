// Package backend owns the logic the two SQL backends (store/sqlite and
// store/postgres) share, so that it is written once: what a write checks
// before it runs, how an alert's delivery state is restored on load, the
// order of claimed alerts, the mapping of UnseenItems' answer back to the
// caller's ids, the batching of prunes and the loops of the dump. The
// backends keep only their SQL and how they run it.
package backend

// Unseen returns, in input order and once each, the ids whose cleaned form
// (clean[i] is store.CleanID(ids[i])) a backend found unrecorded; idx are
// the positions in clean it reported.
func Unseen(ids, clean []string, idx []int) []string {
	out := make([]string, 0, len(idx))
	seen := make(map[string]bool, len(idx))
	for _, i := range idx {
		if i < 0 || i >= len(ids) || seen[clean[i]] {
			continue // a duplicate id in the input is reported once
		}
		seen[clean[i]] = true
		out = append(out, ids[i])
	}
	return out
}
