package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// RunCopy tests store.Copy from a store made by openFrom into one made by
// openTo (both empty and migrated): feeds (configured or not), items and the
// outbox with every delivery state move, delivery order is kept, and a
// second Copy changes nothing.
func RunCopy(t *testing.T, openFrom, openTo func(t *testing.T) store.Store) {
	ctx := ctxT(t)
	from, to := openFrom(t), openTo(t)

	// Source state: three feeds, one no longer configured.
	sync1(t, from, "a", "b", "gone")
	p := poll(feed(t, from, "a"), T0, "#a", "a1", "a2", "a3")
	p.Items[0].Outcome, p.Items[0].Matches = store.OutcomeAlerted, []store.ItemMatch{{Rule: "rule"}, {Rule: "muted", Muted: "feed muted until 2026-12-24T00:00:00Z"}}
	p.Feed.ETag, p.Feed.LastModified = `"etag-a"`, "Tue, 24 Nov 2026 11:00:00 GMT"
	p.Feed.ErrorStreak, p.Feed.LastError, p.Feed.FailingSince, p.Feed.HealthAlerted = 2, "HTTP 503", T0.Add(-time.Hour), true
	p.Feed.NotModified = 7
	_, err := from.CommitPoll(ctx, p)
	must(t, err)
	_, err = from.CommitPoll(ctx, poll(feed(t, from, "gone"), T0, "#b", "g1"))
	must(t, err)
	sync1(t, from, "a", "b")
	digest := itemAlert("b", "d1", "daily", "#b", T0)
	digest.Digest, digest.NextAttempt = "0 9 * * *", T0.Add(21*time.Hour)
	enqueue(t, from, opsAlert("ops-1", "#ops", "feed gone is down"), digest)
	// A story: its parent and a follow-up, with StoryID and Signature.
	parent := storyAlert("b", "s1", "#s", "", T0)
	enqueue(t, from, parent, storyAlert("b", "s2", "#s", parent.ID, T0.Add(time.Minute)))

	// Delivery states: #a: a1 sent, a2 retrying (uncertain), a3 left
	// "sending" by a claim that never finished; #b: g1 failed.
	ch, got := claim(t, from, "n1", T0, 10)
	if ch != "#a" || len(got) != 3 {
		t.Fatalf("claim = %q %v", ch, got)
	}
	must(t, from.MarkSent(ctx, got[0], "1.000001", T0.Add(time.Second)))
	must(t, from.Retry(ctx, got[1], T0.Add(time.Minute), "connection reset", true))
	_, gotB := claim(t, from, "n1", T0, 1)
	must(t, from.MarkFailed(ctx, gotB[0], "channel_not_found", T0.Add(2*time.Second)))

	// Editorial state: a rule in two versions, a retired one, mutes,
	// a mark and their audit entries.
	seedEditorial(t, from)

	wantFeeds := dumpFeeds(t, from)
	wantAlerts, err := from.Alerts(ctx, store.AlertFilter{})
	must(t, err)

	st, err := store.Copy(ctx, from, to)
	must(t, err)
	if st.Feeds != 3 || st.Items != 4 || st.Alerts != 8 {
		t.Fatalf("Copy stats = %+v, want 3 feeds, 4 items, 8 alerts", st)
	}
	if st.RuleVersions != 4 || st.Mutes != 2 || st.Feedback != 1 || st.Audit != 7 {
		t.Fatalf("Copy stats = %+v, want 4 rule versions, 2 mutes, 1 mark, 7 audit entries", st)
	}
	checkEditorialCopy(t, from, to)

	// Feeds, with their state and configured flag.
	gotFeeds := dumpFeeds(t, to)
	if len(gotFeeds) != len(wantFeeds) {
		t.Fatalf("copied %d feeds, want %d", len(gotFeeds), len(wantFeeds))
	}
	for i := range wantFeeds {
		if !feedEqual(gotFeeds[i], wantFeeds[i]) {
			t.Fatalf("copied feed differs:\n got %+v\nwant %+v", gotFeeds[i], wantFeeds[i])
		}
	}
	fs, err := to.Feeds(ctx)
	must(t, err)
	if !slices.Equal(keys(fs), []string{"a", "b"}) || fs[0].ItemsLast24h != 3 {
		t.Fatalf("Feeds after copy = %+v", fs)
	}
	// Items: seen in the copy, so no alert is raised twice.
	for feedKey, ids := range map[string][]string{"a": {"a1", "a2", "a3"}, "gone": {"g1"}} {
		unseen, err := to.UnseenItems(ctx, feedKey, append(ids, "new"))
		must(t, err)
		if !slices.Equal(unseen, []string{"new"}) {
			t.Fatalf("UnseenItems(%s) after copy = %v, want [new]", feedKey, unseen)
		}
	}
	n, err := to.CommitPoll(ctx, p)
	must(t, err)
	if n != 0 {
		t.Fatalf("re-committing a copied poll queued %d alerts", n)
	}

	// What became of each item comes across.
	if got, err := to.FindItems(ctx, []string{"a1"}); err != nil || len(got) != 1 || got[0].Outcome != store.OutcomeAlerted ||
		!slices.Equal(got[0].Matches, p.Items[0].Matches) {
		t.Fatalf("a1 on the copy = %+v, %v; want its outcome and matches", got, err)
	}

	// Alerts: same ids, order and states; "sending" became queued+uncertain.
	gotAlerts, err := to.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if !slices.Equal(ids(gotAlerts), ids(wantAlerts)) {
		t.Fatalf("copied alerts %v, want %v (newest first)", ids(gotAlerts), ids(wantAlerts))
	}
	for i, w := range wantAlerts {
		if w.State == store.StateSending {
			w.State, w.Uncertain = store.StateQueued, true
		}
		if !alertEqual(gotAlerts[i], w) {
			t.Fatalf("copied alert differs:\n got %+v\nwant %+v", gotAlerts[i], w)
		}
	}
	// Story heads and story members come across.
	heads, err := to.StoryHeads(ctx, time.Time{})
	must(t, err)
	if !slices.Equal(ids(heads), []string{parent.ID}) || string(heads[0].Signature) != string(parent.Signature) {
		t.Fatalf("StoryHeads on the copy = %+v, want the story parent with its signature", heads)
	}
	story, err := to.Alerts(ctx, store.AlertFilter{StoryID: parent.ID})
	must(t, err)
	if len(story) != 2 || story[1].ID != parent.ID || story[0].StoryID != parent.ID {
		t.Fatalf("story on the copy = %+v, want the follow-up and the parent", story)
	}

	// The copy delivers in the original order: a2 waits for its retry and
	// holds back a3; at the retry time both come, a2 first.
	if ch, got := claim(t, to, "m1", T0.Add(30*time.Second), 10); ch != "#ops" {
		t.Fatalf("first claim on the copy = %q %v, want #ops (a2's retry is not due)", ch, got)
	}
	ch, got2 := claim(t, to, "m1", T0.Add(time.Minute), 10)
	if ch != "#a" || !slices.Equal(got2, got[1:]) {
		t.Fatalf("claim on the copy = %q %v, want #a %v", ch, got2, got[1:])
	}

	// Copying again changes nothing (an interrupted Copy can be rerun).
	_, err = store.Copy(ctx, from, to)
	must(t, err)
	again, err := to.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(again) != len(wantAlerts) {
		t.Fatalf("second Copy: %d alerts, want %d", len(again), len(wantAlerts))
	}
	checkEditorialCopy(t, from, to)
}

func dumpFeeds(t *testing.T, s store.Store) []store.FeedRecord {
	t.Helper()
	d, ok := s.(store.Dumper)
	if !ok {
		t.Fatalf("%T is not a store.Dumper", s)
	}
	var out []store.FeedRecord
	must(t, d.DumpFeeds(ctxT(t), func(f store.FeedRecord) error {
		out = append(out, f)
		return nil
	}))
	return out
}

func feedEqual(a, b store.FeedRecord) bool {
	for _, p := range [][2]time.Time{{a.NextDue, b.NextDue}, {a.LastPoll, b.LastPoll},
		{a.LastSuccess, b.LastSuccess}, {a.FailingSince, b.FailingSince}} {
		if !p[0].Equal(p[1]) {
			return false
		}
	}
	a.NextDue, a.LastPoll, a.LastSuccess, a.FailingSince = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.NextDue, b.LastPoll, b.LastSuccess, b.FailingSince = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}
