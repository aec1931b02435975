package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// testForgetItems: a poll with ForgetBefore deletes the feed's items first
// seen before it that have left the feed, and only those: an old item the
// feed still lists stays seen (it must not alert again), a recent item
// that left stays, and other feeds' items are untouched.
func testForgetItems(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f", "g")
	old := T0.Add(-100 * 24 * time.Hour)
	_, err := s.CommitPoll(ctx, poll(feed(t, s, "f"), old, "", "old-gone", "old-listed"))
	must(t, err)
	_, err = s.CommitPoll(ctx, poll(feed(t, s, "g"), old, "", "old-gone"))
	must(t, err)
	_, err = s.CommitPoll(ctx, poll(feed(t, s, "f"), T0.Add(-time.Hour), "", "new-gone"))
	must(t, err)

	p := poll(feed(t, s, "f"), T0, "#a", "fresh")
	p.ForgetBefore = T0.Add(-90 * 24 * time.Hour)
	p.Present = []string{"old-listed", "fresh"}
	q, err := s.CommitPoll(ctx, p)
	must(t, err)
	if q != 1 {
		t.Fatalf("queued %d alerts, want the one of the new item", q)
	}
	all := []string{"old-gone", "old-listed", "new-gone", "fresh"}
	got, err := s.UnseenItems(ctx, "f", all)
	must(t, err)
	if !slices.Equal(got, []string{"old-gone"}) {
		t.Fatalf("unseen after forgetting = %v, want only [old-gone]", got)
	}
	got, err = s.UnseenItems(ctx, "g", []string{"old-gone"})
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("another feed's item was forgotten: unseen %v", got)
	}

	// A feed whose document is empty forgets every old item.
	p = poll(feed(t, s, "g"), T0, "")
	p.ForgetBefore = T0.Add(-90 * 24 * time.Hour)
	_, err = s.CommitPoll(ctx, p)
	must(t, err)
	got, err = s.UnseenItems(ctx, "g", []string{"old-gone"})
	must(t, err)
	if !slices.Equal(got, []string{"old-gone"}) {
		t.Fatalf("unseen after an empty document = %v, want [old-gone]", got)
	}
}

// testPruneAlerts: alerts sent or failed before the cutoff are deleted;
// later ones, and queued or sending ones of any age, are kept.
func testPruneAlerts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 5, "#a")["#a"]
	_, got := claim(t, s, "n1", T0, 10)
	if len(got) != 5 {
		t.Fatalf("claimed %v", got)
	}
	must(t, s.MarkSent(ctx, got[0], "1.1", T0.Add(time.Minute)))    // old, sent
	must(t, s.MarkFailed(ctx, got[1], "boom", T0.Add(time.Minute))) // old, failed
	must(t, s.MarkSent(ctx, got[2], "1.2", T0.Add(time.Hour)))      // recent
	must(t, s.Retry(ctx, got[3], T0.Add(time.Hour), "503", false))  // queued
	// got[4] stays sending.

	n, err := s.PruneAlerts(ctx, T0.Add(30*time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("PruneAlerts deleted %d, want 2", n)
	}
	for i, id := range want {
		_, err := s.Alert(ctx, id)
		gone := err != nil
		if gone != (i < 2) {
			t.Fatalf("alert %d (%s): gone=%v (err %v)", i, id, gone, err)
		}
	}
	// Pruning again deletes nothing more.
	n, err = s.PruneAlerts(ctx, T0.Add(30*time.Minute))
	must(t, err)
	if n != 0 {
		t.Fatalf("second PruneAlerts deleted %d", n)
	}
}

// RunPruneInBatches checks that pruning in batches smaller than the backlog
// (prune deletes at most 2 alerts per transaction) deletes all of it, and
// only what is due. open returns an empty, migrated store.
func RunPruneInBatches(t *testing.T, s store.Store, prune func(ctx context.Context, before time.Time) (int, error)) {
	ctx := ctxT(t)
	queue(t, s, 6, "#a")
	_, got := claim(t, s, "n1", T0, 10)
	for i, id := range got[:5] {
		must(t, s.MarkSent(ctx, id, "1."+strconv.Itoa(i), T0))
	}
	n, err := prune(ctx, T0.Add(time.Minute))
	must(t, err)
	if n != 5 {
		t.Fatalf("pruned %d, want the 5 sent alerts", n)
	}
	left, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(left) != 1 || left[0].ID != got[5] {
		t.Fatalf("left %v, want only %s (still sending)", ids(left), got[5])
	}
}

// testPosts: posts recorded for the channel cap come back per channel,
// oldest first, from the given time on; recording forgets the channel's
// posts before forgetBefore.
func testPosts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for _, m := range []int{0, 20, 40, 50} {
		at := T0.Add(time.Duration(m) * time.Minute)
		must(t, s.RecordPost(ctx, "#desk", at, at.Add(-time.Hour)))
	}
	must(t, s.RecordPost(ctx, "#other", T0.Add(45*time.Minute), T0))
	got, err := s.Posts(ctx, "#desk", T0.Add(20*time.Minute))
	must(t, err)
	want := []time.Time{T0.Add(20 * time.Minute), T0.Add(40 * time.Minute), T0.Add(50 * time.Minute)}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("posts since +20m = %v, want %v", got, want)
	}
	// A post 90 minutes in forgets those before +30m.
	must(t, s.RecordPost(ctx, "#desk", T0.Add(90*time.Minute), T0.Add(30*time.Minute)))
	got, err = s.Posts(ctx, "#desk", time.Time{})
	must(t, err)
	want = []time.Time{T0.Add(40 * time.Minute), T0.Add(50 * time.Minute), T0.Add(90 * time.Minute)}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Fatalf("posts after forgetting = %v, want %v", got, want)
	}
	if got, err := s.Posts(ctx, "#other", time.Time{}); err != nil || len(got) != 1 {
		t.Fatalf("another channel's posts: %v %v", got, err)
	}
}
