package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// testItemOutcome: what became of an item (its outcome and the rules it
// matched, muted or not) is kept with it, and FindItems finds items by id
// (a GUID or canonical link) and by link as the feed gave it, in every
// feed that has them, oldest first.
func testItemOutcome(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "dawn", "wire")
	p := poll(feed(t, s, "dawn"), T0, "")
	p.Items = []store.Item{
		{ID: "https://dawn.com/news/1", Title: "Strike", Link: "https://dawn.com/news/1?utm_source=rss", Published: T0.Add(-time.Hour),
			Outcome: store.OutcomeAlerted, Matches: []store.ItemMatch{{Rule: "Cross-border strikes"}, {Rule: "Talks collapse", Muted: "rule muted until 2026-12-01T18:00:00Z"}}},
		{ID: "old-1", Title: "Archive", Link: "https://dawn.com/news/0", Published: T0.Add(-72 * time.Hour), Outcome: store.OutcomeBackfilled},
		{ID: "before-7", Title: "Recorded by an older version", Link: "https://dawn.com/news/7"},
	}
	_, err := s.CommitPoll(ctx, p)
	must(t, err)
	// The same story on another feed, seen later, under a GUID of its own
	// but the same link.
	p = poll(feed(t, s, "wire"), T0.Add(time.Minute), "")
	p.Items = []store.Item{{ID: "wire-guid-1", Title: "Strike (wire)", Link: "https://dawn.com/news/1?utm_source=rss", Outcome: store.OutcomeNoMatch}}
	_, err = s.CommitPoll(ctx, p)
	must(t, err)

	find := func(keys ...string) []store.Item {
		t.Helper()
		items, err := s.FindItems(ctx, keys)
		must(t, err)
		return items
	}
	got := find("https://dawn.com/news/1")
	if len(got) != 1 || got[0].FeedKey != "dawn" || got[0].Outcome != store.OutcomeAlerted || !got[0].FirstSeen.Equal(T0) ||
		!slices.Equal(got[0].Matches, []store.ItemMatch{{Rule: "Cross-border strikes"}, {Rule: "Talks collapse", Muted: "rule muted until 2026-12-01T18:00:00Z"}}) {
		t.Fatalf("FindItems by id = %+v", got)
	}
	got = find("https://dawn.com/news/1?utm_source=rss")
	if len(got) != 2 || got[0].FeedKey != "dawn" || got[1].FeedKey != "wire" || got[1].ID != "wire-guid-1" || got[1].Outcome != store.OutcomeNoMatch {
		t.Fatalf("FindItems by link = %+v, want the item in both feeds, oldest first", got)
	}
	if got := find("old-1"); len(got) != 1 || got[0].Outcome != store.OutcomeBackfilled || got[0].Matches != nil {
		t.Fatalf("FindItems(old-1) = %+v", got)
	}
	if got := find("before-7"); len(got) != 1 || got[0].Outcome != "" || got[0].Matches != nil {
		t.Fatalf("an item recorded without an outcome = %+v", got)
	}
	if got := find("https://example.org/never", ""); len(got) != 0 {
		t.Fatalf("FindItems of an unknown key = %+v", got)
	}
	if got := find(); len(got) != 0 {
		t.Fatalf("FindItems of nothing = %+v", got)
	}
	// A key with a NUL byte finds the item recorded under its clean form.
	if got := find("old-1\x00"); len(got) != 0 && got[0].ID != "old-1" {
		t.Fatalf("FindItems(old-1 NUL) = %+v", got)
	}
}

// testAlertsFilterItem: AlertFilter.FeedKey and ItemID select the item
// alerts of one item, every rule and channel, and nothing of another item
// or feed; an alert keeps the words its rule matched.
func testAlertsFilterItem(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	var want []string
	var all []store.Alert
	for _, rule := range []string{"Strikes", "Talks"} {
		for _, ch := range []string{"#desk", "#diplomacy"} {
			a := itemAlert("dawn", "i1", rule, ch, T0)
			a.Matched = []string{"title:Pakistan", "summary:deep into Afghanistan"}
			all = append(all, a)
			want = append(want, a.ID)
		}
	}
	all = append(all, itemAlert("dawn", "i2", "Strikes", "#desk", T0), itemAlert("geo", "i1", "Strikes", "#desk", T0),
		opsAlert("ops-1", "#ops", "feed dawn is down"))
	enqueue(t, s, all...)
	got, err := s.Alerts(ctx, store.AlertFilter{FeedKey: "dawn", ItemID: "i1"})
	must(t, err)
	gotIDs := ids(got)
	slices.Sort(gotIDs)
	slices.Sort(want)
	if !slices.Equal(gotIDs, want) {
		t.Fatalf("alerts of dawn/i1 = %v, want %v", gotIDs, want)
	}
	if !slices.Equal(got[0].Matched, []string{"title:Pakistan", "summary:deep into Afghanistan"}) {
		t.Fatalf("Matched read back = %q", got[0].Matched)
	}
	if got, err := s.Alerts(ctx, store.AlertFilter{FeedKey: "dawn", ItemID: "i1", Channel: "#diplomacy", Limit: 1}); err != nil || len(got) != 1 || got[0].Channel != "#diplomacy" {
		t.Fatalf("alerts of dawn/i1 in #diplomacy, limit 1 = %v, %v", got, err)
	}
	if got, err := s.Alerts(ctx, store.AlertFilter{FeedKey: "dawn", ItemID: "nope"}); err != nil || len(got) != 0 {
		t.Fatalf("alerts of an unknown item = %v, %v", got, err)
	}
}
