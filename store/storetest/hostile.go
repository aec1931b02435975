package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/store"
)

// Hostile is text a feed, a rule file or a caller may hand the store:
// each must be accepted by every backend and read back as
// store.CleanText made it (issue 17.1: PostgreSQL refused a NUL byte, so
// the feed failed forever, while SQLite took it).
var Hostile = []string{
	"NUL \x00 in the middle",
	"\x00",
	"noncharacter \uFFFF and \uFFFE",
	"lone high surrogate (WTF-8) \xed\xa0\x80 here",
	"lone low surrogate (WTF-8) \xed\xb0\x80",
	"surrogate pair encoded as CESU-8 \xed\xa0\xbd\xed\xb8\x80 (an emoji)",
	"invalid UTF-8 \xff\xfe\xc3 and a truncated \xe2\x82",
	"controls \x01\x07\x1b[31m\r\n\x7f and C1 \u0085\u009b",
	"tab\tand newline\nstay",
	"bidi \u202e and zero-width \u200b are text",
	strings.Repeat("Long headline ", 80000), // about 1 MB
	strings.Repeat("é", 600000),             // 1.2 MB of two-byte characters
}

// checkClean fails unless s is clean text of at most max bytes.
func checkClean(t *testing.T, what, s string, max int) {
	t.Helper()
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > max || !store.IsClean(s, max) {
		t.Errorf("%s read back unclean (%d bytes): %.80q", what, len(s), s)
	}
}

// testHostileItems: items with hostile ids, titles and links are
// recorded by both backends, read back clean, and found again by the ids
// the caller gave.
func testHostileItems(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	key := "feed \x00 key" // a configured key no store can take as it is
	must(t, s.SyncFeeds(ctx, []store.FeedDef{{Key: key, URL: "http://127.0.0.1/\x00feed", Due: T0}}))
	f, err := s.Feed(ctx, key)
	must(t, err)
	checkClean(t, "feed key", f.Key, store.MaxID)
	checkClean(t, "feed URL", f.URL, store.MaxLink)

	p := poll(f, T0, "")
	var rawIDs []string
	for i, h := range Hostile {
		id := h // an id as hostile as the text (a GUID from the feed)
		if i%2 == 1 {
			id = "plain-" + string(rune('a'+i))
		}
		rawIDs = append(rawIDs, id)
		p.Items = append(p.Items, store.Item{FeedKey: key, ID: id, Title: h, Link: "https://example.org/" + h,
			Published: T0, FirstSeen: T0})
	}
	p.Feed.LastError = Hostile[0]
	p.Feed.ETag = Hostile[2]
	p.ForgetBefore = T0.Add(-time.Hour)
	p.Present = rawIDs
	_, err = s.CommitPoll(ctx, p)
	must(t, err)

	unseen, err := s.UnseenItems(ctx, key, append(slices.Clone(rawIDs), "new \x00 one"))
	must(t, err)
	if !slices.Equal(unseen, []string{"new \x00 one"}) {
		t.Fatalf("unseen after recording the hostile items = %.200q, want only the new one", unseen)
	}
	f = feed(t, s, key)
	if f.LastError != store.CleanText(Hostile[0], store.MaxText) || f.ETag != store.CleanText(Hostile[2], store.MaxName) {
		t.Errorf("feed state read back as %q / %q", f.LastError, f.ETag)
	}
	d, ok := s.(store.Dumper)
	if !ok {
		return
	}
	got := map[string]store.Item{}
	must(t, d.DumpItems(ctx, func(it store.Item) error {
		got[it.ID] = it
		return nil
	}))
	for i, raw := range rawIDs {
		it, ok := got[store.CleanID(raw)]
		if !ok {
			t.Errorf("item %d (%.40q) not stored under its clean id", i, raw)
			continue
		}
		checkClean(t, "item id", it.ID, store.MaxID)
		checkClean(t, "item title", it.Title, store.MaxTitle)
		checkClean(t, "item link", it.Link, store.MaxLink)
		if it.Title != store.CleanText(Hostile[i], store.MaxTitle) {
			t.Errorf("item %d title read back as %.80q, want %.80q", i, it.Title, store.CleanText(Hostile[i], store.MaxTitle))
		}
	}
}

// testHostileAlerts: alerts whose rule names, snippets, ops texts and
// channel names are hostile are queued, claimed, marked and read back
// clean, by the names and ids the caller gave.
func testHostileAlerts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	channel := "#desk\x00\u0085"
	var alerts []store.Alert
	for i, h := range Hostile {
		a := itemAlert("f", "item-"+h, "rule "+h, channel, T0)
		a.FeedName, a.Title, a.GUID = h, h, h
		a.Snippet = "… " + h + " …"
		a.Marks = [][2]int{{0, len(a.Snippet)}, {len("… "), len("… ") + min(len(h), 10)}}
		if i%3 == 0 {
			a = opsAlert("ops "+h, channel, h)
		}
		alerts = append(alerts, a)
	}
	enqueue(t, s, alerts...)

	ch, claimed, err := s.ClaimChannel(ctx, "owner \x00", T0, time.Minute, 0)
	must(t, err)
	if ch != store.CleanText(channel, store.MaxName) || len(claimed) != len(alerts) {
		t.Fatalf("claimed %q with %d alerts, want %q with %d", ch, len(claimed), store.CleanText(channel, store.MaxName), len(alerts))
	}
	for i, a := range claimed {
		want := store.CleanAlert(alerts[i])
		if a.ID != want.ID || a.Rule != want.Rule || a.Snippet != want.Snippet || a.Text != want.Text ||
			a.Title != want.Title || a.FeedName != want.FeedName || a.GUID != want.GUID || !slices.Equal(a.Marks, want.Marks) {
			t.Errorf("alert %d read back as\n%.300q\nwant\n%.300q", i, []any{a.ID, a.Rule, a.Snippet, a.Marks, a.Text},
				[]any{want.ID, want.Rule, want.Snippet, want.Marks, want.Text})
		}
		checkClean(t, "rule", a.Rule, store.MaxName)
		checkClean(t, "snippet", a.Snippet, store.MaxSnippet)
		checkClean(t, "text", a.Text, store.MaxText)
		checkClean(t, "title", a.Title, store.MaxTitle)
		for _, m := range a.Marks {
			if m[0] < 0 || m[1] > len(a.Snippet) || m[0] >= m[1] || !utf8.ValidString(a.Snippet[m[0]:m[1]]) {
				t.Errorf("alert %d: mark %v does not fit its snippet", i, m)
			}
		}
	}
	// The caller's own ids and names still find them.
	must(t, s.MarkSent(ctx, alerts[1].ID, "1.0\x00", T0))
	must(t, s.Retry(ctx, alerts[2].ID, T0.Add(time.Minute), "slack said \x00"+Hostile[10], true))
	must(t, s.MarkFailed(ctx, alerts[3].ID, "gave up: \xff", T0))
	must(t, s.ReleaseChannel(ctx, channel, "owner \x00", T0))
	a, err := s.Alert(ctx, alerts[2].ID)
	must(t, err)
	checkClean(t, "last error", a.LastError, store.MaxText)
	if a.State != store.StateQueued || !a.Uncertain {
		t.Errorf("retried hostile alert: state %q uncertain %v", a.State, a.Uncertain)
	}
	byChannel, err := s.Alerts(ctx, store.AlertFilter{Channel: channel})
	must(t, err)
	if len(byChannel) != len(alerts) {
		t.Errorf("Alerts by the raw channel name = %d, want %d", len(byChannel), len(alerts))
	}
	must(t, s.RecordPost(ctx, channel, T0, T0.Add(-time.Hour)))
	posts, err := s.Posts(ctx, channel, T0.Add(-time.Minute))
	must(t, err)
	if len(posts) != 1 {
		t.Errorf("Posts by the raw channel name = %v", posts)
	}
	must(t, s.Heartbeat(ctx, "owner \x00", T0))
}
