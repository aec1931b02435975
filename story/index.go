package story

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultWindow is how long a story stays open for new items.
const DefaultWindow = 24 * time.Hour

// DefaultMaxEntries bounds the items an Index holds per channel.
const DefaultMaxEntries = 100_000

// Options configure an Index. Zero values take the defaults.
type Options struct {
	// Window is how long after an item is added it can still be matched
	// (DefaultWindow).
	Window time.Duration
	// Threshold is the similarity at or above which an item with a lead
	// joins a story (DefaultThreshold); shorter items need less, down to
	// three quarters of it for a headline alone. Higher: fewer, surer
	// groups.
	Threshold float64
	// MaxEntries bounds the items held per channel; the oldest are dropped
	// first (DefaultMaxEntries).
	MaxEntries int
}

// Index holds the recent items of each channel by story, to find the
// story a new item belongs to. It is safe for concurrent use; Match calls
// run in parallel, Add, Group and Expire exclusively. Match then Add is
// not atomic: use Group where items of one channel are handled
// concurrently.
//
// An Index lives in memory only. After a restart, rebuild it by calling
// Add for each item stored within the window (story id, channel, the
// stored signature and the time it was added).
type Index struct {
	window     time.Duration
	threshold  float64
	maxEntries int

	mu    sync.RWMutex
	chans map[string]*channel
	df    map[uint32]int32 // live items holding each term, all channels
	n     int              // live items, all channels
}

type entry struct {
	seq   uint64
	story string
	at    time.Time
	sig   Signature
	w     weighted // weighed with the document frequencies when added
	dfs   []uint32 // the terms this entry counts in the document frequencies
}

// storyState is what a channel knows of one of its open stories: its
// live entries and the latest of them.
type storyState struct {
	id   string
	live int
	last *entry
	cent *centroid // of two reports or more
}

// channel is the index of one channel. Entries are numbered in the order
// they were added; bySeq[i] is entry base+i, nil once expired. order holds
// the live entries by time added (ties by number), from head on; buckets
// map each term to the entries that have it (by number, ascending) with
// the term's weight in each entry's unit vector.
type posting struct {
	seq uint64
	w   float32
}

type channel struct {
	bySeq   []*entry
	base    uint64
	live    int
	buckets map[uint32][]posting
	order   []*entry
	head    int
	stories map[string]*storyState
}

func (c *channel) get(seq uint64) *entry {
	if seq < c.base || seq-c.base >= uint64(len(c.bySeq)) {
		return nil
	}
	return c.bySeq[seq-c.base]
}

// New returns an empty Index.
func New(o Options) *Index {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Threshold <= 0 {
		o.Threshold = DefaultThreshold
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	return &Index{window: o.Window, threshold: o.Threshold, maxEntries: o.MaxEntries, chans: make(map[string]*channel), df: make(map[uint32]int32)}
}

// Match returns the story in channel that s belongs to: the story of the
// most similar item added within the window before now (an item added
// after now also counts, for clocks that disagree, if less than a window
// after), if that similarity is at least the threshold. Ties go to the item
// added first, then to the one added to the index first, so the answer
// does not depend on map order or timing.
func (x *Index) Match(channel string, s Signature, now time.Time) (storyID string, score float64, ok bool) {
	if s.IsZero() {
		return "", 0, false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.match(channel, s, now)
}

// Group matches and adds in one step, so that two items of a new story
// handled at the same time cannot both start a story: it returns the
// story s joins, or newID (joined false) when s starts one, and records
// the item either way. A zero signature always starts a story and is not
// recorded.
func (x *Index) Group(newID, channel string, s Signature, at time.Time) (storyID string, score float64, joined bool) {
	if s.IsZero() {
		return newID, 0, false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	storyID, score, joined = x.match(channel, s, at)
	if !joined {
		storyID = newID
	}
	x.add(storyID, channel, s, at)
	return storyID, score, joined
}

func (x *Index) match(channel string, s Signature, now time.Time) (storyID string, score float64, ok bool) {
	c := x.chans[channel]
	if c == nil {
		return "", 0, false
	}
	cutoff := now.Add(-x.window)
	ws := weightsOf(s, x.idf)
	if ws.norm2 == 0 {
		return "", 0, false
	}
	qn := math.Sqrt(ws.norm2)
	// Candidates, scored term at a time over the terms' lists of items:
	// part is the share of an item's cosine that the query's rarer terms
	// make. A term held by more than limit items of the channel is common
	// (a low weight, a long list): its list is not read, and what it could
	// add to any item's cosine, at most the norm of the query's common
	// terms (slack), is left as a margin. An item whose part plus slack
	// cannot reach the threshold is not compared in full; none is lost.
	limit := max(minPosting, c.live/postingShare)
	part := make(map[uint64]float64)
	var skipped float64
	for i, f := range s.feats {
		qw := float64(ws.idf[i]) * float64(s.meta[i]&countMask) / qn
		b := c.buckets[f]
		if len(b) > limit {
			skipped += qw * qw
			continue
		}
		for _, p := range b {
			part[p.seq] += qw * float64(p.w)
		}
	}
	slack := math.Sqrt(skipped)
	var best *entry
	better := func(e *entry, sc float64) bool {
		if best == nil || sc != score {
			return best == nil || sc > score
		}
		if !e.at.Equal(best.at) {
			return e.at.Before(best.at)
		}
		return e.seq < best.seq
	}
	var seen []*storyState
	for seq, pt := range part {
		e := c.get(seq)
		if e == nil || !e.at.After(cutoff) || e.at.Sub(now) >= x.window {
			continue
		}
		sc := 0.0
		if th := x.thresholdFor(len(s.feats), len(e.sig.feats)); pt+slack >= th {
			if sc = similarity(s, ws, e.sig, e.w); sc < th {
				sc = 0
			}
		}
		// A story's centroid counts once the index holds
		// minCentroidStories stories (before, it blends common words).
		if st := c.stories[e.story]; x.n >= minCentroidStories && st != nil && st.cent != nil && !slices.Contains(seen, st) {
			seen = append(seen, st)
			if cs := st.cent.similarity(s, ws); cs >= centroidFactor*x.thresholdFor(len(s.feats), len(st.cent.feats)) && cs > sc {
				sc = cs
			}
		}
		if sc > 0 && better(e, sc) {
			best, score = e, sc
		}
	}
	if best == nil {
		return "", 0, false
	}
	return best.story, score, true
}

// thresholdFor is the threshold for two term vectors of na and nb
// distinct terms: Threshold * (1 - exp(-n/halfTerms)) for the smaller n,
// which is about three quarters of Threshold for a headline alone (8
// terms), 98% for a headline and a two-sentence summary (25) and all of it
// for a lead. Two short texts share fewer words when they report one
// story, and fewer by chance when they do not; measured, the best
// threshold for headlines alone is about half of the one for full leads.
func (x *Index) thresholdFor(na, nb int) float64 {
	return x.threshold * (1 - math.Exp(-float64(min(na, nb))/halfTerms))
}

// idf is the inverse document frequency of a term among the stories the
// index holds: ln((n+idfPrior+1)/(df+1)), so a term no story has weighs
// most, a term every story has almost nothing, and a nearly empty index
// weighs its few terms about the same.
func (x *Index) idf(f uint32) float64 {
	df := float64(x.df[f])
	return math.Log((float64(x.n) + idfPrior + 1) / (df + 1))
}

// Add records an item of storyID in channel, added at at. A story may
// hold many items; each can be matched. Add also drops the channel's
// items that fell out of the window before at. A zero signature is not
// recorded.
func (x *Index) Add(storyID, channelName string, s Signature, at time.Time) {
	if s.IsZero() {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.add(storyID, channelName, s, at)
}

func (x *Index) add(storyID, channelName string, s Signature, at time.Time) {
	c := x.chans[channelName]
	if c == nil {
		c = &channel{buckets: make(map[uint32][]posting), stories: make(map[string]*storyState)}
		x.chans[channelName] = c
	}
	e := &entry{seq: c.base + uint64(len(c.bySeq)), story: storyID, at: at, sig: s}
	c.bySeq = append(c.bySeq, e)
	c.live++
	// Document frequencies count stories, not reports: a report of an
	// open story counts only the terms its story's latest report lacks,
	// so that a story told by twenty outlets does not make its own names
	// common.
	st := c.stories[storyID]
	if st == nil {
		st = &storyState{id: storyID}
		c.stories[storyID] = st
		x.n++
	} else if !storyDF {
		x.n++
	}
	e.dfs = s.feats
	if storyDF && st.last != nil {
		e.dfs = difference(s.feats, st.last.sig.feats)
	}
	for _, k := range e.dfs {
		x.df[k]++
	}
	e.w = weightsOf(s, x.idf)
	feats, unit := unitOf(e)
	for i, k := range feats {
		c.buckets[k] = append(c.buckets[k], posting{e.seq, unit[i]})
	}
	if useCentroid && st.live > 0 {
		if st.cent == nil {
			st.cent = &centroid{}
			if st.last != nil {
				st.cent.add(unitOf(st.last))
			}
		}
		st.cent.add(feats, unit)
	}
	st.live++
	st.last = e
	// Keep order sorted by time; items mostly arrive in order.
	i := len(c.order)
	for i > c.head && c.order[i-1].at.After(at) {
		i--
	}
	c.order = slices.Insert(c.order, i, e)
	c.expire(x, at.Add(-x.window), len(c.order)-c.head-x.maxEntries)
}

// Expire drops the items of every channel that fell out of the window
// before now, and returns how many it dropped. Add already expires the
// channel it adds to; call Expire now and then so quiet channels free
// their memory too.
func (x *Index) Expire(now time.Time) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	names := make([]string, 0, len(x.chans))
	for name := range x.chans {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := x.chans[name]
		n += c.expire(x, now.Add(-x.window), 0)
		if c.live == 0 {
			delete(x.chans, name)
		}
	}
	return n
}

// Len returns the number of items held across all channels.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, c := range x.chans {
		n += c.live
	}
	return n
}

// expire drops entries added at or before cutoff, and at least extra of
// the oldest ones, and returns how many it dropped.
func (c *channel) expire(x *Index, cutoff time.Time, extra int) int {
	n := 0
	for c.head < len(c.order) {
		e := c.order[c.head]
		if n >= extra && e.at.After(cutoff) {
			break
		}
		c.order[c.head] = nil
		c.head++
		n++
		c.bySeq[e.seq-c.base] = nil
		c.live--
		if st := c.stories[e.story]; st != nil {
			if st.live--; st.live <= 0 {
				delete(c.stories, e.story)
				x.n--
			} else {
				if !storyDF {
					x.n--
				}
				if st.last == e {
					st.last = nil
				}
				if st.cent != nil {
					f, w := unitOf(e)
					st.cent.sub(f, w)
				}
			}
		}
		for _, k := range e.dfs {
			if x.df[k]--; x.df[k] <= 0 {
				delete(x.df, k)
			}
		}
		for _, k := range e.sig.feats {
			b := c.buckets[k]
			if i, ok := slices.BinarySearchFunc(b, e.seq, func(p posting, seq uint64) int { return cmp.Compare(p.seq, seq) }); ok {
				if i == 0 {
					// Items mostly expire oldest first: drop the head
					// without moving the rest.
					b = b[1:]
				} else {
					b = slices.Delete(b, i, i+1)
				}
			}
			if len(b) == 0 {
				delete(c.buckets, k)
			} else {
				c.buckets[k] = b
			}
		}
	}
	for len(c.bySeq) > 0 && c.bySeq[0] == nil {
		c.bySeq = c.bySeq[1:]
		c.base++
	}
	if c.head > 64 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
	return n
}

// Candidate search: a term's list of items is read when it holds at most
// max(minPosting, live items/postingShare) of the channel's items.
const (
	minPosting   = 32
	postingShare = 500
)

// difference returns the sorted terms of a that b lacks.
func difference(a, b []uint32) []uint32 {
	var out []uint32
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}
