package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// BenchUnchangedPoll measures the store's part of a poll of an unchanged
// feed with n items, as the monitor does it with retention on: which of
// the n ids are new (UnseenItems: none), then CommitPoll with the feed's
// new state, no items, and ForgetBefore with every id Present. One op is
// one such poll; its cost must grow no faster than n (issue 18.1: it was
// quadratic on SQLite).
func BenchUnchangedPoll(b *testing.B, s store.Store, n int) {
	ctx := b.Context()
	sync1T(b, s, "big")
	f, err := s.Feed(ctx, "big")
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	first := poll(f, T0, "")
	for i := range n {
		ids[i] = fmt.Sprintf("https://news.example.org/2026/11/24/story-%06d.html", i)
		first.Items = append(first.Items, store.Item{FeedKey: "big", ID: ids[i], Title: "Headline " + ids[i],
			Link: ids[i], Published: T0.Add(-time.Duration(i) * time.Minute), FirstSeen: T0})
	}
	if _, err := s.CommitPoll(ctx, first); err != nil {
		b.Fatal(err)
	}
	f = first.Feed
	b.ReportAllocs()
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		now := T0.Add(time.Duration(k+1) * 5 * time.Minute)
		unseen, err := s.UnseenItems(ctx, "big", ids)
		if err != nil {
			b.Fatal(err)
		}
		if len(unseen) != 0 {
			b.Fatalf("%d unseen, want 0", len(unseen))
		}
		p := poll(f, now, "")
		p.ForgetBefore = now.Add(-90 * 24 * time.Hour)
		p.Present = ids
		if _, err := s.CommitPoll(ctx, p); err != nil {
			b.Fatal(err)
		}
		f = p.Feed
	}
}

func sync1T(tb testing.TB, s store.Store, keys ...string) {
	tb.Helper()
	var defs []store.FeedDef
	for _, k := range keys {
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: T0})
	}
	if err := s.SyncFeeds(tb.Context(), defs); err != nil {
		tb.Fatal(err)
	}
}

// QueueBacklog enqueues n item alerts on channel, created at T0, in
// batches; it returns their ids in order.
func QueueBacklog(tb testing.TB, s store.Store, channel string, n int) []string {
	tb.Helper()
	var out []string
	batch := make([]store.Alert, 0, 1000)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := s.Enqueue(tb.Context(), batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		a := itemAlert("f", fmt.Sprintf("%s-%07d", channel, i), "rule", channel, T0)
		a.NextAttempt = T0
		a.Snippet = "… a snippet of plain text around the matched words, as the notifier shows it …"
		batch = append(batch, a)
		out = append(out, a.ID)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	return out
}

// BenchDrain measures draining a backlog of n queued alerts in one
// channel the way the notifier does: claim up to 200, mark each sent,
// release, until nothing is claimable. The figures are ns/alert (the
// whole cycle: each MarkSent is a durable commit) and ns/claim (one
// ClaimChannel of up to 200); neither may grow with n (issue 18.2: on
// SQLite each claim walked the backlog once per alert of it).
func BenchDrain(b *testing.B, s store.Store, n int) {
	ctx := b.Context()
	var delivered, claims int
	var elapsed, claiming time.Duration
	for k := 0; b.Loop(); k++ {
		b.StopTimer()
		ch := fmt.Sprintf("#backlog-%d", k)
		QueueBacklog(b, s, ch, n)
		b.StartTimer()
		start := time.Now()
		for {
			c0 := time.Now()
			got, as, err := s.ClaimChannel(ctx, "bench", T0, time.Minute, 200)
			claiming += time.Since(c0)
			claims++
			if err != nil {
				b.Fatal(err)
			}
			if got == "" {
				break
			}
			for _, a := range as {
				if err := s.MarkSent(ctx, a.ID, "1.0", T0); err != nil {
					b.Fatal(err)
				}
			}
			delivered += len(as)
			if err := s.ReleaseChannel(ctx, got, "bench", T0); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
	}
	if delivered != n*b.N {
		b.Fatalf("delivered %d alerts, want %d", delivered, n*b.N)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(delivered), "ns/alert")
	b.ReportMetric(float64(claiming.Nanoseconds())/float64(claims), "ns/claim")
}

// BenchScale runs the scale benchmarks of issue 18 on stores open makes:
// an unchanged poll of 1,000 to 40,000 items and a drain of 1,000 to
// 100,000 queued alerts.
//
//	go test -run '^$' -bench 'Scale' -benchtime 1x -benchmem ./store/sqlite/ ./store/postgres/
func BenchScale(b *testing.B, open func(testing.TB) store.Store) {
	for _, n := range []int{1000, 5000, 10000, 40000} {
		b.Run(fmt.Sprintf("UnchangedPoll/items=%d", n), func(b *testing.B) { BenchUnchangedPoll(b, open(b), n) })
	}
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("Drain/backlog=%d", n), func(b *testing.B) { BenchDrain(b, open(b), n) })
	}
}
