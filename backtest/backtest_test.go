package backtest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
)

// item is a parsed item with where it came from.
type item struct {
	feedKey, id string
	text        itemtext.Text
}

var (
	corpusOnce  sync.Once
	corpusItems []item
	corpusErr   error
)

func parseFile(path string) ([]item, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := parse.Parse(b, mime.TypeByExtension(filepath.Ext(path)), "https://example.com/feed")
	if err != nil {
		return nil, err
	}
	var out []item
	for _, it := range doc.Items {
		out = append(out, item{feedKey: filepath.Base(path), id: it.ID, text: itemtext.Text{Title: it.Title, Summary: it.Summary, Content: it.Content, Feed: doc.Title, Author: it.Author, Link: it.Link, Categories: it.Categories, Published: it.Published}})
	}
	return out, nil
}

// corpus returns the items of the real feed corpus: every file that
// parses at full size (WIREWATCH_FULL=1, and for the benchmarks), one in
// three by default (the race detector makes analysis slow).
func corpus(t testing.TB) []item {
	t.Helper()
	corpusOnce.Do(func() {
		stride, n := testsize.Pick(3, 1), 0
		if _, bench := t.(*testing.B); bench {
			stride = 1
		}
		corpusErr = filepath.WalkDir("../monitor/parse/testdata/corpus", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if n++; n%stride != 0 {
				return nil
			}
			its, err := parseFile(p)
			if err == nil {
				corpusItems = append(corpusItems, its...)
			}
			return nil
		})
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	if len(corpusItems) < 300 {
		t.Fatalf("%d corpus items: monitor/parse/testdata/corpus is incomplete", len(corpusItems))
	}
	return corpusItems
}

var (
	weekOnce sync.Once
	weekNow  time.Time
	weekMem  *backtest.Memory
	weekSeen map[string]time.Time
)

// week stores the corpus as if seen over the 7 days before now, evenly,
// once for all the tests (which only read it); it returns that now.
func week(t testing.TB) (now time.Time, m *backtest.Memory, seen map[string]time.Time) {
	its := corpus(t)
	weekOnce.Do(func() {
		weekNow, weekMem, weekSeen = time.Now(), &backtest.Memory{}, map[string]time.Time{}
		for i, it := range its {
			at := weekNow.Add(-7 * 24 * time.Hour).Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(len(its)))
			weekMem.Add(it.feedKey, it.id, at, it.text)
			weekSeen[backtest.StoryID(it.feedKey, it.id)] = at
		}
	})
	return weekNow, weekMem, weekSeen
}

func compile(t testing.TB, name, q string) *rules.Rule {
	t.Helper()
	r, err := rules.Compile(name, q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want returns the items of its a rule matches, by their story id.
func want(its []item, r *rules.Rule) map[string]bool {
	out := map[string]bool{}
	for _, it := range its {
		if _, ok := r.Match(rules.Analyze(it.text.Document())); ok {
			out[backtest.StoryID(it.feedKey, it.id)] = true
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRunFindsEveryMatch checks a backtest over a week of real items
// against matching every item directly: the same items, none lost by the
// sketches that let most items be skipped, in time order, with the matched
// words; and the counts per day and per feed add up.
func TestRunFindsEveryMatch(t *testing.T) {
	now, m, seen := week(t)
	its := corpus(t)
	for _, q := range []string{
		`(Trump OR Biden OR Harris) AND (election OR president OR campaign)`,
		`(Apple OR Google OR Microsoft) AND (AI OR "artificial intelligence" OR iPhone)`,
		`"open source" OR open-source`,
		`ATLEAST(3, game OR games OR gaming)`,
	} {
		r := compile(t, "q", q)
		var got []*backtest.Result
		sum, err := backtest.Run(context.Background(), m, []*rules.Rule{r}, backtest.Options{Since: now.Add(-8 * 24 * time.Hour)}, func(res *backtest.Result) error {
			got = append(got, res)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w := want(its, r)
		gotIDs := map[string]bool{}
		for i, res := range got {
			gotIDs[backtest.StoryID(res.Item.FeedKey, res.Item.ID)] = true
			if i > 0 && res.Item.Seen.Before(got[i-1].Item.Seen) {
				t.Fatalf("%q: results out of time order", q)
			}
			if len(res.Hits) != 1 || len(res.Hits[0].Words) == 0 || len(res.Marks) == 0 || res.Snippet == "" {
				t.Fatalf("%q: result %q has no highlighted words: %+v", q, res.Item.Title, res.Hits)
			}
			mk := res.Marks[0]
			if hl := res.Snippet[mk[0]:mk[1]]; !strings.Contains(strings.ToLower(strings.Join(res.Hits[0].Words, " ")), strings.ToLower(hl)) {
				t.Fatalf("%q: highlighted %q is not among the matched words %v", q, hl, res.Hits[0].Words)
			}
		}
		if !slices.Equal(keys(gotIDs), keys(w)) || len(got) != len(w) {
			t.Fatalf("%q: backtest found %d items, matching each item finds %d", q, len(got), len(w))
		}
		if sum.Matched != len(w) || sum.Scanned != len(its) || !sum.Complete {
			t.Fatalf("%q: summary %d matched of %d scanned (complete %v), want %d of %d", q, sum.Matched, sum.Scanned, sum.Complete, len(w), len(its))
		}
		if sum.Skipped < (len(its)-len(w))/2 {
			t.Errorf("%q: only %d of %d items skipped by their sketch", q, sum.Skipped, len(its))
		}
		days, feeds := 0, sum.OtherFeeds
		for _, d := range sum.Days {
			days += d.Matched
		}
		for _, f := range sum.Feeds {
			feeds += f.Items
		}
		if days != len(w) || feeds != len(w) || len(sum.Days) < 8 || len(sum.Days) > 10 {
			t.Fatalf("%q: %d days summing to %d, feeds summing to %d; want 8-10 days, %d", q, len(sum.Days), days, feeds, len(w))
		}
		for id := range w {
			d := seen[id].UTC().Truncate(24 * time.Hour)
			found := false
			for _, dc := range sum.Days {
				found = found || dc.Day.Equal(d) && dc.Matched > 0
			}
			if !found {
				t.Fatalf("%q: the day of %s has no match", q, d)
			}
		}
		t.Logf("%q: %d matches over %d items, %d skipped by sketch", q, sum.Matched, sum.Scanned, sum.Skipped)
	}
}

func TestSinceLimitsTheWindow(t *testing.T) {
	now, m, seen := week(t)
	since := now.Add(-2 * 24 * time.Hour)
	r := compile(t, "q", `Apple OR Google OR Microsoft OR Trump`)
	sum, err := backtest.Run(context.Background(), m, []*rules.Rule{r}, backtest.Options{Since: since}, func(res *backtest.Result) error {
		if res.Item.Seen.Before(since) {
			t.Fatalf("%q seen %s, before the window", res.Item.Title, res.Item.Seen)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	in := 0
	for _, at := range seen {
		if !at.Before(since) {
			in++
		}
	}
	if sum.Scanned != in || sum.Matched == 0 || len(sum.Days) > 3 {
		t.Fatalf("scanned %d (want %d), matched %d, %d days", sum.Scanned, in, sum.Matched, len(sum.Days))
	}
}

// TestAgainstShowsTheDifference compares two versions of a rule on the
// reference wire: the new version drops the cricket and IMF items and keeps
// the reference article.
func TestAgainstShowsTheDifference(t *testing.T) {
	its, err := parseFile("testdata/reference.rss")
	if err != nil {
		t.Fatal(err)
	}
	its = append(its, corpus(t)...)
	m := &backtest.Memory{}
	now := time.Now()
	for i, it := range its {
		m.Add(it.feedKey, it.id, now.Add(-time.Hour).Add(time.Duration(i)*time.Second), it.text)
	}
	old := compile(t, "old", `(Pakistan OR Afghanistan) AND (strike OR talks)`)
	neu := compile(t, "new", `(Pakistan OR Afghanistan) AND (strike OR talks OR Apple) NOT (cricket OR IMF)`)
	got := map[backtest.Change][]string{}
	sum, err := backtest.Run(context.Background(), m, []*rules.Rule{neu}, backtest.Options{Since: now.Add(-2 * time.Hour), Against: old}, func(res *backtest.Result) error {
		got[res.Change] = append(got[res.Change], res.Item.Title)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wOld, wNew := want(its, old), want(its, neu)
	added, removed, same := 0, 0, 0
	for id := range wNew {
		if wOld[id] {
			same++
		} else {
			added++
		}
	}
	for id := range wOld {
		if !wNew[id] {
			removed++
		}
	}
	if len(got[backtest.Added]) != added || len(got[backtest.Removed]) != removed || len(got[backtest.Same]) != same {
		t.Fatalf("added %d removed %d same %d; want %d %d %d", len(got[backtest.Added]), len(got[backtest.Removed]), len(got[backtest.Same]), added, removed, same)
	}
	if sum.Added != added || sum.Removed != removed || sum.Same != same {
		t.Fatalf("summary: added %d removed %d same %d", sum.Added, sum.Removed, sum.Same)
	}
	hasPrefix := func(ts []string, p string) bool {
		return slices.ContainsFunc(ts, func(s string) bool { return strings.HasPrefix(s, p) })
	}
	if !hasPrefix(got[backtest.Removed], "Cricket: Gurbaz") || !hasPrefix(got[backtest.Removed], "Pakistan's IMF talks") || !hasPrefix(got[backtest.Same], "Pakistan will strike") {
		t.Fatalf("removed %q, kept %q", got[backtest.Removed], got[backtest.Same])
	}
	for _, l := range sum.Latest {
		if l.Change == backtest.Same {
			t.Fatalf("the latest results of a comparison list an unchanged item, %q", l.Item.Title)
		}
	}
	if len(sum.Rules) != 2 || sum.Rules[0].Name != "new" || sum.Rules[1].Name != "old" {
		t.Fatalf("per-rule counts %+v", sum.Rules)
	}
}

// TestStoriesOncePerItem: three outlets' reports of Asif's warning form one
// story of three reports, the Paktika strikes another, whatever the number
// of rules that match them.
func TestStoriesOncePerItem(t *testing.T) {
	m := &backtest.Memory{}
	at := time.Date(2025, 10, 29, 9, 0, 0, 0, time.UTC)
	for i, f := range []string{"story-dawn.rss", "story-geo.rss", "story-tribune.rss"} {
		its, err := parseFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for j, it := range its {
			m.Add(it.feedKey, it.id, at.Add(time.Duration(10*i+j)*time.Minute), it.text)
		}
	}
	var rs []*rules.Rule
	for i := range 5 {
		rs = append(rs, compile(t, fmt.Sprintf("r%d", i), `Pakistan OR Afghanistan OR Taliban OR Islamabad`))
	}
	stories := map[string]int{}
	sum, err := backtest.Run(context.Background(), m, rs, backtest.Options{Since: at.Add(-time.Hour)}, func(res *backtest.Result) error {
		if len(res.Hits) != len(rs) {
			t.Fatalf("%q: %d hits, want %d", res.Item.Title, len(res.Hits), len(rs))
		}
		stories[res.Story]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Matched != 4 || len(stories) != 2 {
		t.Fatalf("%d items in %d stories (%v); want 4 in 2", sum.Matched, len(stories), stories)
	}
	if len(sum.Stories) != 1 || sum.Stories[0].Reports != 3 || sum.Stories[0].Feeds != 3 || !strings.Contains(sum.Stories[0].Items[0].Title, "deep into Afghanistan") {
		t.Fatalf("stories %+v", sum.Stories)
	}
	for _, c := range sum.Rules {
		if c.Items != 4 {
			t.Fatalf("rule %s counted %d items", c.Name, c.Items)
		}
	}
}

// TestDeadlineGivesWhatWasFound: a run stopped by its context returns the
// results so far, marked incomplete, with the context's error.
func TestDeadlineGivesWhatWasFound(t *testing.T) {
	now, m, _ := week(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	sum, err := backtest.Run(ctx, m, []*rules.Rule{compile(t, "q", "Apple OR Google OR Trump OR game")}, backtest.Options{Since: now.Add(-8 * 24 * time.Hour)}, func(*backtest.Result) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if sum == nil || sum.Complete || sum.Matched < 3 || sum.Scanned >= m.Len() || sum.Through.IsZero() {
		t.Fatalf("partial summary %+v", sum)
	}
	stop := errors.New("enough")
	_, err = backtest.Run(context.Background(), m, []*rules.Rule{compile(t, "q", "Apple")}, backtest.Options{}, func(*backtest.Result) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("an error from emit gave %v", err)
	}
}

// TestSummaryIsBounded: the summary keeps the latest results and the
// largest stories only, however many items match.
func TestSummaryIsBounded(t *testing.T) {
	_, m, _ := week(t)
	var last []string
	sum, err := backtest.Run(context.Background(), m, []*rules.Rule{compile(t, "q", "the OR a OR and OR of")}, backtest.Options{Latest: 7, Stories: 3}, func(res *backtest.Result) error {
		last = append(last, res.Item.Title)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Matched < 150 || len(sum.Latest) != 7 || len(sum.Stories) > 3 {
		t.Fatalf("%d matched, %d latest, %d stories", sum.Matched, len(sum.Latest), len(sum.Stories))
	}
	for i, l := range sum.Latest {
		if l.Item.Title != last[len(last)-7+i] {
			t.Fatalf("latest[%d] is %q, want %q", i, l.Item.Title, last[len(last)-7+i])
		}
	}
	for i := 1; i < len(sum.Stories); i++ {
		if sum.Stories[i].Reports > sum.Stories[i-1].Reports {
			t.Fatal("stories are not largest first")
		}
	}
}

type badSource struct{}

func (badSource) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	for i, rec := range [][]byte{{1, 0, 0xde, 0xad}, {42}, itemtext.Encode(itemtext.Text{Title: "Apple event"}, nil)} {
		if err := fn("f", fmt.Sprint(i), time.Now(), rec); err != nil {
			return err
		}
	}
	return nil
}

func TestUnreadableRecordsAreSkipped(t *testing.T) {
	sum, err := backtest.Run(context.Background(), badSource{}, []*rules.Rule{compile(t, "q", "Apple")}, backtest.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Unreadable != 2 || sum.Matched != 1 {
		t.Fatalf("unreadable %d, matched %d", sum.Unreadable, sum.Matched)
	}
}
