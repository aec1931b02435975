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
	df    dfTable // live stories holding each term, all channels
	n     int     // live items, all channels

	thresholds [maxFeatures + 1]float64 // thresholdFor by terms
}

type entry struct {
	seq   uint64
	story string
	at    time.Time
	n     int // distinct terms of its signature
	st    *storyState
	all   []uint32 // its signature's terms, sorted
	dfs   []uint32 // the terms it counts in the document frequencies
	// unit is the weight of each term of all in its unit vector, in
	// 1/unitScale: 0 for a term it is not matched by (beyond its
	// maxMatchTerms heaviest).
	unit []uint16
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
// map each term to the entries whose vectors have it.
type channel struct {
	bySeq   []*entry
	meta    []uint16 // of entry base+i: its terms (at most nMask) | centBit
	base    uint64
	live    int
	buckets map[uint32]*bucket
	order   []*entry
	head    int
	stories map[string]*storyState
}

// bucket is a term's list of entries: postings by entry number,
// ascending, each the number (upper 48 bits) and the term's weight in the
// entry's unit vector (lower 16), and an upper bound of those weights.
type bucket struct {
	max uint16
	p   []uint64
}

func posting(seq uint64, unit uint16) uint64 { return seq<<16 | uint64(unit) }

// An entry's meta: its distinct terms, and whether its story has a
// centroid, kept beside bySeq so that candidates are sorted out without
// reading their entries.
const (
	nMask   = 0x7fff
	centBit = 0x8000
)

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
	x := &Index{window: o.Window, threshold: o.Threshold, maxEntries: o.MaxEntries, chans: make(map[string]*channel), df: dfTable{at: make(map[uint32]int32)}}
	for n := range x.thresholds {
		x.thresholds[n] = x.threshold * (1 - math.Exp(-float64(n)/halfTerms))
	}
	return x
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
	q := x.vectorOf(s, maxQueryTerms)
	if q.norm == 0 {
		return "", 0, false
	}
	// Candidates, scored term at a time over the terms' lists of items:
	// part is the share of an item's cosine that the terms whose lists
	// were read make. A term held by more than limit items of the channel
	// is common (a low weight, a long list): the longest such lists are
	// not read, as long as what their terms could add to any item's cosine
	// (slack: at most the sum of the query's weight times the term's
	// highest weight in any item, and at most the norm of the skipped
	// terms of the query) stays within skipShare of the threshold. That
	// margin is added to part before an item is compared in full, so no
	// item that was read is lost; an item that shares only skipped common
	// words with the query is not a candidate.
	limit := max(minPosting, c.live/postingShare)
	sc := scratchPool.Get().(*scratch)
	defer sc.release()
	sc.grow(len(c.bySeq))
	long, short := sc.lists[:0], sc.short[:0]
	for i, f := range q.terms {
		b := c.buckets[f]
		if b == nil {
			continue
		}
		l := list{b: b, qw: float32(float64(q.w[i]) / q.norm)}
		if len(b.p) > limit {
			long = append(long, l)
		} else {
			short = append(short, l)
		}
	}
	// The longest lists first (stable: ties in term order), then the
	// short ones, which are always read.
	slices.SortStableFunc(long, func(a, b list) int { return len(b.b.p) - len(a.b.p) })
	sc.lists, sc.short = long, short
	lists := append(long, short...)
	sc.lists = lists
	budget := skipShare * x.thresholdFor(q.n, q.n)
	var skipped2, skippedDot, slack float64
	for _, l := range lists {
		qw := float64(l.qw)
		if len(l.b.p) > limit {
			s2, sd := skipped2+qw*qw, skippedDot+qw*float64(l.b.max)/unitScale
			if s := min(math.Sqrt(s2), sd); s <= budget {
				skipped2, skippedDot, slack = s2, sd, s
				continue
			}
		}
		qs := float32(qw / unitScale)
		base, n, part := c.base, uint64(len(c.bySeq)), sc.part
		for _, p := range l.b.p {
			k, w := p>>16-base, uint16(p)
			if w == 0 || k >= n {
				continue
			}
			if part[k] == 0 {
				sc.touched = append(sc.touched, int32(k))
			}
			part[k] += qs * float32(w)
		}
	}
	// 1e-3: rounding of the float32 partial sums and of the 16-bit
	// weights (an entry's unit vector's norm is 1 within 2e-4).
	slack += 1e-3
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
	// Candidates in the order the lists were read: the query's terms in
	// order, each list by entry number, which no map order changes.
	// A story's centroid counts once the index holds minCentroidStories
	// stories (before, it blends common words).
	cents := x.n >= minCentroidStories
	for _, k := range sc.touched {
		pt := float64(sc.part[k])
		m := c.meta[k]
		th := x.thresholdFor(q.n, int(m&nMask))
		cent := cents && m&centBit != 0
		if pt+slack < th && !cent {
			continue // cannot join: most candidates stop here
		}
		e := c.bySeq[k]
		if e == nil {
			continue
		}
		inWindow := e.at.After(cutoff) && e.at.Sub(now) < x.window
		if cent && e.st.cent != nil {
			// What the story's reports could add to its centroid's
			// cosine, for the bound below; its first report in the
			// window stands for it.
			cs := sc.cents[e.st]
			if cs.e == nil && inWindow {
				cs.e = e
			}
			cs.pt += pt
			sc.cents[e.st] = cs
		}
		if !inWindow || pt+slack < th {
			continue
		}
		if sim := q.cosine(e); sim >= th && better(e, sim) {
			best, score = e, sim
		}
	}
	// A story's centroid is the sum of its reports' unit vectors (its
	// heaviest terms of it, all weights positive), so its dot with the
	// query is at most the sum of the reports' cosines: part plus slack
	// for each report the lists reached, slack for the others. Only a
	// centroid that bound lets reach its threshold is compared in full.
	for st, cs := range sc.cents {
		if cs.e == nil || st.cent.norm == 0 {
			continue
		}
		th := centroidFactor * x.thresholdFor(q.n, len(st.cent.feats))
		if (cs.pt+float64(st.live)*slack)/float64(st.cent.norm)+1e-3 < th {
			continue
		}
		if sim := st.cent.similarity(q); sim >= th && better(cs.e, sim) {
			best, score = cs.e, sim
		}
	}
	if best == nil {
		return "", 0, false
	}
	return best.story, score, true
}

// scratch is one match's scores by entry (part[k] for entry base+k) and
// the entries it touched, pooled so a match allocates no map.
type scratch struct {
	part    []float32
	touched []int32
	lists   []list
	short   []list
	cents   map[*storyState]centScore
}

// centScore is what a match knows of a story's centroid: the part its
// reports that the lists reached make, and the first of them in the
// window.
type centScore struct {
	pt float64
	e  *entry
}

// list is a query term's list of entries and its weight in the query.
type list struct {
	b  *bucket
	qw float32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{cents: make(map[*storyState]centScore)} }}

func (s *scratch) grow(n int) {
	if len(s.part) < n {
		s.part = make([]float32, n+n/4)
	}
}

func (s *scratch) release() {
	for _, k := range s.touched {
		s.part[k] = 0
	}
	s.touched = s.touched[:0]
	clear(s.cents)
	scratchPool.Put(s)
}

// thresholdFor is the threshold for two term vectors of na and nb
// distinct terms: Threshold * (1 - exp(-n/halfTerms)) for the smaller n,
// which is about three quarters of Threshold for a headline alone (8
// terms), 98% for a headline and a two-sentence summary (25) and all of it
// for a lead. Two short texts share fewer words when they report one
// story, and fewer by chance when they do not; measured, the best
// threshold for headlines alone is about half of the one for full leads.
func (x *Index) thresholdFor(na, nb int) float64 {
	n := min(na, nb)
	if n < len(x.thresholds) {
		return x.thresholds[n]
	}
	return x.threshold * (1 - math.Exp(-float64(n)/halfTerms))
}

// idf is the inverse document frequency of a term among the stories the
// index holds: ln((n+idfPrior+1)/(df+1)), so a term no story has weighs
// most, a term every story has almost nothing, and a nearly empty index
// weighs its few terms about the same.
func (x *Index) idf(f uint32) float64 {
	return x.idfOf(x.df.get(f))
}

// idfOf is the inverse document frequency of a term of document
// frequency df.
func (x *Index) idfOf(df int32) float64 {
	return math.Log((float64(x.n) + idfPrior + 1) / (float64(df) + 1))
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
		c = &channel{buckets: make(map[uint32]*bucket), stories: make(map[string]*storyState)}
		x.chans[channelName] = c
	}
	e := &entry{seq: c.base + uint64(len(c.bySeq)), story: storyID, at: at, n: len(s.feats), all: s.feats}
	c.bySeq = append(c.bySeq, e)
	c.meta = append(c.meta, uint16(min(len(s.feats), nMask)))
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
	e.st = st
	e.dfs = s.feats
	if storyDF && st.last != nil {
		e.dfs = difference(s.feats, st.last.all)
	}
	var dfs []int32 // of s's terms, when all of them are counted
	if len(e.dfs) == len(s.feats) {
		dfs = make([]int32, len(s.feats))
		for i, k := range e.dfs {
			dfs[i] = x.df.inc(k)
		}
	} else {
		for _, k := range e.dfs {
			x.df.inc(k)
		}
	}
	v := x.weigh(s, maxMatchTerms, dfs)
	e.unit = make([]uint16, len(e.all))
	u, j := v.unit(), 0
	for i, k := range v.terms {
		for e.all[j] != k {
			j++
		}
		e.unit[j] = u[i]
	}
	for i, k := range e.all {
		if e.unit[i] == 0 {
			continue
		}
		b := c.buckets[k]
		if b == nil {
			b = new(bucket)
			c.buckets[k] = b
		}
		b.p = append(b.p, posting(e.seq, e.unit[i]))
		b.max = max(b.max, e.unit[i])
	}
	if useCentroid && st.live > 0 {
		if st.cent == nil {
			st.cent = &centroid{}
			if st.last != nil {
				st.cent.add(unitOf(st.last))
			}
			// The story's entries are now candidates by its centroid.
			if st.live == 1 && st.last != nil {
				c.meta[st.last.seq-c.base] |= centBit
			} else {
				for i, o := range c.bySeq {
					if o != nil && o.st == st {
						c.meta[i] |= centBit
					}
				}
			}
		}
		st.cent.add(unitOf(e))
		c.meta[e.seq-c.base] |= centBit
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
			x.df.dec(k)
		}
		for i, k := range e.all {
			if e.unit[i] != 0 {
				c.unlist(k, e.seq)
			}
		}
	}
	for len(c.bySeq) > 0 && c.bySeq[0] == nil {
		c.bySeq, c.meta = c.bySeq[1:], c.meta[1:]
		c.base++
	}
	if c.head > 64 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
	return n
}

// unlist takes entry seq off term k's list.
func (c *channel) unlist(k uint32, seq uint64) {
	b := c.buckets[k]
	if b == nil {
		return
	}
	i, ok := 0, len(b.p) > 0 && b.p[0]>>16 == seq // mostly the oldest
	if !ok {
		i, ok = slices.BinarySearchFunc(b.p, seq, func(p, seq uint64) int { return cmp.Compare(p>>16, seq) })
	}
	if !ok {
		return
	}
	w := uint16(b.p[i])
	if i == 0 {
		// Items mostly expire oldest first: drop the head without
		// moving the rest.
		b.p = b.p[1:]
	} else {
		b.p = slices.Delete(b.p, i, i+1)
	}
	if len(b.p) == 0 {
		delete(c.buckets, k)
		return
	}
	if w == b.max {
		// The list's heaviest left: its bound is the next heaviest.
		b.max = 0
		for _, p := range b.p {
			b.max = max(b.max, uint16(p))
		}
	}
}

// dfTable holds the document frequency of each term in a slot, so that
// counting a term, reading it and weighing it take one map lookup.
type dfTable struct {
	at   map[uint32]int32 // term -> slot
	n    []int32          // by slot
	free []int32          // unused slots
}

func (t *dfTable) get(k uint32) int32 {
	if i, ok := t.at[k]; ok {
		return t.n[i]
	}
	return 0
}

// inc counts one more story with term k and returns its frequency.
func (t *dfTable) inc(k uint32) int32 {
	i, ok := t.at[k]
	if !ok {
		if n := len(t.free); n > 0 {
			i, t.free = t.free[n-1], t.free[:n-1]
		} else {
			i = int32(len(t.n))
			t.n = append(t.n, 0)
		}
		t.at[k] = i
		t.n[i] = 0
	}
	t.n[i]++
	return t.n[i]
}

// dec counts one story fewer with term k.
func (t *dfTable) dec(k uint32) {
	i, ok := t.at[k]
	if !ok {
		return
	}
	if t.n[i]--; t.n[i] <= 0 {
		delete(t.at, k)
		t.free = append(t.free, i)
	}
}

// Candidate search: a term's list of items is read when it holds at most
// max(minPosting, live items/postingShare) of the channel's items, or when
// skipping it would let the unread lists add more than skipShare of the
// threshold to an item's cosine.
const (
	minPosting   = 32
	postingShare = 500
	// skipShare bounds what the unread lists could add to an item's
	// cosine, as a share of the threshold.
	skipShare = 0.25
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
