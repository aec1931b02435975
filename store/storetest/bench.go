package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// BenchCommitPoll measures one poll commit: a feed with 50 new items, 2 of
// which raised an alert, plus the feed's new state.
func BenchCommitPoll(b *testing.B, s store.Store) {
	ctx := b.Context()
	const nFeeds = 100
	var defs []store.FeedDef
	for i := range nFeeds {
		k := fmt.Sprintf("feed-%03d", i)
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: T0})
	}
	if err := s.SyncFeeds(ctx, defs); err != nil {
		b.Fatal(err)
	}
	states := make([]store.FeedState, nFeeds)
	for i, d := range defs {
		f, err := s.Feed(ctx, d.Key)
		if err != nil {
			b.Fatal(err)
		}
		states[i] = f
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		f := states[n%nFeeds]
		now := T0.Add(time.Duration(n) * time.Second)
		p := poll(f, now, "", "")
		p.Items = p.Items[:0]
		for i := range 50 {
			id := fmt.Sprintf("poll-%d-item-%d", n, i)
			p.Items = append(p.Items, store.Item{FeedKey: f.Key, ID: id, Title: "A headline of ordinary length " + id,
				Link: "https://example.org/news/" + id, Published: now.Add(-time.Hour), FirstSeen: now})
			if i < 2 {
				a := itemAlert(f.Key, id, "rule", fmt.Sprintf("#desk-%d", i), now)
				a.Snippet = "… a snippet of plain text around the matched words, as the notifier shows it …"
				a.Marks = [][2]int{{4, 11}, {30, 37}}
				p.Alerts = append(p.Alerts, a)
			}
		}
		q, err := s.CommitPoll(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		if q != 2 {
			b.Fatalf("queued %d, want 2", q)
		}
	}
}

// BenchOutbox measures the outbox cycle of one alert: Enqueue, ClaimChannel,
// MarkSent, ReleaseChannel.
func BenchOutbox(b *testing.B, s store.Store) {
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		now := T0.Add(time.Duration(n) * time.Second)
		a := itemAlert("f", fmt.Sprintf("item-%d", n), "rule", fmt.Sprintf("#desk-%d", n%4), now)
		if _, err := s.Enqueue(ctx, []store.Alert{a}); err != nil {
			b.Fatal(err)
		}
		ch, as, err := s.ClaimChannel(ctx, "bench", now, time.Minute, 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(as) != 1 || as[0].ID != a.ID {
			b.Fatalf("claimed %q %v, want %s", ch, ids(as), a.ID)
		}
		if err := s.MarkSent(ctx, a.ID, "1.0", now); err != nil {
			b.Fatal(err)
		}
		if err := s.ReleaseChannel(ctx, ch, "bench", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchFindItems measures FindItems (what `wirewatch explain` runs) on a
// store of n items over 100 feeds: a lookup by link, which reads the
// items table once.
func BenchFindItems(b *testing.B, s store.Store, n int) {
	ctx := b.Context()
	l, ok := s.(store.Loader)
	if !ok {
		b.Skipf("%T cannot load items", s)
	}
	var keys []string
	for i := range 100 {
		keys = append(keys, fmt.Sprintf("feed-%03d", i))
	}
	sync1T(b, s, keys...)
	const batch = 5000
	items := make([]store.Item, 0, batch)
	for i := range n {
		id := fmt.Sprintf("https://example.org/news/%d", i)
		items = append(items, store.Item{FeedKey: keys[i%100], ID: id, Title: "A headline of ordinary length " + id,
			Link: id + "?utm_source=rss", Published: T0.Add(-time.Hour), FirstSeen: T0, Outcome: store.OutcomeNoMatch})
		if len(items) == batch || i == n-1 {
			if err := l.LoadItems(ctx, items); err != nil {
				b.Fatal(err)
			}
			items = items[:0]
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		link := fmt.Sprintf("https://example.org/news/%d?utm_source=rss", (i*7919)%n)
		got, err := s.FindItems(ctx, []string{link})
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1 {
			b.Fatalf("FindItems(%s) = %d items", link, len(got))
		}
	}
}
