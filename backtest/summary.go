package backtest

import (
	"cmp"
	"slices"
	"time"

	"github.com/wirewatch/wirewatch/rules"
)

// Summary is what a backtest found, bounded whatever the window: counts,
// the largest stories and the latest results.
type Summary struct {
	Since time.Time
	// Through is the first-seen time of the last item read: with Complete
	// false (a deadline), the window was read up to here.
	Through  time.Time
	Complete bool

	Scanned    int // items read
	Skipped    int // of which ruled out by their sketch, without analysis
	Unreadable int // records that could not be decoded (skipped)
	Matched    int // items that matched (with Against: either version)
	// With Against: items only the new version matches, only the old one,
	// and both.
	Added, Removed, Same int

	// Rules counts the items each rule matched, in rule order (with
	// Against: the rule tried, then the old version).
	Rules []Count
	// Days has one entry per UTC day from Since (or the first item) to the
	// last item, days without matches included.
	Days []Day
	// Feeds counts matched items per feed name, most first; OtherFeeds
	// counts the items of feeds beyond the first 2,000 names met.
	Feeds      []Count
	OtherFeeds int
	// Stories are the largest stories of several reports, largest first.
	Stories []Story
	// Latest are the latest results, oldest first (with Against: only the
	// items whose outcome changed).
	Latest []Result
}

// Count is a number of matched items by name.
type Count struct {
	Name  string
	Items int
}

// Day counts matched items on one UTC day.
type Day struct {
	Day                  time.Time // midnight UTC
	Matched              int
	Added, Removed, Same int
}

// Story is a story several matched items report.
type Story struct {
	ID      string
	Reports int
	Feeds   int // distinct feed names among the reports (up to 20 counted)
	First   time.Time
	Last    time.Time
	// Items are the first reports, at most 5, in order; Similarity[i] is
	// the story similarity that joined Items[i] to the story (0 for the
	// first report).
	Items      []Item
	Similarity []float64
	feeds      []string
}

type summary struct {
	o        Options
	until    time.Time // the end of the window, for Days
	s        Summary
	first    time.Time
	rules    map[string]int
	ruleList []string
	days     map[time.Time]*Day
	feeds    map[string]int
	open     map[string]*Story
	closed   []*Story // stories past their window with several reports, at most o.Stories
	latest   []Result // ring
	next     int
}

func (s *summary) init(o Options, rs []*rules.Rule) {
	s.o = o
	if !o.Since.IsZero() {
		s.until = time.Now()
	}
	s.s.Since = o.Since
	s.rules = map[string]int{}
	for _, r := range rs {
		if _, ok := s.rules[r.Name()]; !ok {
			s.rules[r.Name()] = 0
			s.ruleList = append(s.ruleList, r.Name())
		}
	}
	s.days = map[time.Time]*Day{}
	s.feeds = map[string]int{}
	s.open = map[string]*Story{}
}

func (s *summary) scanned(seen time.Time) {
	s.s.Scanned++
	if s.first.IsZero() || seen.Before(s.first) {
		s.first = seen
	}
	if seen.After(s.s.Through) {
		s.s.Through = seen
	}
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *summary) add(r *Result) {
	s.s.Matched++
	switch {
	case s.o.Against == nil:
	case r.Change == Added:
		s.s.Added++
	case r.Change == Removed:
		s.s.Removed++
	default:
		s.s.Same++
	}
	for _, h := range r.Hits {
		if _, ok := s.rules[h.Rule]; !ok {
			s.ruleList = append(s.ruleList, h.Rule)
		}
		s.rules[h.Rule]++
	}
	d := day(r.Item.Seen)
	dc := s.days[d]
	if dc == nil && len(s.days) < maxDays {
		dc = &Day{Day: d}
		s.days[d] = dc
	}
	if dc != nil {
		dc.Matched++
		switch {
		case s.o.Against == nil:
		case r.Change == Added:
			dc.Added++
		case r.Change == Removed:
			dc.Removed++
		default:
			dc.Same++
		}
	}
	if _, ok := s.feeds[r.Item.Feed]; ok || len(s.feeds) < maxFeeds {
		s.feeds[r.Item.Feed]++
	} else {
		s.s.OtherFeeds++
	}
	s.story(r)
	if s.o.Against == nil || r.Change != Same {
		lr := *r
		if len(s.latest) < s.o.Latest {
			s.latest = append(s.latest, lr)
		} else {
			s.latest[s.next] = lr
			s.next = (s.next + 1) % len(s.latest)
		}
	}
}

// story records r in its story. Stories whose window ended are closed: kept
// if they are among the largest with several reports, else forgotten.
func (s *summary) story(r *Result) {
	st := s.open[r.Story]
	if st == nil {
		if len(s.open) >= maxOpenStories {
			s.closeBefore(r.Item.Seen.Add(-s.o.StoryWindow))
		}
		if len(s.open) >= maxOpenStories {
			s.evictOldest()
		}
		st = &Story{ID: r.Story, First: r.Item.Seen}
		s.open[r.Story] = st
	}
	st.Reports++
	st.Last = r.Item.Seen
	if len(st.Items) < maxReports {
		st.Items = append(st.Items, r.Item)
		st.Similarity = append(st.Similarity, r.Similarity)
	}
	if len(st.feeds) < 20 && !slices.Contains(st.feeds, r.Item.Feed) {
		st.feeds = append(st.feeds, r.Item.Feed)
	}
	st.Feeds = len(st.feeds)
	if s.s.Matched%1024 == 0 {
		s.closeBefore(r.Item.Seen.Add(-s.o.StoryWindow))
	}
}

// closeBefore closes the open stories whose last report is before t (no
// later report can join them once the window has passed their items).
func (s *summary) closeBefore(t time.Time) {
	for id, st := range s.open {
		if st.Last.Before(t) {
			delete(s.open, id)
			s.keep(st)
		}
	}
}

// evictOldest closes the open story whose last report is the oldest.
func (s *summary) evictOldest() {
	var oldest *Story
	for _, st := range s.open {
		if oldest == nil || st.Last.Before(oldest.Last) {
			oldest = st
		}
	}
	if oldest != nil {
		delete(s.open, oldest.ID)
		s.keep(oldest)
	}
}

// keep adds a closed story to the largest ones if it is one of them.
func (s *summary) keep(st *Story) {
	if st.Reports < 2 {
		return
	}
	s.closed = append(s.closed, st)
	if len(s.closed) > 2*s.o.Stories {
		sortStories(s.closed)
		s.closed = s.closed[:s.o.Stories]
	}
}

func sortStories(ss []*Story) {
	slices.SortStableFunc(ss, func(a, b *Story) int {
		return cmp.Or(cmp.Compare(b.Reports, a.Reports), a.First.Compare(b.First), cmp.Compare(a.ID, b.ID))
	})
}

func (s *summary) result() *Summary {
	out := s.s
	for _, name := range s.ruleList {
		out.Rules = append(out.Rules, Count{name, s.rules[name]})
	}
	// Days: every day from the start of the window to the last item.
	if len(s.days) > 0 || !out.Since.IsZero() {
		from := out.Since
		if from.IsZero() || (!s.first.IsZero() && s.first.Before(from)) {
			from = s.first
		}
		to := out.Through
		if s.until.After(to) {
			to = s.until
		}
		if to.IsZero() {
			to = from
		}
		for d := day(from); !d.After(day(to)) && len(out.Days) < maxDays; d = d.AddDate(0, 0, 1) {
			if dc := s.days[d]; dc != nil {
				out.Days = append(out.Days, *dc)
			} else {
				out.Days = append(out.Days, Day{Day: d})
			}
		}
	}
	for name, n := range s.feeds {
		out.Feeds = append(out.Feeds, Count{name, n})
	}
	slices.SortFunc(out.Feeds, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Items, a.Items), cmp.Compare(a.Name, b.Name)) })
	var ss []*Story
	for _, st := range s.open {
		if st.Reports >= 2 {
			ss = append(ss, st)
		}
	}
	ss = append(ss, s.closed...)
	sortStories(ss)
	for _, st := range ss[:min(len(ss), s.o.Stories)] {
		c := *st
		c.Items = slices.Clone(st.Items)
		c.Similarity = slices.Clone(st.Similarity)
		c.feeds = nil
		out.Stories = append(out.Stories, c)
	}
	out.Latest = append(slices.Clone(s.latest[s.next:]), s.latest[:s.next]...)
	return &out
}
