package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func testEnqueueDedupe(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	a, b := opsAlert("ops-1", "#ops", "feed x is down"), opsAlert("ops-2", "#ops", "feed x is back")
	n, err := s.Enqueue(ctx, []store.Alert{a, b, a})
	must(t, err)
	if n != 2 {
		t.Fatalf("Enqueue of a, b, a queued %d, want 2", n)
	}
	n, err = s.Enqueue(ctx, []store.Alert{b})
	must(t, err)
	if n != 0 {
		t.Fatalf("Enqueue of a known id queued %d, want 0", n)
	}
	// Enqueue after delivery does not resurrect the alert.
	_, got := claim(t, s, "n1", T0, 0)
	must(t, s.MarkSent(ctx, got[0], "1.1", T0))
	n, err = s.Enqueue(ctx, []store.Alert{a})
	must(t, err)
	if n != 0 || alertByID(t, s, "ops-1").State != store.StateSent {
		t.Fatal("Enqueue of a sent alert's id queued it again")
	}
	if _, err := s.Enqueue(ctx, []store.Alert{{ID: "x", Kind: store.KindOps}}); err == nil {
		t.Fatal("Enqueue accepted an alert without a channel")
	}
}

func testAlertRoundTrip(t *testing.T, s store.Store) {
	want := store.Alert{
		ID: store.AlertID("f", "i1", "Cross-border strikes", "#desk"), Kind: store.KindItem, Channel: "#desk",
		FeedKey: "f", FeedName: "Dawn", ItemID: "i1", GUID: "https://dawn.com/?p=1", Rule: "Cross-border strikes",
		Title: "Strikes <!channel> & talks", Link: "https://dawn.com/news/1", Published: T0.Add(-time.Hour),
		Snippet: "… missile strikes across the border …", Marks: [][2]int{{4, 11}, {12, 19}},
		Matched: []string{"title:Strikes", "summary:missile strikes", "summary:across the border"},
		Text:    "", Digest: "", CreatedAt: T0,
		// A story's breaking threshold and an escalation's note ride in the
		// payload (no column, no migration).
		Breaking: &store.Breaking{Outlets: 4, Within: time.Hour, EscalateTo: "#breaking"},
		Note:     "Breaking in #desk: 4 outlets in 38 min",
	}
	ops := opsAlert("ops-1", "#ops", "Feed *Dawn* failing since 10:00")
	digest := itemAlert("f", "i2", "daily", "#desk", T0)
	digest.Digest = "0 9 * * 1-5"
	digest.NextAttempt = T0.Add(21 * time.Hour)
	enqueue(t, s, want, ops, digest)
	for _, w := range []store.Alert{want, ops, digest} {
		got := alertByID(t, s, w.ID)
		w.State = store.StateQueued
		if !alertEqual(got, w) {
			t.Fatalf("alert read back differs:\n got %+v\nwant %+v", got, w)
		}
	}
}

// alertEqual compares alerts, times by instant.
func alertEqual(a, b store.Alert) bool {
	times := func(x *store.Alert) []time.Time {
		return []time.Time{x.Published, x.CreatedAt, x.NextAttempt, x.SentAt, x.FailedAt}
	}
	ta, tb := times(&a), times(&b)
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	a.Published, a.CreatedAt, a.NextAttempt, a.SentAt, a.FailedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.Published, b.CreatedAt, b.NextAttempt, b.SentAt, b.FailedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if (a.Breaking == nil) != (b.Breaking == nil) || a.Breaking != nil && *a.Breaking != *b.Breaking {
		return false
	}
	a.Breaking, b.Breaking = nil, nil
	if len(a.Marks) == 0 && len(b.Marks) == 0 {
		a.Marks, b.Marks = nil, nil
	}
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// queue puts n item alerts on each channel, interleaved, in order c1-0,
// c2-0, c1-1, c2-1, ...; it returns their ids per channel.
func queue(t *testing.T, s store.Store, n int, channels ...string) map[string][]string {
	out := map[string][]string{}
	for i := range n {
		for _, ch := range channels {
			a := itemAlert("f", fmt.Sprintf("%s-%d", ch, i), "rule", ch, T0)
			enqueue(t, s, a)
			out[ch] = append(out[ch], a.ID)
		}
	}
	return out
}

func testClaimChannelOrder(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	if ch, as, err := s.ClaimChannel(ctx, "n1", T0, time.Minute, 10); err != nil || ch != "" || as != nil {
		t.Fatalf("ClaimChannel on an empty outbox = %q, %v, %v; want \"\", nil, nil", ch, as, err)
	}
	want := queue(t, s, 3, "#b", "#a")
	// #b's first alert is the oldest of all: #b comes first.
	ch, got := claim(t, s, "n1", T0, 10)
	if ch != "#b" || !slices.Equal(got, want["#b"]) {
		t.Fatalf("first claim = %q %v, want #b %v (oldest first)", ch, got, want["#b"])
	}
	ch, got = claim(t, s, "n2", T0, 10)
	if ch != "#a" || !slices.Equal(got, want["#a"]) {
		t.Fatalf("second claim = %q %v, want #a %v", ch, got, want["#a"])
	}
	if ch, got = claim(t, s, "n3", T0, 10); ch != "" || len(got) != 0 {
		t.Fatalf("third claim with both channels leased = %q %v", ch, got)
	}
	// Sent alerts of #b stay sent; the rest comes back in order after release.
	must(t, s.MarkSent(ctx, want["#b"][0], "1.0", T0))
	must(t, s.ReleaseChannel(ctx, "#b", "n1", T0))
	ch, got = claim(t, s, "n3", T0, 10)
	if ch != "#b" || !slices.Equal(got, want["#b"][1:]) {
		t.Fatalf("claim after release = %q %v, want #b %v", ch, got, want["#b"][1:])
	}
}

func testClaimChannelLease(t *testing.T, s store.Store) {
	want := queue(t, s, 2, "#a")
	ch, got := claim(t, s, "n1", T0, 1)
	if ch != "#a" || !slices.Equal(got, want["#a"][:1]) {
		t.Fatalf("claim = %q %v", ch, got)
	}
	// The second alert is queued, but its channel is leased by n1: neither
	// another owner nor n1 itself gets it while the lease lives.
	for _, owner := range []string{"n2", "n1"} {
		if ch, got := claim(t, s, owner, T0.Add(59*time.Second), 10); ch != "" {
			t.Fatalf("%s claimed %q %v under n1's live lease", owner, ch, got)
		}
	}
	// A new alert for the leased channel does not free it either.
	enqueue(t, s, itemAlert("f", "late", "rule", "#a", T0))
	if ch, _ := claim(t, s, "n2", T0.Add(30*time.Second), 10); ch != "" {
		t.Fatalf("n2 claimed %q under n1's live lease", ch)
	}
}

func testClaimChannelLimit(t *testing.T, s store.Store) {
	want := queue(t, s, 5, "#a")
	_, got := claim(t, s, "n1", T0, 2)
	if !slices.Equal(got, want["#a"][:2]) {
		t.Fatalf("claim limit 2 = %v, want %v", got, want["#a"][:2])
	}
	must(t, s.ReleaseChannel(ctxT(t), "#a", "n1", T0))
	_, got = claim(t, s, "n1", T0, 0)
	if !slices.Equal(got, want["#a"]) {
		t.Fatalf("claim without limit = %v, want all %v", got, want["#a"])
	}
}

func testRetryBlocksOnlyItsChannel(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 3, "#a", "#b")
	ch, got := claim(t, s, "n1", T0, 10)
	if ch != "#a" {
		t.Fatalf("claimed %q first, want #a", ch)
	}
	// The head fails (a 5xx): retry in 30s. The rest of the batch goes back.
	must(t, s.Retry(ctx, got[0], T0.Add(30*time.Second), "slack: 503", false))
	must(t, s.ReleaseChannel(ctx, "#a", "n1", T0.Add(time.Second)))

	// While the head waits, #a is blocked (order per channel) but #b flows.
	ch, got = claim(t, s, "n2", T0.Add(10*time.Second), 10)
	if ch != "#b" || !slices.Equal(got, want["#b"]) {
		t.Fatalf("claim while #a's head waits = %q %v, want #b %v", ch, got, want["#b"])
	}
	if ch, got := claim(t, s, "n3", T0.Add(20*time.Second), 10); ch != "" {
		t.Fatalf("claimed %q %v while #a's head waits for its retry", ch, got)
	}
	// Once the retry is due, #a's alerts come in their original order.
	ch, got = claim(t, s, "n3", T0.Add(30*time.Second), 10)
	if ch != "#a" || !slices.Equal(got, want["#a"]) {
		t.Fatalf("claim at the retry time = %q %v, want #a %v", ch, got, want["#a"])
	}
	a := alertByID(t, s, want["#a"][0])
	if a.Attempts != 1 || a.LastError != "slack: 503" || !a.NextAttempt.Equal(T0.Add(30*time.Second)) {
		t.Fatalf("retried alert: attempts %d last error %q next %v", a.Attempts, a.LastError, a.NextAttempt)
	}
	if b := alertByID(t, s, want["#a"][1]); b.Attempts != 0 || b.Uncertain {
		t.Fatalf("released (unattempted) alert: attempts %d uncertain %v", b.Attempts, b.Uncertain)
	}
}

func testDigestDoesNotBlock(t *testing.T, s store.Store) {
	d := itemAlert("f", "d1", "digest", "#a", T0)
	d.Digest = "0 9 * * *"
	d.NextAttempt = T0.Add(21 * time.Hour)
	enqueue(t, s, d)
	want := queue(t, s, 2, "#a")
	ch, got := claim(t, s, "n1", T0, 10)
	if ch != "#a" || !slices.Equal(got, want["#a"]) {
		t.Fatalf("claim with a digest alert waiting = %q %v, want #a %v", ch, got, want["#a"])
	}
	for _, id := range got {
		must(t, s.MarkSent(ctxT(t), id, "", T0))
	}
	must(t, s.ReleaseChannel(ctxT(t), "#a", "n1", T0))
	if ch, got := claim(t, s, "n1", T0.Add(time.Hour), 10); ch != "" {
		t.Fatalf("claimed %q %v before the digest time", ch, got)
	}
	ch, got = claim(t, s, "n1", T0.Add(21*time.Hour), 10)
	if ch != "#a" || !slices.Equal(got, []string{d.ID}) {
		t.Fatalf("claim at the digest time = %q %v, want the digest alert", ch, got)
	}
}

func testPacing(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 2, "#a", "#b")
	_, got := claim(t, s, "n1", T0, 1) // #a-0
	must(t, s.MarkSent(ctx, got[0], "1", T0))
	must(t, s.ReleaseChannel(ctx, "#a", "n1", T0.Add(time.Second)))
	// #a may not be posted to for a second: another replica gets #b.
	ch, got := claim(t, s, "n2", T0.Add(500*time.Millisecond), 1)
	if ch != "#b" {
		t.Fatalf("claim during #a's pacing = %q %v, want #b", ch, got)
	}
	if ch, _ := claim(t, s, "n3", T0.Add(900*time.Millisecond), 1); ch != "" {
		t.Fatalf("claimed %q during #a's pacing", ch)
	}
	ch, got = claim(t, s, "n3", T0.Add(time.Second), 1)
	if ch != "#a" || !slices.Equal(got, want["#a"][1:]) {
		t.Fatalf("claim when #a's pacing allows = %q %v, want #a %v", ch, got, want["#a"][1:])
	}
	// A Retry-After of a minute on #a, by its owner, holds for everyone.
	must(t, s.Retry(ctx, got[0], T0.Add(time.Second), "ratelimited", false))
	must(t, s.ReleaseChannel(ctx, "#a", "n3", T0.Add(time.Minute)))
	if ch, _ := claim(t, s, "n4", T0.Add(30*time.Second), 1); ch == "#a" {
		t.Fatal("claimed #a during its Retry-After")
	}
	// A late release by a former owner cannot shorten the pacing.
	must(t, s.ReleaseChannel(ctx, "#a", "n1", T0.Add(2*time.Second)))
	if ch, _ := claim(t, s, "n4", T0.Add(40*time.Second), 1); ch == "#a" {
		t.Fatal("a former owner's release shortened #a's pacing")
	}
	if ch, _ := claim(t, s, "n4", T0.Add(time.Minute), 1); ch != "#a" {
		t.Fatalf("claim after the Retry-After = %q, want #a", ch)
	}
}

func testStateMoves(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 3, "#a")
	_, got := claim(t, s, "n1", T0, 10)
	sent, retried, failed := got[0], got[1], got[2]

	must(t, s.MarkSent(ctx, sent, "1732449600.000100", T0.Add(time.Second)))
	a := alertByID(t, s, sent)
	if a.State != store.StateSent || a.SlackTS != "1732449600.000100" || !a.SentAt.Equal(T0.Add(time.Second)) || a.Attempts != 1 {
		t.Fatalf("after MarkSent: %+v", a)
	}
	// Marking again changes nothing; Retry and MarkFailed leave a sent alert sent.
	must(t, s.MarkSent(ctx, sent, "other", T0.Add(time.Hour)))
	must(t, s.Retry(ctx, sent, T0.Add(time.Hour), "late error", true))
	must(t, s.MarkFailed(ctx, sent, "late", T0.Add(time.Hour)))
	if b := alertByID(t, s, sent); b.State != store.StateSent || b.SlackTS != a.SlackTS || b.Attempts != 1 {
		t.Fatalf("a sent alert moved: %+v", b)
	}

	must(t, s.Retry(ctx, retried, T0.Add(time.Minute), "connection reset", true))
	a = alertByID(t, s, retried)
	if a.State != store.StateQueued || !a.Uncertain || a.Attempts != 1 || a.LastError != "connection reset" {
		t.Fatalf("after Retry: %+v", a)
	}

	must(t, s.MarkFailed(ctx, failed, "channel_not_found", T0.Add(2*time.Second)))
	a = alertByID(t, s, failed)
	if a.State != store.StateFailed || a.LastError != "channel_not_found" || !a.FailedAt.Equal(T0.Add(2*time.Second)) {
		t.Fatalf("after MarkFailed: %+v", a)
	}
	must(t, s.Retry(ctx, failed, T0, "again", false))
	if a := alertByID(t, s, failed); a.State != store.StateFailed {
		t.Fatalf("Retry revived a failed alert: %+v", a)
	}

	must(t, s.ReleaseChannel(ctx, "#a", "n1", T0))
	// The retried alert comes back (uncertain, so the notifier checks
	// history); sent and failed ones never do.
	_, got = claim(t, s, "n1", T0.Add(time.Minute), 10)
	if !slices.Equal(got, []string{want["#a"][1]}) {
		t.Fatalf("claim after the moves = %v, want only the retried alert", got)
	}
	_, as, err := s.ClaimChannel(ctx, "n2", T0.Add(90*time.Second), time.Minute, 10)
	must(t, err)
	if len(as) != 0 {
		t.Fatalf("claimed %v under a live lease", ids(as))
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for name, err := range map[string]error{
		"MarkSent":   s.MarkSent(ctx, "nope", "1", T0),
		"Retry":      s.Retry(ctx, "nope", T0, "x", false),
		"MarkFailed": s.MarkFailed(ctx, "nope", "x", T0),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an unknown alert: err = %v, want ErrNotFound", name, err)
		}
	}
}

func testCrashRecovery(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 3, "#a")
	_, got := claim(t, s, "dead", T0, 10)
	if len(got) != 3 {
		t.Fatalf("claimed %v", got)
	}
	// "dead" posted the first alert and crashed before MarkSent.
	if ch, _ := claim(t, s, "n2", T0.Add(59*time.Second), 10); ch != "" {
		t.Fatal("claimed the channel of a live lease")
	}
	for _, id := range got {
		if a := alertByID(t, s, id); a.State != store.StateSending {
			t.Fatalf("claimed alert state %q, want sending", a.State)
		}
	}
	ch, as, err := s.ClaimChannel(ctx, "n2", T0.Add(time.Minute), time.Minute, 10)
	must(t, err)
	if ch != "#a" || !slices.Equal(ids(as), want["#a"]) {
		t.Fatalf("claim after the lease expired = %q %v, want #a %v", ch, ids(as), want["#a"])
	}
	for _, a := range as {
		if !a.Uncertain {
			t.Fatalf("alert %s recovered from a dead sender is not marked uncertain", a.ID)
		}
	}
	// The dead owner's late calls do not undo n2's claim.
	must(t, s.ReleaseChannel(ctx, "#a", "dead", T0))
	if ch, _ := claim(t, s, "n3", T0.Add(90*time.Second), 10); ch != "" {
		t.Fatal("a dead owner's release freed the new owner's lease")
	}
	for _, id := range want["#a"] {
		must(t, s.MarkSent(ctx, id, "ts", T0.Add(61*time.Second)))
	}
	must(t, s.ReleaseChannel(ctx, "#a", "n2", T0.Add(62*time.Second)))
	sent, err := s.Alerts(ctx, store.AlertFilter{State: store.StateSent})
	must(t, err)
	if len(sent) != 3 {
		t.Fatalf("%d sent, want 3", len(sent))
	}
}

func testReleaseChannel(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 2, "#a")
	_, got := claim(t, s, "n1", T0, 10)
	must(t, s.ReleaseChannel(ctx, "#a", "n1", T0))
	for _, id := range got {
		a := alertByID(t, s, id)
		if a.State != store.StateQueued || a.Uncertain || a.Attempts != 0 {
			t.Fatalf("released alert: %+v", a)
		}
	}
	_, got = claim(t, s, "n2", T0, 10)
	if !slices.Equal(got, want["#a"]) {
		t.Fatalf("claim after release = %v, want %v", got, want["#a"])
	}
	// Releasing a channel that never had alerts records its pacing.
	must(t, s.ReleaseChannel(ctx, "#empty", "n1", T0.Add(time.Minute)))
}

func testAlertsFilter(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	want := queue(t, s, 3, "#a", "#b")
	_, got := claim(t, s, "n1", T0, 1)
	must(t, s.MarkSent(ctx, got[0], "1", T0))
	all, err := s.Alerts(ctx, store.AlertFilter{})
	must(t, err)
	newestFirst := []string{want["#b"][2], want["#a"][2], want["#b"][1], want["#a"][1], want["#b"][0], want["#a"][0]}
	if !slices.Equal(ids(all), newestFirst) {
		t.Fatalf("Alerts = %v, want newest first %v", ids(all), newestFirst)
	}
	for _, tc := range []struct {
		f    store.AlertFilter
		want []string
	}{
		{store.AlertFilter{Channel: "#a"}, []string{want["#a"][2], want["#a"][1], want["#a"][0]}},
		{store.AlertFilter{State: store.StateSent}, []string{want["#a"][0]}},
		{store.AlertFilter{State: store.StateQueued, Channel: "#a"}, []string{want["#a"][2], want["#a"][1]}},
		{store.AlertFilter{Limit: 2}, newestFirst[:2]},
		{store.AlertFilter{State: store.StateFailed}, nil},
	} {
		got, err := s.Alerts(ctx, tc.f)
		must(t, err)
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Alerts(%+v) = %v, want %v", tc.f, ids(got), tc.want)
		}
	}
}

// testConcurrentClaimChannels runs several notifiers on one outbox: each
// claims, "posts" (recording what it holds), marks sent and releases. No
// alert may be held by two notifiers at once, each is sent exactly once,
// and each channel's alerts are sent in order.
func testConcurrentClaimChannels(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	channels := []string{"#a", "#b", "#c"}
	want := queue(t, s, 20, channels...)
	const workers = 4
	var mu sync.Mutex
	holder := map[string]string{}      // channel -> owner posting to it now
	sentOrder := map[string][]string{} // channel -> ids in posting order
	sentCount := map[string]int{}
	errc := make(chan error, workers)
	for w := range workers {
		go func() {
			owner := fmt.Sprintf("n%d", w)
			for {
				ch, as, err := s.ClaimChannel(ctx, owner, T0, time.Hour, 3)
				if err != nil {
					errc <- err
					return
				}
				if ch == "" {
					errc <- nil
					return
				}
				mu.Lock()
				if h, ok := holder[ch]; ok {
					mu.Unlock()
					errc <- fmt.Errorf("%s claimed %s while %s holds it", owner, ch, h)
					return
				}
				holder[ch] = owner
				for _, a := range as {
					sentOrder[ch] = append(sentOrder[ch], a.ID)
					sentCount[a.ID]++
				}
				mu.Unlock()
				for _, a := range as {
					if err := s.MarkSent(ctx, a.ID, "ts", T0); err != nil {
						errc <- err
						return
					}
				}
				mu.Lock()
				delete(holder, ch)
				mu.Unlock()
				if err := s.ReleaseChannel(ctx, ch, owner, T0); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range workers {
		must(t, <-errc)
	}
	// A worker may stop early when all channels were momentarily leased;
	// finish what is left, then check.
	for {
		ch, as, err := s.ClaimChannel(ctx, "final", T0, time.Hour, 0)
		must(t, err)
		if ch == "" {
			break
		}
		for _, a := range as {
			sentOrder[ch] = append(sentOrder[ch], a.ID)
			sentCount[a.ID]++
			must(t, s.MarkSent(ctx, a.ID, "ts", T0))
		}
		must(t, s.ReleaseChannel(ctx, ch, "final", T0))
	}
	for _, ch := range channels {
		if !slices.Equal(sentOrder[ch], want[ch]) {
			t.Errorf("channel %s posted %v, want %v in order", ch, sentOrder[ch], want[ch])
		}
	}
	for id, n := range sentCount {
		if n != 1 {
			t.Errorf("alert %s posted %d times", id, n)
		}
	}
}

// testBacklogDoesNotDelayOthers: a channel with a large backlog, claimed,
// paced or blocked by a retry, never holds back another channel's alert
// (issue 18.2: with 100,000 alerts queued in one channel, no other
// channel was delivered to).
func testBacklogDoesNotDelayOthers(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	busy := QueueBacklog(t, s, "#busy", 3000)
	quiet := itemAlert("f", "quiet-1", "rule", "#quiet", T0)
	enqueue(t, s, quiet)

	// #busy's head is oldest: it comes first, 200 at a time, in order.
	ch, got := claim(t, s, "n1", T0, 200)
	if ch != "#busy" || !slices.Equal(got, busy[:200]) {
		t.Fatalf("first claim = %q (%d alerts), want #busy's first 200", ch, len(got))
	}
	// While n1 delivers them, another notifier gets #quiet at once.
	ch, got = claim(t, s, "n2", T0, 200)
	if ch != "#quiet" || !slices.Equal(got, []string{quiet.ID}) {
		t.Fatalf("claim while #busy is leased = %q %v, want #quiet", ch, got)
	}
	must(t, s.MarkSent(ctx, quiet.ID, "1.0", T0))
	must(t, s.ReleaseChannel(ctx, "#quiet", "n2", T0))

	// #busy paced for a minute: a new #quiet alert goes first.
	must(t, s.ReleaseChannel(ctx, "#busy", "n1", T0.Add(time.Minute)))
	quiet2 := itemAlert("f", "quiet-2", "rule", "#quiet", T0)
	enqueue(t, s, quiet2)
	ch, got = claim(t, s, "n2", T0.Add(time.Second), 200)
	if ch != "#quiet" || !slices.Equal(got, []string{quiet2.ID}) {
		t.Fatalf("claim while #busy is paced = %q %v, want #quiet", ch, got)
	}
	must(t, s.MarkSent(ctx, quiet2.ID, "1.1", T0))
	must(t, s.ReleaseChannel(ctx, "#quiet", "n2", T0))

	// #busy's head waits for a retry: #busy is blocked, #quiet flows.
	ch, got = claim(t, s, "n1", T0.Add(time.Minute), 1)
	if ch != "#busy" || !slices.Equal(got, busy[:1]) {
		t.Fatalf("claim after #busy's pacing = %q %v, want its head", ch, got)
	}
	must(t, s.Retry(ctx, busy[0], T0.Add(time.Hour), "slack: 503", false))
	must(t, s.ReleaseChannel(ctx, "#busy", "n1", T0.Add(time.Minute)))
	quiet3 := itemAlert("f", "quiet-3", "rule", "#quiet", T0)
	enqueue(t, s, quiet3)
	ch, got = claim(t, s, "n2", T0.Add(2*time.Minute), 200)
	if ch != "#quiet" || !slices.Equal(got, []string{quiet3.ID}) {
		t.Fatalf("claim while #busy's head waits = %q %v, want #quiet", ch, got)
	}
	if ch, got := claim(t, s, "n3", T0.Add(2*time.Minute), 200); ch != "" {
		t.Fatalf("claimed %q (%d alerts) while #busy's head waits and #quiet is leased", ch, len(got))
	}
	// The retry is due: #busy resumes in its order, from its head.
	ch, got = claim(t, s, "n3", T0.Add(time.Hour), 200)
	if ch != "#busy" || !slices.Equal(got, busy[:200]) {
		t.Fatalf("claim at the retry time = %q (%d alerts), want #busy's first 200 in order", ch, len(got))
	}
}

// testDigestAroundBlocker: due digest alerts are claimed in the channel's
// order with the others, up to the first alert that must wait, and within
// the claim's limit.
func testDigestAroundBlocker(t *testing.T, s store.Store) {
	digest := func(id string) store.Alert {
		a := itemAlert("f", id, "daily", "#a", T0)
		a.Digest, a.NextAttempt = "0 9 * * *", T0
		return a
	}
	d1, a1, d2 := digest("d1"), itemAlert("f", "a1", "rule", "#a", T0), digest("d2")
	a2 := itemAlert("f", "a2", "rule", "#a", T0)
	a2.NextAttempt = T0.Add(time.Hour) // waits: holds back what follows it
	d3, a3 := digest("d3"), itemAlert("f", "a3", "rule", "#a", T0)
	enqueue(t, s, d1, a1, d2, a2, d3, a3)
	_, got := claim(t, s, "n1", T0, 2)
	if want := []string{d1.ID, a1.ID}; !slices.Equal(got, want) {
		t.Fatalf("claim of 2 = %v, want d1 a1", got)
	}
	must(t, s.ReleaseChannel(ctxT(t), "#a", "n1", T0))
	_, got = claim(t, s, "n1", T0, 10)
	if want := []string{d1.ID, a1.ID, d2.ID}; !slices.Equal(got, want) {
		t.Fatalf("claim before a2 is due = %v, want d1 a1 d2 (not d3, behind a2)", got)
	}
	must(t, s.ReleaseChannel(ctxT(t), "#a", "n1", T0))
	_, got = claim(t, s, "n1", T0.Add(time.Hour), 10)
	if want := []string{d1.ID, a1.ID, d2.ID, a2.ID, d3.ID, a3.ID}; !slices.Equal(got, want) {
		t.Fatalf("claim once a2 is due = %v, want all six in order", got)
	}
}
