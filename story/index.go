package story

import (
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
	// Threshold is the similarity at or above which an item joins a story
	// (DefaultThreshold). Higher: fewer, surer groups.
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
}

type entry struct {
	seq   uint64
	story string
	at    time.Time
	sig   Signature
}

// channel is the index of one channel. Entries are numbered in the order
// they were added; bySeq[i] is entry base+i, nil once expired. order holds
// the live entries by time added (ties by number), from head on; buckets
// map each LSH band key to the numbers of the entries that have it,
// ascending.
type channel struct {
	bySeq   []*entry
	base    uint64
	live    int
	buckets map[uint64][]uint64
	order   []*entry
	head    int
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
	return &Index{window: o.Window, threshold: o.Threshold, maxEntries: o.MaxEntries, chans: make(map[string]*channel)}
}

// Match returns the story in channel that s belongs to: the story of the
// most similar item added within the window before now (an item added
// after now also counts, for clocks that disagree), if that similarity is
// at least the threshold. Ties go to the item added first, then to the
// one added to the index first, so the answer does not depend on map
// order or timing.
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
	var cands []uint64
	for _, k := range s.bands {
		cands = append(cands, c.buckets[k]...)
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	var best *entry
	for _, q := range cands {
		e := c.get(q)
		if e == nil || !e.at.After(cutoff) {
			continue
		}
		// Jaccard is at most the ratio of the sizes: skip the exact
		// comparison when even that is below the threshold.
		if la, lb := len(s.feats), len(e.sig.feats); float64(min(la, lb)) < x.threshold*float64(max(la, lb)) {
			continue
		}
		sc := Similarity(s, e.sig)
		if sc < x.threshold {
			continue
		}
		if best == nil || sc > score || sc == score && e.at.Before(best.at) {
			best, score = e, sc
		}
	}
	if best == nil {
		return "", 0, false
	}
	return best.story, score, true
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
		c = &channel{buckets: make(map[uint64][]uint64)}
		x.chans[channelName] = c
	}
	e := &entry{seq: c.base + uint64(len(c.bySeq)), story: storyID, at: at, sig: s}
	c.bySeq = append(c.bySeq, e)
	c.live++
	for _, k := range s.bands {
		c.buckets[k] = append(c.buckets[k], e.seq)
	}
	// Keep order sorted by time; items mostly arrive in order.
	i := len(c.order)
	for i > c.head && c.order[i-1].at.After(at) {
		i--
	}
	c.order = slices.Insert(c.order, i, e)
	c.expire(at.Add(-x.window), len(c.order)-c.head-x.maxEntries)
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
		n += c.expire(now.Add(-x.window), 0)
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
func (c *channel) expire(cutoff time.Time, extra int) int {
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
		for _, k := range e.sig.bands {
			b := c.buckets[k]
			if i, ok := slices.BinarySearch(b, e.seq); ok {
				b = slices.Delete(b, i, i+1)
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
