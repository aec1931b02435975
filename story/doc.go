// Package story owns story grouping: deciding whether a news item reports
// a story already alerted to the same channel within a window, so that
// Dawn, Geo and Reuters reporting one event in different words make one
// alert (later items reply in its thread) while different stories about
// the same people stay apart.
//
// It owns the story signature of an item, how signatures are compared and
// stored, and an in-memory index of each channel's recent items. It does
// not own item identity (an edited headline with the same GUID or link is
// the same item, decided before grouping), persistence (the caller stores
// each item's story id and marshalled signature, and rebuilds the index
// with Add at start), or what is posted to Slack.
//
// # Method
//
// An item's text is its title and the first LeadWords words of its lead
// (summary, else content), analysed by the rules package, so every
// script is normalised as rules see it (Unicode NFKC, case folding, Urdu
// letter variants, English stems). Function words (English, Urdu, Hindi)
// are dropped. The remaining words, hashed, are the item's shingles. Two
// items are the same story when the Jaccard similarity of their word sets
// (shared words over all words) is at least the threshold,
// DefaultThreshold unless configured.
//
// To find candidates among thousands of recent items without comparing
// with each, the index files every item under 64 LSH bands of its MinHash
// (two values each), so only items sharing a band are compared exactly.
//
// Single-word shingles and Jaccard were chosen by measurement on the
// labelled pairs in testdata/pairs.tsv: they separated same-story pairs
// from same-topic pairs better than adding or using only two-word
// shingles, and better than containment (shared words over the smaller
// set) or an average of the two. SimHash was not used: it estimates
// cosine similarity of weighted words, which needs word weights (document
// frequencies) the package does not have, and its bit-distance threshold
// is harder to explain to an editor.
//
// # Use
//
//	idx := story.New(story.Options{Window: 24 * time.Hour})
//	sig := story.Sign(item.Title, item.Summary)   // or SignAnalyzed
//	if id, score, ok := idx.Match(channel, sig, now); ok {
//		// reply in the thread of story id; score is the similarity
//	} else {
//		id = newStoryID()                           // a new story
//	}
//	idx.Add(id, channel, sig, now)                  // also for follow-ups
//	b, _ := sig.MarshalBinary()                     // store with the alert
//
// Index is safe for concurrent use. Matching is per channel: the same
// story alerted to two channels is two stories.
package story
