// Package storetest owns the one contract test of store.Store: every backend
// runs Run (and RunCopy, and the benchmarks) against a real database, so the
// backends cannot drift apart. It asserts what the monitor and the notifier
// rely on: documented behaviour of every method, exactly-once under repeated
// commits, leases and their expiry, delivery order and pacing per channel,
// crash recovery, and that concurrent claimers never share a feed or alert.
package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// T0 is the suite's "now": every time in the suite is derived from it.
var T0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Run runs the contract test. open must return an empty, migrated store on
// a real database, closed when t ends; it is called once per subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"MigrateIdempotent", testMigrateIdempotent},
		{"SyncFeeds", testSyncFeeds},
		{"FeedNotFound", testFeedNotFound},
		{"ClaimDueFeeds", testClaimDueFeeds},
		{"ClaimDueFeedsLimitAndOrder", testClaimDueFeedsLimitAndOrder},
		{"ExtendFeedLease", testExtendFeedLease},
		{"CommitPollIdempotent", testCommitPollIdempotent},
		{"CommitPollAtomic", testCommitPollAtomic},
		{"CommitPollKeepsNewConfigURL", testCommitPollKeepsNewConfigURL},
		{"UnseenItems", testUnseenItems},
		{"FeedsItemsLast24h", testFeedsItemsLast24h},
		{"EnqueueDedupe", testEnqueueDedupe},
		{"AlertRoundTrip", testAlertRoundTrip},
		{"ClaimChannelOrder", testClaimChannelOrder},
		{"ClaimChannelLease", testClaimChannelLease},
		{"ClaimChannelLimit", testClaimChannelLimit},
		{"RetryBlocksOnlyItsChannel", testRetryBlocksOnlyItsChannel},
		{"DigestDoesNotBlock", testDigestDoesNotBlock},
		{"DigestAroundBlocker", testDigestAroundBlocker},
		{"BacklogDoesNotDelayOthers", testBacklogDoesNotDelayOthers},
		{"Pacing", testPacing},
		{"StateMoves", testStateMoves},
		{"NotFound", testNotFound},
		{"CrashRecovery", testCrashRecovery},
		{"ReleaseChannel", testReleaseChannel},
		{"AlertsFilter", testAlertsFilter},
		{"StoryRoundTrip", testStoryRoundTrip},
		{"StoryHeads", testStoryHeads},
		{"AlertsFilterStory", testAlertsFilterStory},
		{"AlertsFilterSlackTS", testAlertsFilterSlackTS},
		{"AlertsFilterItem", testAlertsFilterItem},
		{"ItemOutcome", testItemOutcome},
		{"ForgetItems", testForgetItems},
		{"PruneAlerts", testPruneAlerts},
		{"ItemTexts", testItemTexts},
		{"PruneTexts", testPruneTexts},
		{"Posts", testPosts},
		{"HostileItems", testHostileItems},
		{"HostileAlerts", testHostileAlerts},
		{"ConcurrentClaimFeeds", testConcurrentClaimFeeds},
		{"ConcurrentClaimChannels", testConcurrentClaimChannels},
		{"ConcurrentCommitPoll", testConcurrentCommitPoll},
		{"EditorRuleVersions", testEditorRuleVersions},
		{"EditorRuleConcurrentSaves", testEditorRuleConcurrentSaves},
		{"Mutes", testMutes},
		{"FeedbackAndStats", testFeedbackAndStats},
		{"AuditFilter", testAuditFilter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
	t.Run("PruneInBatches", func(t *testing.T) {
		s := open(t)
		b, ok := s.(interface {
			PruneInBatches(ctx context.Context, before time.Time, batch int) (int, error)
		})
		if !ok {
			t.Skipf("%T cannot prune in batches of another size", s)
		}
		RunPruneInBatches(t, s, func(ctx context.Context, before time.Time) (int, error) {
			return b.PruneInBatches(ctx, before, 2)
		})
	})
}

// --- helpers ---

func ctxT(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sync1(t *testing.T, s store.Store, keys ...string) {
	t.Helper()
	var defs []store.FeedDef
	for _, k := range keys {
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: T0})
	}
	must(t, s.SyncFeeds(ctxT(t), defs))
}

func feed(t *testing.T, s store.Store, key string) store.FeedState {
	t.Helper()
	f, err := s.Feed(ctxT(t), key)
	must(t, err)
	return f
}

// itemAlert builds the alert an item raised for rule and channel.
func itemAlert(feedKey, itemID, rule, channel string, created time.Time) store.Alert {
	return store.Alert{
		ID: store.AlertID(feedKey, itemID, rule, channel), Kind: store.KindItem, Channel: channel,
		FeedKey: feedKey, FeedName: "Feed " + feedKey, ItemID: itemID, GUID: "guid-" + itemID, Rule: rule,
		Title: "Title " + itemID, Link: "https://example.org/" + itemID, CreatedAt: created,
	}
}

func opsAlert(id, channel, text string) store.Alert {
	return store.Alert{ID: id, Kind: store.KindOps, Channel: channel, Text: text, CreatedAt: T0}
}

// poll builds a successful poll of feed key at now with the given item ids,
// each raising one alert to channel.
func poll(f store.FeedState, now time.Time, channel string, ids ...string) store.Poll {
	f.LastPoll, f.LastSuccess, f.NextDue = now, now, now.Add(5*time.Minute)
	f.Polls++
	f.Initialized = true
	p := store.Poll{Feed: f}
	for _, id := range ids {
		p.Items = append(p.Items, store.Item{FeedKey: f.Key, ID: id, Title: "Title " + id,
			Link: "https://example.org/" + id, Published: now.Add(-time.Hour), FirstSeen: now})
		if channel != "" {
			p.Alerts = append(p.Alerts, itemAlert(f.Key, id, "rule", channel, now))
		}
	}
	return p
}

func enqueue(t *testing.T, s store.Store, alerts ...store.Alert) {
	t.Helper()
	n, err := s.Enqueue(ctxT(t), alerts)
	must(t, err)
	if n != len(alerts) {
		t.Fatalf("Enqueue queued %d, want %d", n, len(alerts))
	}
}

func ids(as []store.Alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func keys(fs []store.FeedState) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Key
	}
	return out
}

func alertByID(t *testing.T, s store.Store, id string) store.Alert {
	t.Helper()
	all, err := s.Alerts(ctxT(t), store.AlertFilter{})
	must(t, err)
	for _, a := range all {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("alert %s not listed", id)
	return store.Alert{}
}

func claim(t *testing.T, s store.Store, owner string, now time.Time, limit int) (string, []string) {
	t.Helper()
	ch, as, err := s.ClaimChannel(ctxT(t), owner, now, time.Minute, limit)
	must(t, err)
	for _, a := range as {
		if a.State != store.StateSending || a.Channel != ch {
			t.Fatalf("claimed alert %s: state %q channel %q, want sending on %q", a.ID, a.State, a.Channel, ch)
		}
	}
	return ch, ids(as)
}

// --- migrations and feeds ---

func testMigrateIdempotent(t *testing.T, s store.Store) {
	must(t, s.Migrate(ctxT(t)))
	must(t, s.Migrate(ctxT(t)))
	sync1(t, s, "a")
	must(t, s.Migrate(ctxT(t)))
	if f := feed(t, s, "a"); f.URL != "http://127.0.0.1/a" {
		t.Fatalf("after a second Migrate feed a has URL %q", f.URL)
	}
}

func testSyncFeeds(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "b", "a", "c")
	fs, err := s.Feeds(ctx)
	must(t, err)
	if got := keys(fs); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Feeds = %v, want a b c ordered by key", got)
	}
	for _, f := range fs {
		if !f.NextDue.Equal(T0) || f.URL != "http://127.0.0.1/"+f.Key || f.ConfigURL != f.URL {
			t.Fatalf("new feed %+v: want NextDue %v and URL = ConfigURL = configured URL", f, T0)
		}
	}

	// Feed a is polled: redirected permanently, validators stored.
	a := feed(t, s, "a")
	p := poll(a, T0, "")
	p.Feed.URL = "http://127.0.0.1/a-moved"
	p.Feed.ETag = `"v1"`
	p.Feed.LastModified = "Tue, 24 Nov 2026 11:00:00 GMT"
	_, err = s.CommitPoll(ctx, p)
	must(t, err)

	// Same configuration again, with a later due time: known feeds keep
	// their state, including the redirected URL.
	must(t, s.SyncFeeds(ctx, []store.FeedDef{
		{Key: "a", URL: "http://127.0.0.1/a", Due: T0.Add(time.Hour)},
		{Key: "b", URL: "http://127.0.0.1/b", Due: T0.Add(time.Hour)},
		{Key: "c", URL: "http://127.0.0.1/c", Due: T0.Add(time.Hour)},
	}))
	a = feed(t, s, "a")
	if a.URL != "http://127.0.0.1/a-moved" || a.ETag != `"v1"` || !a.NextDue.Equal(T0.Add(5*time.Minute)) || a.Polls != 1 {
		t.Fatalf("resynced feed lost its state: %+v", a)
	}
	if b := feed(t, s, "b"); !b.NextDue.Equal(T0) {
		t.Fatalf("resynced unpolled feed b has NextDue %v, want the first due time %v", b.NextDue, T0)
	}

	// The configured URL of a changes: URL and validators reset, history stays.
	must(t, s.SyncFeeds(ctx, []store.FeedDef{
		{Key: "a", URL: "http://127.0.0.1/a2", Due: T0},
		{Key: "b", URL: "http://127.0.0.1/b", Due: T0},
	}))
	a = feed(t, s, "a")
	if a.URL != "http://127.0.0.1/a2" || a.ConfigURL != "http://127.0.0.1/a2" || a.ETag != "" || a.LastModified != "" {
		t.Fatalf("changed configured URL: got URL %q ConfigURL %q ETag %q LastModified %q", a.URL, a.ConfigURL, a.ETag, a.LastModified)
	}
	if a.Polls != 1 || !a.LastSuccess.Equal(T0) {
		t.Fatalf("changed configured URL lost the feed's history: %+v", a)
	}

	// c is no longer configured: not listed, not claimable, but kept.
	fs, err = s.Feeds(ctx)
	must(t, err)
	if got := keys(fs); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Feeds after removing c = %v, want a b", got)
	}
	claimed, err := s.ClaimDueFeeds(ctx, "r1", T0.Add(24*time.Hour), time.Minute, 0)
	must(t, err)
	if slices.Contains(keys(claimed), "c") {
		t.Fatal("an unconfigured feed was claimed")
	}
	if c := feed(t, s, "c"); c.Key != "c" {
		t.Fatalf("unconfigured feed c: %+v", c)
	}
	// c comes back with its state.
	sync1(t, s, "a", "b", "c")
	fs, err = s.Feeds(ctx)
	must(t, err)
	if got := keys(fs); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Feeds after re-adding c = %v", got)
	}
	if err := s.SyncFeeds(ctx, []store.FeedDef{{Key: "", URL: "http://127.0.0.1/x"}}); err == nil {
		t.Fatal("SyncFeeds accepted a feed with an empty key")
	}
}
