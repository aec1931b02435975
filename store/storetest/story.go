package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// storyAlert is the alert item itemID of feedKey raised in channel, as part
// of the story opened by parentID ("" : it opens the story itself).
func storyAlert(feedKey, itemID, channel, parentID string, created time.Time) store.Alert {
	a := itemAlert(feedKey, itemID, "rule", channel, created)
	a.StoryID = parentID
	if parentID == "" {
		a.StoryID = a.ID
	}
	a.Signature = []byte("sig\x00\xff" + itemID)
	return a
}

// CommitPoll and Enqueue keep StoryID and Signature; Alert reads one alert
// back by id and reports ErrNotFound for an unknown one.
func testStoryRoundTrip(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "dawn", "geo")
	parent := storyAlert("dawn", "d1", "#desk", "", T0)
	p := poll(feed(t, s, "dawn"), T0, "", "d1")
	p.Alerts = []store.Alert{parent}
	n, err := s.CommitPoll(ctx, p)
	must(t, err)
	if n != 1 {
		t.Fatalf("CommitPoll queued %d, want 1", n)
	}
	follow := storyAlert("geo", "g1", "#desk", parent.ID, T0.Add(time.Minute))
	follow.Signature = nil // follow-ups need not carry one
	p = poll(feed(t, s, "geo"), T0.Add(time.Minute), "", "g1")
	p.Alerts = []store.Alert{follow}
	_, err = s.CommitPoll(ctx, p)
	must(t, err)
	enq := storyAlert("geo", "g2", "#desk", parent.ID, T0.Add(2*time.Minute))
	plain := itemAlert("geo", "g3", "rule", "#desk", T0.Add(3*time.Minute))
	enqueue(t, s, enq, plain)

	for _, w := range []store.Alert{parent, follow, enq, plain} {
		got, err := s.Alert(ctx, w.ID)
		must(t, err)
		w.State = store.StateQueued
		if !alertEqual(got, w) {
			t.Fatalf("Alert(%s) read back differs:\n got %+v\nwant %+v", w.ID, got, w)
		}
	}
	if got, _ := s.Alert(ctx, parent.ID); got.StoryID != got.ID || string(got.Signature) != "sig\x00\xffd1" {
		t.Fatalf("story parent read back with StoryID %q Signature %q", got.StoryID, got.Signature)
	}
	if got, _ := s.Alert(ctx, plain.ID); got.StoryID != "" || got.Signature != nil {
		t.Fatalf("ungrouped alert read back with StoryID %q Signature %q", got.StoryID, got.Signature)
	}

	// Delivery state shows through Alert too.
	_, claimed := claim(t, s, "n1", T0.Add(time.Hour), 1)
	must(t, s.MarkSent(ctx, claimed[0], "1700000000.000100", T0.Add(time.Hour)))
	got, err := s.Alert(ctx, parent.ID)
	must(t, err)
	if got.State != store.StateSent || got.SlackTS != "1700000000.000100" || !got.SentAt.Equal(T0.Add(time.Hour)) {
		t.Fatalf("sent story parent: state %q ts %q sent at %v", got.State, got.SlackTS, got.SentAt)
	}

	_, err = s.Alert(ctx, "no-such-alert")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Alert of an unknown id: err = %v, want ErrNotFound", err)
	}
}

// StoryHeads lists the story parents created at or after since, oldest
// first, in any state; not follow-ups, ungrouped alerts or ops messages.
func testStoryHeads(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	if heads, err := s.StoryHeads(ctx, time.Time{}); err != nil || len(heads) != 0 {
		t.Fatalf("StoryHeads on an empty store = %v, %v", ids(heads), err)
	}
	// Received out of creation order: the store orders by CreatedAt.
	h2 := storyAlert("f", "h2", "#a", "", T0.Add(-1*time.Hour))
	h1 := storyAlert("f", "h1", "#a", "", T0.Add(-2*time.Hour))
	h3 := storyAlert("f", "h3", "#b", "", T0)
	h3b := storyAlert("f", "h3b", "#b", "", T0) // same time as h3, received later
	old := storyAlert("f", "old", "#a", "", T0.Add(-25*time.Hour))
	f1 := storyAlert("f", "f1", "#a", h1.ID, T0.Add(-90*time.Minute))
	f3 := storyAlert("f", "f3", "#b", h3.ID, T0)
	plain := itemAlert("f", "plain", "rule", "#a", T0)
	ops := opsAlert("ops-1", "#ops", "feed down")
	ops.StoryID = ops.ID // not an item alert: never a story head
	enqueue(t, s, h2, old, f1, h1, plain, h3, f3, ops, h3b)

	// Heads are listed whatever their delivery state.
	ch, got := claim(t, s, "n1", T0, 0)
	if ch != "#a" {
		t.Fatalf("claimed %q first, want #a", ch)
	}
	must(t, s.MarkSent(ctx, h2.ID, "1.1", T0))
	must(t, s.MarkFailed(ctx, old.ID, "channel_not_found", T0))
	must(t, s.ReleaseChannel(ctx, ch, "n1", T0))
	_ = got

	for _, tc := range []struct {
		since time.Time
		want  []string
	}{
		{time.Time{}, []string{old.ID, h1.ID, h2.ID, h3.ID, h3b.ID}},
		{T0.Add(-24 * time.Hour), []string{h1.ID, h2.ID, h3.ID, h3b.ID}},
		{T0.Add(-2 * time.Hour), []string{h1.ID, h2.ID, h3.ID, h3b.ID}}, // since is inclusive
		{T0.Add(-2*time.Hour + time.Microsecond), []string{h2.ID, h3.ID, h3b.ID}},
		{T0, []string{h3.ID, h3b.ID}},
		{T0.Add(time.Microsecond), nil},
	} {
		heads, err := s.StoryHeads(ctx, tc.since)
		must(t, err)
		if !slices.Equal(ids(heads), tc.want) {
			t.Errorf("StoryHeads(%v) = %v, want %v", tc.since, ids(heads), tc.want)
		}
	}
	heads, err := s.StoryHeads(ctx, T0.Add(-time.Hour))
	must(t, err)
	if len(heads) != 3 || heads[0].ID != h2.ID || heads[0].State != store.StateSent ||
		heads[0].SlackTS != "1.1" || string(heads[0].Signature) != string(h2.Signature) || heads[0].Title != h2.Title {
		t.Fatalf("StoryHeads returned %+v, want h2 sent with its signature and payload", heads)
	}
}

// AlertFilter.StoryID selects a story's parent and follow-ups, newest
// first, combined with the other filters.
func testAlertsFilterStory(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	p1 := storyAlert("f", "p1", "#a", "", T0)
	p2 := storyAlert("f", "p2", "#a", "", T0)
	f11 := storyAlert("f", "f11", "#a", p1.ID, T0)
	f21 := storyAlert("f", "f21", "#a", p2.ID, T0)
	f12 := storyAlert("f", "f12", "#a", p1.ID, T0)
	plain := itemAlert("f", "plain", "rule", "#a", T0)
	enqueue(t, s, p1, p2, f11, plain, f21, f12)
	_, got := claim(t, s, "n1", T0, 1)
	must(t, s.MarkSent(ctx, got[0], "1.1", T0)) // p1
	for _, tc := range []struct {
		f    store.AlertFilter
		want []string
	}{
		{store.AlertFilter{StoryID: p1.ID}, []string{f12.ID, f11.ID, p1.ID}},
		{store.AlertFilter{StoryID: p2.ID}, []string{f21.ID, p2.ID}},
		{store.AlertFilter{StoryID: p1.ID, State: store.StateSent}, []string{p1.ID}},
		{store.AlertFilter{StoryID: p1.ID, State: store.StateQueued, Channel: "#a"}, []string{f12.ID, f11.ID}},
		{store.AlertFilter{StoryID: p1.ID, Channel: "#b"}, nil},
		{store.AlertFilter{StoryID: p1.ID, Limit: 1}, []string{f12.ID}},
		{store.AlertFilter{StoryID: "no-such-story"}, nil},
	} {
		got, err := s.Alerts(ctx, tc.f)
		must(t, err)
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Alerts(%+v) = %v, want %v", tc.f, ids(got), tc.want)
		}
	}
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if len(all) != 6 {
		t.Fatalf("Alerts() = %d alerts, want all 6", len(all))
	}
}

// AlertFilter.SlackTS selects the alerts one message carried: one for a
// single alert, several for a grouped message.
func testAlertsFilterSlackTS(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 3, "#a", "#b")
	_, got := claim(t, s, "n1", T0, 0) // #a: one message alone, then two in a group
	must(t, s.MarkSent(ctx, got[0], "100.000001", T0))
	must(t, s.MarkSent(ctx, got[1], "100.000002", T0))
	must(t, s.MarkSent(ctx, got[2], "100.000002", T0))
	_, got = claim(t, s, "n1", T0, 1) // #b: the same ts in another channel
	must(t, s.MarkSent(ctx, got[0], "100.000002", T0))
	for _, tc := range []struct {
		f    store.AlertFilter
		want []string
	}{
		{store.AlertFilter{Channel: "#a", SlackTS: "100.000001"}, []string{want["#a"][0]}},
		{store.AlertFilter{Channel: "#a", SlackTS: "100.000002"}, []string{want["#a"][2], want["#a"][1]}},
		{store.AlertFilter{Channel: "#b", SlackTS: "100.000002"}, []string{want["#b"][0]}},
		{store.AlertFilter{Channel: "#a", SlackTS: "999.0"}, nil},
	} {
		got, err := s.Alerts(ctx, tc.f)
		must(t, err)
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Alerts(%+v) = %v, want %v", tc.f, ids(got), tc.want)
		}
	}
}

// V1 fixture: what RunUpgrade expects a version-1 database to hold. Each
// backend's test writes it with its own SQL (the API of this binary
// cannot write a version-1 schema).
//
//   - feed "a": configured, URL and config URL "http://127.0.0.1/a",
//     next due T0, last poll T0, polls 1, initialized;
//   - item ("a", "a1"), title "Title a1", link "https://example.org/a1",
//     first seen T0;
//   - alert V1SentID: kind item, channel "#desk", state sent, slack_ts
//     "1.000001", created T0, done T0+1s, attempts 1, payload
//     {"feed":"a","feed_name":"Feed a","item":"a1","rule":"rule","title":"Title a1","link":"https://example.org/a1"};
//   - alert "ops-v1": kind ops, channel "#ops", state queued, created T0,
//     payload {"text":"feed a is down"};
//   - channels "#desk" and "#ops".
var V1SentID = store.AlertID("a", "a1", "rule", "#desk")

// RunUpgrade tests that a database at schema version 1 holding the V1
// fixture migrates to the current version with its rows intact, and that
// the new columns work on it. openV1 returns a store on such a database
// (not migrated further), closed when t ends.
func RunUpgrade(t *testing.T, openV1 func(t *testing.T) store.Store) {
	ctx := ctxT(t)
	s := openV1(t)
	must(t, s.Migrate(ctx))
	must(t, s.Migrate(ctx)) // idempotent

	f := feed(t, s, "a")
	if f.URL != "http://127.0.0.1/a" || f.Polls != 1 || !f.Initialized || !f.NextDue.Equal(T0) {
		t.Fatalf("feed a after upgrade: %+v", f)
	}
	unseen, err := s.UnseenItems(ctx, "a", []string{"a1", "new"})
	must(t, err)
	if !slices.Equal(unseen, []string{"new"}) {
		t.Fatalf("UnseenItems after upgrade = %v, want [new]: the seen item was lost", unseen)
	}
	sent, err := s.Alert(ctx, V1SentID)
	must(t, err)
	if sent.State != store.StateSent || sent.SlackTS != "1.000001" || sent.Title != "Title a1" ||
		sent.FeedName != "Feed a" || !sent.CreatedAt.Equal(T0) || !sent.SentAt.Equal(T0.Add(time.Second)) ||
		sent.StoryID != "" || sent.Signature != nil {
		t.Fatalf("sent alert after upgrade: %+v", sent)
	}
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	if !slices.Equal(ids(all), []string{"ops-v1", V1SentID}) {
		t.Fatalf("alerts after upgrade = %v", ids(all))
	}
	if heads, err := s.StoryHeads(ctx, time.Time{}); err != nil || len(heads) != 0 {
		t.Fatalf("StoryHeads after upgrade = %v, %v; want none", ids(heads), err)
	}
	// The queued alert is still delivered, once.
	ch, got := claim(t, s, "n1", T0, 0)
	if ch != "#ops" || !slices.Equal(got, []string{"ops-v1"}) {
		t.Fatalf("claim after upgrade = %q %v, want #ops [ops-v1]", ch, got)
	}
	must(t, s.MarkSent(ctx, "ops-v1", "2.0", T0))
	// The item is not alerted again; a story can start now.
	p := poll(f, T0.Add(time.Minute), "", "a1", "a2")
	p.Alerts = []store.Alert{itemAlert("a", "a1", "rule", "#desk", T0), storyAlert("a", "a2", "#desk", "", T0.Add(time.Minute))}
	n, err := s.CommitPoll(ctx, p)
	must(t, err)
	if n != 1 {
		t.Fatalf("CommitPoll after upgrade queued %d, want 1 (the known alert is skipped)", n)
	}
	heads, err := s.StoryHeads(ctx, T0)
	must(t, err)
	if len(heads) != 1 || heads[0].ID != p.Alerts[1].ID || heads[0].StoryID != heads[0].ID {
		t.Fatalf("StoryHeads after a story on the upgraded store = %+v", heads)
	}
}

// BenchStoryHeads measures StoryHeads over 10,000 story parents in the
// window (and as many follow-ups and older parents outside it).
func BenchStoryHeads(b *testing.B, s store.Store) {
	ctx := b.Context()
	const n = 10000
	batch := make([]store.Alert, 0, 1000)
	flush := func() {
		if _, err := s.Enqueue(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		ch := fmt.Sprintf("#c%d", i%10)
		h := storyAlert("f", fmt.Sprintf("h%d", i), ch, "", T0.Add(-time.Duration(i)*time.Second))
		old := storyAlert("f", fmt.Sprintf("old%d", i), ch, "", T0.Add(-48*time.Hour-time.Duration(i)*time.Second))
		fu := storyAlert("f", fmt.Sprintf("fu%d", i), ch, h.ID, T0)
		batch = append(batch, h, old, fu)
		if len(batch) >= 900 {
			flush()
		}
	}
	flush()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		heads, err := s.StoryHeads(ctx, T0.Add(-24*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if len(heads) != n {
			b.Fatalf("StoryHeads = %d, want %d", len(heads), n)
		}
	}
}
