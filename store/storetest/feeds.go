package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func testFeedNotFound(t *testing.T, s store.Store) {
	_, err := s.Feed(ctxT(t), "nope")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Feed of an unknown key: err = %v, want ErrNotFound", err)
	}
}

func testClaimDueFeeds(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	must(t, s.SyncFeeds(ctx, []store.FeedDef{
		{Key: "due", URL: "http://127.0.0.1/due", Due: T0},
		{Key: "later", URL: "http://127.0.0.1/later", Due: T0.Add(time.Hour)},
	}))
	got, err := s.ClaimDueFeeds(ctx, "r1", T0, time.Minute, 10)
	must(t, err)
	if !slices.Equal(keys(got), []string{"due"}) {
		t.Fatalf("r1 claimed %v at T0, want [due]", keys(got))
	}
	if got[0].URL != "http://127.0.0.1/due" || !got[0].NextDue.Equal(T0) {
		t.Fatalf("claimed feed state %+v", got[0])
	}
	// A live lease: nobody else (and not r1 again) gets it.
	for _, owner := range []string{"r2", "r1"} {
		again, err := s.ClaimDueFeeds(ctx, owner, T0.Add(59*time.Second), time.Minute, 10)
		must(t, err)
		if len(again) != 0 {
			t.Fatalf("%s claimed %v under r1's live lease", owner, keys(again))
		}
	}
	// r1 died: at the lease's end r2 gets the feed.
	again, err := s.ClaimDueFeeds(ctx, "r2", T0.Add(time.Minute), time.Minute, 10)
	must(t, err)
	if !slices.Equal(keys(again), []string{"due"}) {
		t.Fatalf("r2 claimed %v after r1's lease expired, want [due]", keys(again))
	}
	// r2 commits its poll: lease released, due again in 5 minutes.
	_, err = s.CommitPoll(ctx, store.Poll{Owner: "r2", Feed: poll(again[0], T0.Add(time.Minute), "").Feed})
	must(t, err)
	none, err := s.ClaimDueFeeds(ctx, "r3", T0.Add(5*time.Minute), time.Minute, 10)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("claimed %v before the next due time", keys(none))
	}
	next, err := s.ClaimDueFeeds(ctx, "r3", T0.Add(6*time.Minute), time.Minute, 10)
	must(t, err)
	if !slices.Equal(keys(next), []string{"due"}) {
		t.Fatalf("r3 claimed %v once due again, want [due]: CommitPoll must release the lease", keys(next))
	}
	// A stale commit by a former owner does not release r3's lease.
	_, err = s.CommitPoll(ctx, store.Poll{Owner: "r1", Feed: poll(next[0], T0.Add(6*time.Minute), "").Feed})
	must(t, err)
	f := feed(t, s, "due")
	f.NextDue = T0
	_, err = s.CommitPoll(ctx, store.Poll{Feed: f}) // no owner: releases nothing
	must(t, err)
	stolen, err := s.ClaimDueFeeds(ctx, "r4", T0.Add(6*time.Minute+30*time.Second), time.Minute, 10)
	must(t, err)
	if len(stolen) != 0 {
		t.Fatalf("r4 claimed %v while r3's lease is live", keys(stolen))
	}
}

func testClaimDueFeedsLimitAndOrder(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	var defs []store.FeedDef
	for i, k := range []string{"e", "d", "c", "b", "a"} {
		// e is due first, a last.
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: T0.Add(time.Duration(i) * time.Second)})
	}
	must(t, s.SyncFeeds(ctx, defs))
	now := T0.Add(time.Hour)
	first, err := s.ClaimDueFeeds(ctx, "r1", now, time.Minute, 2)
	must(t, err)
	if !slices.Equal(keys(first), []string{"e", "d"}) {
		t.Fatalf("first claim of 2 = %v, want the two due earliest [e d]", keys(first))
	}
	rest, err := s.ClaimDueFeeds(ctx, "r2", now, time.Minute, 0)
	must(t, err)
	if !slices.Equal(keys(rest), []string{"c", "b", "a"}) {
		t.Fatalf("claim without limit = %v, want [c b a]", keys(rest))
	}
	if _, err := s.ClaimDueFeeds(ctx, "", now, time.Minute, 0); err == nil {
		t.Fatal("ClaimDueFeeds accepted an empty owner")
	}
}

func testCommitPollIdempotent(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f")
	claimed, err := s.ClaimDueFeeds(ctx, "r1", T0, time.Minute, 1)
	must(t, err)
	p := poll(claimed[0], T0, "#desk", "i1", "i2", "i3")
	p.Owner = "r1"
	p.Items = append(p.Items, store.Item{FeedKey: "f", ID: "quiet", FirstSeen: T0}) // seen, no alert
	p.Feed.ETag = `"e"`
	n, err := s.CommitPoll(ctx, p)
	must(t, err)
	if n != 3 {
		t.Fatalf("first commit queued %d, want 3", n)
	}
	// The same poll again, and from another replica: nothing new.
	for _, owner := range []string{"r1", "r2"} {
		p.Owner = owner
		n, err = s.CommitPoll(ctx, p)
		must(t, err)
		if n != 0 {
			t.Fatalf("repeated commit by %s queued %d, want 0", owner, n)
		}
	}
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(all) != 3 {
		t.Fatalf("%d alerts in the outbox, want 3", len(all))
	}
	for _, a := range all {
		if a.State != store.StateQueued || a.Attempts != 0 {
			t.Fatalf("new alert %s: state %q attempts %d", a.ID, a.State, a.Attempts)
		}
	}
	unseen, err := s.UnseenItems(ctx, "f", []string{"i1", "i2", "i3", "quiet", "new"})
	must(t, err)
	if !slices.Equal(unseen, []string{"new"}) {
		t.Fatalf("UnseenItems after commit = %v, want [new]", unseen)
	}
	f := feed(t, s, "f")
	if f.ETag != `"e"` || f.Polls != 1 || !f.Initialized || !f.LastPoll.Equal(T0) || !f.NextDue.Equal(T0.Add(5*time.Minute)) {
		t.Fatalf("feed state after commit: %+v", f)
	}
	// A later poll with one new item queues only its alert.
	p2 := poll(f, T0.Add(5*time.Minute), "#desk", "i3", "i4")
	n, err = s.CommitPoll(ctx, p2)
	must(t, err)
	if n != 1 {
		t.Fatalf("second poll queued %d, want 1 (i4)", n)
	}
}

func testCommitPollAtomic(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f")
	p := poll(feed(t, s, "f"), T0, "#desk", "i1", "i2")
	p.Feed.ETag = `"new"`
	p.Alerts[1].Channel = "" // invalid: the whole poll must be refused
	if _, err := s.CommitPoll(ctx, p); err == nil {
		t.Fatal("CommitPoll accepted an alert without a channel")
	}
	unseen, err := s.UnseenItems(ctx, "f", []string{"i1", "i2"})
	must(t, err)
	if len(unseen) != 2 {
		t.Fatalf("a failed commit recorded items: unseen = %v", unseen)
	}
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(all) != 0 {
		t.Fatalf("a failed commit queued %d alerts", len(all))
	}
	if f := feed(t, s, "f"); f.ETag != "" || f.Polls != 0 {
		t.Fatalf("a failed commit changed the feed: %+v", f)
	}
	// An item of another feed is refused too.
	p = poll(feed(t, s, "f"), T0, "", "i1")
	p.Items[0].FeedKey = "other"
	if _, err := s.CommitPoll(ctx, p); err == nil {
		t.Fatal("CommitPoll accepted an item of another feed")
	}
}

// A poll that began before the configured URL changed must not put the old
// URL back.
func testCommitPollKeepsNewConfigURL(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f")
	old := feed(t, s, "f")
	must(t, s.SyncFeeds(ctx, []store.FeedDef{{Key: "f", URL: "http://127.0.0.1/new", Due: T0}}))
	p := poll(old, T0, "")
	p.Feed.ETag = `"old"`
	_, err := s.CommitPoll(ctx, p)
	must(t, err)
	f := feed(t, s, "f")
	if f.URL != "http://127.0.0.1/new" || f.ConfigURL != "http://127.0.0.1/new" || f.ETag != "" {
		t.Fatalf("stale poll overwrote the new configured URL: URL %q ConfigURL %q ETag %q", f.URL, f.ConfigURL, f.ETag)
	}
	if f.Polls != 1 {
		t.Fatalf("stale poll not recorded: %+v", f)
	}
}

func testUnseenItems(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f", "g")
	_, err := s.CommitPoll(ctx, poll(feed(t, s, "f"), T0, "", "b", "d"))
	must(t, err)
	got, err := s.UnseenItems(ctx, "f", []string{"e", "d", "c", "b", "a"})
	must(t, err)
	if !slices.Equal(got, []string{"e", "c", "a"}) {
		t.Fatalf("UnseenItems = %v, want [e c a] in input order", got)
	}
	// Items are per feed.
	got, err = s.UnseenItems(ctx, "g", []string{"b", "d"})
	must(t, err)
	if !slices.Equal(got, []string{"b", "d"}) {
		t.Fatalf("UnseenItems of another feed = %v, want [b d]", got)
	}
	got, err = s.UnseenItems(ctx, "f", nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("UnseenItems(nil) = %v", got)
	}
	// Many ids at once (beyond any parameter limit per statement).
	many := make([]string, 3000)
	for i := range many {
		many[i] = "m" + string(rune('a'+i%26)) + time.Duration(i).String()
	}
	many[1500] = "b"
	got, err = s.UnseenItems(ctx, "f", many)
	must(t, err)
	if len(got) != len(many)-1 || slices.Contains(got, "b") {
		t.Fatalf("UnseenItems of %d ids returned %d", len(many), len(got))
	}
}

func testFeedsItemsLast24h(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f", "quiet")
	now := T0.Add(48 * time.Hour)
	p := poll(feed(t, s, "f"), now, "")
	for i, age := range []time.Duration{0, time.Hour, 23 * time.Hour, 25 * time.Hour, 47 * time.Hour} {
		p.Items = append(p.Items, store.Item{FeedKey: "f", ID: string(rune('a' + i)), FirstSeen: now.Add(-age)})
	}
	_, err := s.CommitPoll(ctx, p)
	must(t, err)
	fs, err := s.Feeds(ctx)
	must(t, err)
	if len(fs) != 2 || fs[0].Key != "f" || fs[0].ItemsLast24h != 3 || fs[1].ItemsLast24h != 0 {
		t.Fatalf("Feeds = %+v, want f with ItemsLast24h 3 and quiet with 0", fs)
	}
}

// --- concurrency ---

func testConcurrentClaimFeeds(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	const nFeeds, workers = 40, 4
	var defs []store.FeedDef
	for i := range nFeeds {
		k := "f" + time.Duration(i).String()
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: T0})
	}
	must(t, s.SyncFeeds(ctx, defs))
	results := make([][]string, workers)
	errs := make([]error, workers)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			owner := "w" + time.Duration(w).String()
			for {
				got, err := s.ClaimDueFeeds(ctx, owner, T0, time.Minute, 3)
				if err != nil {
					errs[w] = err
					return
				}
				if len(got) == 0 {
					return
				}
				results[w] = append(results[w], keys(got)...)
			}
		}()
	}
	for range workers {
		<-done
	}
	seen := map[string]int{}
	for w := range workers {
		must(t, errs[w])
		for _, k := range results[w] {
			seen[k]++
		}
	}
	if len(seen) != nFeeds {
		t.Fatalf("%d distinct feeds claimed, want %d", len(seen), nFeeds)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("feed %s claimed %d times under live leases", k, n)
		}
	}
}

func testConcurrentCommitPoll(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f")
	base := feed(t, s, "f")
	const replicas = 4
	var itemIDs []string
	for i := range 30 {
		itemIDs = append(itemIDs, "i"+time.Duration(i).String())
	}
	total := make(chan int, replicas)
	errc := make(chan error, replicas)
	for range replicas {
		go func() {
			n, err := s.CommitPoll(ctx, poll(base, T0, "#desk", itemIDs...))
			total <- n
			errc <- err
		}()
	}
	sum := 0
	for range replicas {
		sum += <-total
		must(t, <-errc)
	}
	if sum != len(itemIDs) {
		t.Fatalf("%d replicas committing the same poll queued %d alerts in all, want %d", replicas, sum, len(itemIDs))
	}
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(all) != len(itemIDs) {
		t.Fatalf("outbox holds %d alerts, want %d", len(all), len(itemIDs))
	}
}

// testExtendFeedLease: a process still polling a feed keeps it past its
// first lease; nobody else claims it meanwhile; the extension fails once
// the lease is another's or the poll was committed.
func testExtendFeedLease(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "slow")
	got, err := s.ClaimDueFeeds(ctx, "r1", T0, time.Minute, 0)
	must(t, err)
	if len(got) != 1 || got[0].LeaseOwner != "r1" || !got[0].LeaseUntil.Equal(T0.Add(time.Minute)) {
		t.Fatalf("claimed %+v, want slow leased by r1 until T0+1m", got)
	}
	// Still polling at T0+50s: the lease runs to T0+50s+1m.
	must(t, s.ExtendFeedLease(ctx, "slow", "r1", T0.Add(50*time.Second), time.Minute))
	if f := feed(t, s, "slow"); f.LeaseOwner != "r1" || !f.LeaseUntil.Equal(T0.Add(110*time.Second)) {
		t.Fatalf("after the extension: lease %q until %v, want r1 until T0+110s", f.LeaseOwner, f.LeaseUntil)
	}
	if again, err := s.ClaimDueFeeds(ctx, "r2", T0.Add(90*time.Second), time.Minute, 0); err != nil || len(again) != 0 {
		t.Fatalf("r2 claimed %v (%v) under r1's extended lease", keys(again), err)
	}
	// Others cannot extend r1's lease, nor r1 an unknown feed.
	if err := s.ExtendFeedLease(ctx, "slow", "r2", T0.Add(90*time.Second), time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("r2 extending r1's lease: err = %v, want ErrLeaseLost", err)
	}
	if err := s.ExtendFeedLease(ctx, "nope", "r1", T0, time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("extending the lease of an unknown feed: err = %v, want ErrNotFound", err)
	}
	// The poll is committed: the lease is released and cannot be extended.
	_, err = s.CommitPoll(ctx, store.Poll{Owner: "r1", Feed: poll(got[0], T0.Add(100*time.Second), "").Feed})
	must(t, err)
	if f := feed(t, s, "slow"); f.LeaseOwner != "" || !f.LeaseUntil.IsZero() {
		t.Fatalf("after the commit: lease %q until %v, want none", f.LeaseOwner, f.LeaseUntil)
	}
	if err := s.ExtendFeedLease(ctx, "slow", "r1", T0.Add(100*time.Second), time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("extending a released lease: err = %v, want ErrLeaseLost", err)
	}
}
