// Package backtest owns trying rules on items that already arrived: which
// stored items a rule would have matched (with the matched words), how many
// per day and per feed, the stories they form, and, between two versions of
// a rule, which items only one of them matches. `wirewatch try -since`, the
// rule playground of the operators' endpoint and Slack's `/wirewatch try`
// use it.
//
// It reads items through Source (the store keeps each item's text for
// [store] keep_text, as itemtext records) and writes nothing. A run streams:
// each matching item is handed to the caller as it is found, and what is
// kept for the Summary is bounded (counts per day and feed, the largest
// stories, the latest results), so memory does not grow with the number of
// items or matches. Each item costs one sketch check (itemtext.Filter: most
// items are skipped without being inflated or analysed), then one analysis
// and one match of all the rules at once; a matching item is grouped into
// stories once, whatever the number of rules it matches.
//
//	r, err := rules.Compile("query", q)          // a *rules.Error has the column
//	sum, err := backtest.Run(ctx, st, []*rules.Rule{r},
//		backtest.Options{Since: time.Now().Add(-7 * 24 * time.Hour)}, nil)
//	// sum.Matched, sum.Days, sum.Feeds, sum.Stories, sum.Latest
//
// With a non-nil emit, Run calls it for every matching item as it is found
// (oldest first); with a context deadline, Run returns what it found so far
// (Summary.Complete false) along with the context's error.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/story"
)

// Source is where a backtest reads stored items; the store satisfies it.
type Source interface {
	// ItemTexts calls fn for each stored item text first seen at or after
	// since, oldest first (the store: in the order it stored them). rec is
	// an itemtext record, valid only during the call. An error from fn
	// stops the walk and is returned.
	ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error
}

// Options configure a backtest. Zero values take the defaults.
type Options struct {
	// Since is where the window starts; stored items first seen before it
	// are not read.
	Since time.Time
	// Against is an older version of the rule being tried: results then
	// say which items only the new version matches (Added), only the old
	// one (Removed), or both (Same). Use it with exactly one rule.
	Against *rules.Rule
	// Latest is how many of the latest results the Summary keeps (50).
	Latest int
	// Stories is how many stories of several reports the Summary lists,
	// largest first (20).
	Stories int
	// StoryWindow is how long a story collects reports, as in the daemon
	// (story.DefaultWindow).
	StoryWindow time.Duration
	// SnippetRunes is the length of each result's snippet (300).
	SnippetRunes int
	// Analyzer analyses the items; a long-lived one (as the daemon has)
	// already knows the words of the news. Nil: a new one per run.
	Analyzer *rules.Analyzer
}

// Limits of what a Summary holds, whatever the window.
const (
	maxFeeds       = 2000 // feeds counted by name; the rest as OtherFeeds
	maxDays        = 400
	maxOpenStories = 20000
	maxReports     = 5 // reports listed per story
)

// Change says how two versions of a rule differ on an item.
type Change int8

const (
	Same    Change = iota // both versions match (or no Against)
	Added                 // only the rule tried matches
	Removed               // only Options.Against matches
)

func (c Change) String() string {
	switch c {
	case Added:
		return "added"
	case Removed:
		return "removed"
	}
	return "same"
}

// Item is an item a backtest matched, without its long text.
type Item struct {
	FeedKey, ID string
	// Seen is when Wirewatch first saw the item (for feed files: its
	// publication time, else the time of the run).
	Seen      time.Time
	Feed      string // the feed's name when the item was seen
	Title     string
	Link      string
	Published time.Time
}

// Hit is one rule matching one item.
type Hit struct {
	Rule string
	// Words are the distinct matched words, as "field:word".
	Words []string
}

// Result is one item that matched.
type Result struct {
	Item Item
	// Snippet is plain text of the item around the matched words of every
	// rule that matched it (one snippet per item, however many rules);
	// Marks are the byte ranges in it of the matched words.
	Snippet string
	Marks   [][2]int
	// Hits are the rules that matched, in rule order. With Against, the
	// hit of Options.Against comes last, named as that rule is.
	Hits   []Hit
	Change Change
	// Story identifies the story the item reports: the StoryID of its first
	// report in the window. Joined is false for that first report.
	Story  string
	Joined bool
	// Similarity is the story similarity that joined the item to its story
	// (with the story's closest report, or the centroid of its reports: see
	// package story), 0 for a story's first report.
	Similarity float64
}

// StoryID is how a Result names an item's story.
func StoryID(feedKey, itemID string) string { return feedKey + "\x00" + itemID }

// Backtest is one backtest in progress, for callers that push items
// rather than read a Source (feed files). It is not safe for concurrent
// use.
type Backtest struct {
	rs      []*rules.Rule
	against *rules.Rule
	ix      *rules.Index
	filter  *itemtext.Filter
	z       *rules.Analyzer
	stories *story.Index
	o       Options
	sum     summary
}

// New starts a backtest of rs (and o.Against).
func New(rs []*rules.Rule, o Options) (*Backtest, error) {
	if len(rs) == 0 {
		return nil, errors.New("backtest: no rule to try")
	}
	if o.Against != nil && len(rs) != 1 {
		return nil, errors.New("backtest: compare one rule with another version of it, not several")
	}
	if o.Latest <= 0 {
		o.Latest = 50
	}
	if o.Stories <= 0 {
		o.Stories = 20
	}
	if o.StoryWindow <= 0 {
		o.StoryWindow = story.DefaultWindow
	}
	if o.SnippetRunes <= 0 {
		o.SnippetRunes = 300
	}
	all := rs
	if o.Against != nil {
		all = []*rules.Rule{rs[0], o.Against}
	}
	b := &Backtest{
		rs: rs, against: o.Against, o: o,
		ix:      rules.NewIndex(all),
		filter:  itemtext.NewFilter(all...),
		z:       o.Analyzer,
		stories: story.New(story.Options{Window: o.StoryWindow, MaxEntries: maxOpenStories}),
	}
	if b.z == nil {
		b.z = rules.NewAnalyzer()
	}
	b.sum.init(o, all)
	return b, nil
}

// Run backtests rs over the items src holds since o.Since: it calls emit
// (if not nil) for each matching item as it is found, oldest first, and
// returns the summary. An error from emit stops the run and is returned.
// When ctx ends first, Run returns the summary so far (Complete false) and
// ctx's error. A record that cannot be read is counted (Summary.Unreadable)
// and skipped.
func Run(ctx context.Context, src Source, rs []*rules.Rule, o Options, emit func(*Result) error) (*Summary, error) {
	b, err := New(rs, o)
	if err != nil {
		return nil, err
	}
	n := 0
	err = src.ItemTexts(ctx, o.Since, func(feedKey, itemID string, seen time.Time, rec []byte) error {
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		res, ok := b.AddRecord(feedKey, itemID, seen, rec)
		if ok && emit != nil {
			return emit(res)
		}
		return nil
	})
	if err == nil {
		err = ctx.Err()
	}
	s := b.Summary()
	s.Complete = err == nil
	if err != nil {
		return s, fmt.Errorf("backtest: %w", err)
	}
	return s, nil
}

// AddRecord tests one stored item (an itemtext record). It returns the
// result if the item matched. An item whose sketch rules it out is not
// inflated or analysed.
func (b *Backtest) AddRecord(feedKey, itemID string, seen time.Time, rec []byte) (*Result, bool) {
	b.sum.scanned(seen)
	if !b.filter.MayMatch(rec) {
		b.sum.s.Skipped++
		return nil, false
	}
	t, err := itemtext.Decode(rec)
	if err != nil {
		b.sum.s.Unreadable++
		return nil, false
	}
	return b.add(feedKey, itemID, seen, &t)
}

// Add tests one item given as text (a feed file's, say) and returns the
// result if it matched.
func (b *Backtest) Add(feedKey, itemID string, seen time.Time, t *itemtext.Text) (*Result, bool) {
	b.sum.scanned(seen)
	return b.add(feedKey, itemID, seen, t)
}

func (b *Backtest) add(feedKey, itemID string, seen time.Time, t *itemtext.Text) (*Result, bool) {
	a := b.z.Analyze(t.Document())
	defer a.Release()
	ms := b.ix.Match(a)
	if len(ms) == 0 {
		return nil, false
	}
	res := &Result{Item: Item{FeedKey: feedKey, ID: itemID, Seen: seen, Feed: t.Feed, Title: t.Title, Link: t.Link, Published: t.Published}}
	var newHit, oldHit bool
	spans := ms[0].Spans
	res.Hits = make([]Hit, 0, len(ms))
	for i, m := range ms {
		if b.against != nil {
			if m.Rule == b.against {
				oldHit = true
			} else {
				newHit = true
			}
		}
		if i > 0 {
			if i == 1 {
				spans = append([]rules.Span(nil), spans...)
			}
			spans = append(spans, m.Spans...)
		}
		res.Hits = append(res.Hits, Hit{Rule: m.Rule.Name(), Words: rules.MatchedWords(a, m.Spans)})
	}
	res.Snippet, res.Marks = rules.Snippet(a, spans, b.o.SnippetRunes)
	switch {
	case b.against == nil || newHit && oldHit:
		res.Change = Same
	case newHit:
		res.Change = Added
	default:
		res.Change = Removed
	}
	// One story decision per item, whatever the number of rules.
	id := StoryID(feedKey, itemID)
	res.Story, res.Similarity, res.Joined = b.stories.Group(id, "backtest", story.SignAnalyzed(a), seen)
	if !res.Joined {
		res.Similarity = 0
	}
	b.sum.add(res)
	return res, true
}

// Summary returns what the backtest found so far.
func (b *Backtest) Summary() *Summary { return b.sum.result() }
