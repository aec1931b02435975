package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// clock is a fake clock: Sleep advances it instead of waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "wirewatch.db"), sqlite.WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tlogWriter struct{ t testing.TB }

func (w *tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func itemAlert(ch string, i int, now time.Time) store.Alert {
	item := fmt.Sprintf("item-%03d", i)
	return store.Alert{
		ID: store.AlertID("dawn", item, "strikes", ch), Kind: store.KindItem, Channel: ch,
		FeedKey: "dawn", FeedName: "Dawn", ItemID: item, GUID: item, Rule: "strikes",
		Title: fmt.Sprintf("Story %d for %s", i, ch), Link: fmt.Sprintf("https://news.example/%s/%d", strings.TrimPrefix(ch, "#"), i),
		Published: now.Add(-time.Hour), Snippet: "troops exchanged fire", Marks: [][2]int{{7, 21}},
		CreatedAt: now, NextAttempt: now,
	}
}

func enqueue(t testing.TB, s store.Store, alerts ...store.Alert) {
	t.Helper()
	if _, err := s.Enqueue(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
}

func newNotifier(t testing.TB, o Options) *Notifier {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	if o.Owner == "" {
		o.Owner = "test-owner"
	}
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func drain(t testing.TB, n *Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

// idsIn lists the alert ids carried by the accepted messages of a channel,
// in order (a grouped message contributes all of its ids).
func idsIn(f *slackfake.Server, ch string) []string {
	var out []string
	for _, m := range f.MessagesIn(ch) {
		out = append(out, payloadIDs(m.Payload)...)
	}
	return out
}

func alertsByState(t testing.TB, s store.Store, state string) map[string]store.Alert {
	t.Helper()
	as, err := s.Alerts(context.Background(), store.AlertFilter{State: state})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]store.Alert{}
	for _, a := range as {
		m[a.ID] = a
	}
	return m
}

// TestExactlyOnceUnderFaults is the main delivery test: three channels
// flow while the fake injects 429s with Retry-After, 500s, accept-then-drop
// (the unknown outcome) and history failures at random, and a fourth channel
// does not exist. Every alert of the working channels reaches Slack exactly
// once, in order; the broken channel's alerts are failed and reported once.
//
// Three fault seeds by default, one with -short, eight at full size
// (WIREWATCH_FULL=1).
func TestExactlyOnceUnderFaults(t *testing.T) {
	seeds := testsize.Pick([]uint64{1, 2, 3}, []uint64{1, 2, 3, 4, 5, 6, 7, 8})
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			testExactlyOnceUnderFaults(t, seed)
		})
	}
}

func testExactlyOnceUnderFaults(t *testing.T, seed uint64) {
	fake := slackfake.New()
	defer fake.Close()
	fake.Reject("gone", "channel_not_found")
	clk := newClock()
	st := openStore(t)

	rng := rand.New(rand.NewPCG(seed, 42))
	var faults = map[slackfake.FaultKind]int{}
	fake.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != slackfake.MethodPostMessage && c.Method != slackfake.MethodHistory {
			return nil
		}
		var f slackfake.Fault
		switch r := rng.IntN(100); {
		case r < 10:
			f = slackfake.RateLimited(1 + rng.IntN(3))
		case r < 20:
			f = slackfake.HTTPError(500 + rng.IntN(4))
		case r < 30 && c.Method == slackfake.MethodPostMessage:
			f = slackfake.AcceptDrop()
		default:
			return nil
		}
		faults[f.Kind]++
		return &f
	})

	chans := []string{"#desk-a", "#desk-b", "desk-c"}
	want := map[string][]string{}
	var all []store.Alert
	for i := range 20 {
		for _, ch := range append(slices.Clone(chans), "#gone") {
			a := itemAlert(ch, i, clk.Now())
			all = append(all, a)
			want[ch] = append(want[ch], a.ID)
		}
	}
	// Enqueue in several writes, as polls would.
	for i := 0; i < len(all); i += 7 {
		enqueue(t, st, all[i:min(i+7, len(all))]...)
	}

	n := newNotifier(t, Options{
		Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), OpsChannel: "#ops",
		Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1, DrainWait: 24 * time.Hour,
	})
	drain(t, n)

	for _, ch := range chans {
		got := idsIn(fake, ch)
		if !slices.Equal(got, want[ch]) {
			t.Errorf("%s: Slack got %d alerts (want %d), in order and once each: %v", ch, len(got), len(want[ch]), equalReport(got, want[ch]))
		}
	}
	if got := fake.MessagesIn("gone"); len(got) != 0 {
		t.Errorf("messages in a channel that does not exist: %d", len(got))
	}
	sent := alertsByState(t, st, store.StateSent)
	failed := alertsByState(t, st, store.StateFailed)
	for _, ch := range chans {
		for _, id := range want[ch] {
			if sent[id].SlackTS == "" {
				t.Errorf("alert %s for %s not marked sent with a ts: %+v", id, ch, sent[id])
			}
		}
	}
	for _, id := range want["#gone"] {
		if !strings.Contains(failed[id].LastError, "channel_not_found") {
			t.Errorf("alert %s for #gone: %+v, want failed with channel_not_found", id, failed[id])
		}
	}
	ops := fake.MessagesIn("ops")
	if len(ops) != 1 || !strings.Contains(ops[0].Text, "channel_not_found") || !strings.Contains(ops[0].Text, "#gone") {
		t.Errorf("ops channel got %d messages, want one about #gone: %+v", len(ops), ops)
	}
	if q := alertsByState(t, st, store.StateQueued); len(q) != 0 {
		t.Errorf("%d alerts left queued", len(q))
	}
	if faults[slackfake.AcceptThenDrop] == 0 || faults[slackfake.RateLimit] == 0 || faults[slackfake.ServerError] == 0 {
		t.Fatalf("the test did not exercise every fault: %v", faults)
	}
	t.Logf("faults injected: %v; history calls %d; fake time passed %s", faults, fake.CallCount(slackfake.MethodHistory), clk.Now().Sub(t0))
}

func equalReport(got, want []string) string {
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	var dup, missing []string
	for id, k := range seen {
		if k > 1 {
			dup = append(dup, id)
		}
	}
	for _, w := range want {
		if seen[w] == 0 {
			missing = append(missing, w)
		}
	}
	return fmt.Sprintf("duplicates %v, missing %v", dup, missing)
}

// TestPostedJSONHasNoRawMentions sends hostile titles and summaries through
// the whole pipeline and reads the request bodies Slack received.
func TestPostedJSONHasNoRawMentions(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	var alerts []store.Alert
	for i, h := range hostile {
		a := itemAlert("#desk", i, clk.Now())
		a.Title, a.Snippet, a.FeedName, a.Rule = h, "summary: "+h, "Feed "+h, "rule"
		a.Link = "https://news.example/x?a=<!channel>"
		alerts = append(alerts, a)
	}
	enqueue(t, st, alerts...)
	// A burst too, so the grouped message is checked as well.
	var burst []store.Alert
	for i := range 8 {
		a := itemAlert("#burst", i, clk.Now())
		a.Title = hostile[i%len(hostile)]
		burst = append(burst, a)
	}
	enqueue(t, st, burst...)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: 5})
	drain(t, n)

	msgs := fake.Messages()
	if len(msgs) != len(hostile)+1 {
		t.Fatalf("got %d messages, want %d", len(msgs), len(hostile)+1)
	}
	for _, m := range msgs {
		form, err := url.ParseQuery(string(m.RawBody))
		if err != nil {
			t.Fatal(err)
		}
		if form.Get("link_names") != "" || form.Get("parse") == "full" {
			t.Errorf("link_names/parse set: %v", form)
		}
		if form.Get("unfurl_links") != "false" || form.Get("unfurl_media") != "false" {
			t.Errorf("unfurling not off by default: %v", form)
		}
		strs := jsonStrings(t, []byte(form.Get("blocks")))
		strs = append(strs, form.Get("text"))
		for _, s := range strs {
			for _, bad := range []string{"<!", "<@", "<#", "<https://evil"} {
				if strings.Contains(s, bad) {
					t.Errorf("posted %q contains raw %q", s, bad)
				}
			}
		}
	}
}

// TestBurstGrouping: past BurstGroup alerts due at once, one message lists
// them all; below it, one message each.
func TestBurstGrouping(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	var big []store.Alert
	for i := range 12 {
		big = append(big, itemAlert("#big", i, clk.Now()))
	}
	enqueue(t, st, big...)
	for i := range 3 {
		enqueue(t, st, itemAlert("#small", i, clk.Now()))
	}
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: 5})
	drain(t, n)

	bigMsgs := fake.MessagesIn("big")
	if len(bigMsgs) != 1 {
		t.Fatalf("#big got %d messages, want 1 grouped", len(bigMsgs))
	}
	var blocks []map[string]any
	_ = json.Unmarshal(bigMsgs[0].Blocks, &blocks)
	raw := string(bigMsgs[0].Blocks)
	if !strings.Contains(raw, "12 new stories") || !strings.Contains(raw, "Story 0 for #big") || !strings.Contains(raw, "Story 11 for #big") {
		t.Errorf("grouped message does not list the stories: %s", raw)
	}
	if got := idsIn(fake, "big"); len(got) != 12 {
		t.Errorf("group metadata carries %d ids", len(got))
	}
	sent := alertsByState(t, st, store.StateSent)
	for _, a := range big {
		if sent[a.ID].SlackTS != bigMsgs[0].TS {
			t.Errorf("alert %s not sent with the group's ts", a.ID)
		}
	}
	if got := fake.MessagesIn("small"); len(got) != 3 {
		t.Errorf("#small got %d messages, want 3", len(got))
	}
}

// TestDigest: digest alerts wait for their time, then go as one summary per
// (channel, digest), while ordinary alerts flow meanwhile.
func TestDigest(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	at := t0.Add(3 * time.Hour)
	for i := range 3 {
		a := itemAlert("#desk", i, clk.Now())
		a.Digest, a.NextAttempt = "0 12 * * *", at
		enqueue(t, st, a)
	}
	other := itemAlert("#desk", 10, clk.Now())
	other.Digest, other.NextAttempt = "0 18 * * *", t0.Add(9*time.Hour)
	enqueue(t, st, other)
	enqueue(t, st, itemAlert("#desk", 99, clk.Now()))

	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep})
	drain(t, n)
	if got := fake.MessagesIn("desk"); len(got) != 1 || !strings.Contains(got[0].Text, "Story 99") {
		t.Fatalf("before the digest time: %d messages, want only the plain alert", len(got))
	}
	clk.Advance(3 * time.Hour)
	drain(t, n)
	msgs := fake.MessagesIn("desk")
	if len(msgs) != 2 || !strings.Contains(string(msgs[1].Blocks), "Digest: 3 stories") {
		t.Fatalf("at the digest time: %d messages, want one summary of 3: %+v", len(msgs), msgs)
	}
	if got := idsIn(fake, "desk"); len(got) != 4 {
		t.Errorf("ids delivered %d, want 4", len(got))
	}
	clk.Advance(6 * time.Hour)
	drain(t, n)
	if msgs := fake.MessagesIn("desk"); len(msgs) != 3 || !strings.Contains(string(msgs[2].Blocks), "Digest: 1 story") {
		t.Fatalf("second digest: %d messages", len(msgs))
	}
}

// TestPacing: about one message per second per channel after a short
// burst; other channels are not slowed by it.
func TestPacing(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	var mu sync.Mutex
	times := map[string][]time.Time{}
	fake.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method == slackfake.MethodPostMessage {
			mu.Lock()
			times[c.Channel] = append(times[c.Channel], clk.Now())
			mu.Unlock()
		}
		return nil
	})
	for i := range 10 {
		enqueue(t, st, itemAlert("#a", i, clk.Now()), itemAlert("#b", i, clk.Now()))
	}
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		BurstGroup: -1, Interval: time.Second, Burst: 3})
	drain(t, n)
	for _, ch := range []string{"a", "b"} {
		ts := times[ch]
		if len(ts) != 10 {
			t.Fatalf("%s: %d posts", ch, len(ts))
		}
		if !ts[2].Equal(ts[0]) {
			t.Errorf("%s: the first 3 should go at once (burst): %v", ch, ts[:3])
		}
		for i := 3; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d < time.Second {
				t.Errorf("%s: post %d only %s after the previous one", ch, i, d)
			}
		}
		if total := ts[9].Sub(ts[0]); total > 9*time.Second {
			t.Errorf("%s: 10 posts took %s of (fake) time; pacing too slow", ch, total)
		}
	}
}

// TestRateLimitNeverGivesUp: a channel answering 429 many times in a row is
// waited for (Retry-After each time), even beyond DrainWait, and the alert
// arrives once.
func TestRateLimitNeverGivesUp(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage, Channel: "slow"}, slackfake.RateLimited(30), 40)
	enqueue(t, st, itemAlert("#slow", 1, clk.Now()), itemAlert("#slow", 2, clk.Now()), itemAlert("#fast", 1, clk.Now()))
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		BurstGroup: -1, DrainWait: time.Minute})
	drain(t, n)
	if got := fake.MessagesIn("slow"); len(got) != 2 {
		t.Fatalf("#slow got %d messages after 40 rate limits, want 2", len(got))
	}
	if fast := fake.MessagesIn("fast"); len(fast) != 1 || fast[0].Seq != 1 {
		t.Errorf("#fast was held up by #slow's rate limit: %+v", fast)
	}
	if waited := clk.Now().Sub(t0); waited < 40*30*time.Second {
		t.Errorf("only %s passed; Retry-After not honoured", waited)
	}
	a := alertsByState(t, st, store.StateSent)[itemAlert("#slow", 1, t0).ID]
	if a.Attempts < 40 {
		t.Errorf("attempts %d", a.Attempts)
	}
}

// TestGivesUpAfterRetryFor: a channel failing with 500s is retried with
// backoff for RetryFor, then its alerts are failed and reported.
func TestGivesUpAfterRetryFor(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage, Channel: "broken"}, slackfake.HTTPError(503), -1)
	a := itemAlert("#broken", 1, clk.Now())
	enqueue(t, st, a, itemAlert("#ok", 1, clk.Now()))
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		OpsChannel: "#ops", RetryFor: time.Hour, DrainWait: 2 * time.Hour})
	drain(t, n)
	got := alertsByState(t, st, store.StateFailed)[a.ID]
	if got.State != store.StateFailed || !strings.Contains(got.LastError, "gave up after 1h0m0s") || got.Attempts < 5 {
		t.Fatalf("alert after RetryFor: %+v", got)
	}
	if el := got.FailedAt.Sub(t0); el < time.Hour || el > 2*time.Hour {
		t.Errorf("failed %s after creation, want about RetryFor", el)
	}
	ops := fake.MessagesIn("ops")
	if len(ops) != 1 || !strings.Contains(ops[0].Text, "gave up delivering 1 alert") {
		t.Fatalf("ops messages: %+v", ops)
	}
	if len(fake.MessagesIn("ok")) != 1 {
		t.Error("#ok not delivered")
	}
	// Retries backed off exponentially: far fewer posts than seconds.
	if c := fake.CallCount(slackfake.MethodPostMessage); c > 40 {
		t.Errorf("%d posts in an hour of failures: no backoff", c)
	}
}

// TestDrainStopsWaitingForBackoff: Drain does not wait for 5xx backoff past
// DrainWait; the alert stays queued and Drain says so.
func TestDrainStopsWaitingForBackoff(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage}, slackfake.HTTPError(500), -1)
	enqueue(t, st, itemAlert("#x", 1, clk.Now()))
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, DrainWait: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := n.Drain(ctx)
	if !errors.Is(err, ErrUndelivered) {
		t.Fatalf("Drain = %v, want ErrUndelivered", err)
	}
	if q := alertsByState(t, st, store.StateQueued); len(q) != 1 {
		t.Fatalf("queued %d, want the alert kept", len(q))
	}
}

// TestCrashedSenderIsNotRepeated: a process claimed a channel, posted one
// alert and died before recording it. Once its lease expires the alert is
// found in the channel's history and marked sent, not posted again.
func TestCrashedSenderIsNotRepeated(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	ctx := context.Background()
	a1, a2 := itemAlert("#desk", 1, clk.Now()), itemAlert("#desk", 2, clk.Now())
	enqueue(t, st, a1, a2)

	// The process that dies: claims, posts a1 through the real transport, then nothing.
	dead := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, Owner: "dead"})
	ch, batch, err := st.ClaimChannel(ctx, "dead", clk.Now(), time.Minute, 10)
	if err != nil || ch != "#desk" || len(batch) != 2 {
		t.Fatalf("claim: %q %d %v", ch, len(batch), err)
	}
	msgs := dead.plan(t.Context(), ch, batch[:1])
	if _, err := dead.tr.post(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}

	clk.Advance(2 * time.Minute)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1})
	drain(t, n)
	if got := idsIn(fake, "desk"); !slices.Equal(got, []string{a1.ID, a2.ID}) {
		t.Fatalf("Slack got %v, want each once in order", got)
	}
	sent := alertsByState(t, st, store.StateSent)
	if sent[a1.ID].SlackTS != fake.MessagesIn("desk")[0].TS {
		t.Errorf("a1 not marked sent with the ts found in history: %+v", sent[a1.ID])
	}
	if fake.CallCount(slackfake.MethodHistory) == 0 || fake.CallCount(slackfake.MethodList) == 0 {
		t.Error("history was not consulted (with the channel resolved by name)")
	}
}

// TestOtherChannelsFlowPastPermanentErrors runs the daemon loop (Run) with
// real time: one channel the app is not in, others flowing.
func TestRunDeliversAndStops(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	fake.Reject("private", "not_in_channel")
	st := openStore(t)
	now := time.Now()
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), OpsChannel: "#ops",
		PollInterval: 10 * time.Millisecond, Interval: time.Millisecond, BurstGroup: -1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()

	for i := range 5 {
		enqueue(t, st, itemAlert("#private", i, now), itemAlert("#a", i, now), itemAlert("#b", i, now))
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	err := fake.WaitFor(wctx, func(ms []slackfake.Message) bool {
		k := 0
		for _, m := range ms {
			if m.ChannelName == "a" || m.ChannelName == "b" || m.ChannelName == "ops" {
				k++
			}
		}
		return k >= 11
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// The last #private alert may still be in flight: wait for its failure.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(alertsByState(t, st, store.StateFailed)) == 5 {
			break
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if len(fake.MessagesIn("a")) != 5 || len(fake.MessagesIn("b")) != 5 {
		t.Errorf("a %d b %d", len(fake.MessagesIn("a")), len(fake.MessagesIn("b")))
	}
	ops := fake.MessagesIn("ops")
	if len(ops) != 1 || !strings.Contains(ops[0].Text, "not_in_channel") || !strings.Contains(ops[0].Text, "/invite") {
		t.Errorf("ops: %+v", ops)
	}
	if f := alertsByState(t, st, store.StateFailed); len(f) != 5 {
		t.Errorf("failed %d, want the 5 for #private", len(f))
	}
}

// TestWebhookAtLeastOnce: with a webhook there is no history, so an
// accepted-then-dropped post is posted again (documented at-least-once);
// everything else arrives once, in the webhook's channel.
func TestWebhookAtLeastOnce(t *testing.T) {
	fake := slackfake.New(slackfake.WithWebhookChannel("hook"))
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodWebhook}, slackfake.AcceptDrop(), 1)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodWebhook}, slackfake.RateLimited(1), 1)
	for i := range 3 {
		enqueue(t, st, itemAlert("#desk", i, clk.Now()))
	}
	n := newNotifier(t, Options{Store: st, WebhookURL: fake.WebhookURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1})
	if n.Mode() != "slack-webhook" {
		t.Fatal(n.Mode())
	}
	drain(t, n)
	msgs := fake.MessagesIn("hook")
	var titles []string
	for _, m := range msgs {
		titles = append(titles, m.Text)
	}
	if len(msgs) != 4 || msgs[0].Text != msgs[1].Text || !msgs[0].Dropped {
		t.Fatalf("webhook messages: %q", titles)
	}
	if msgs[0].Blocks == nil || msgs[0].Params.Get("unfurl_links") != "false" {
		t.Errorf("webhook message without blocks or with unfurling: %+v", msgs[0])
	}
	if s := alertsByState(t, st, store.StateSent); len(s) != 3 {
		t.Errorf("sent %d", len(s))
	}
}

// TestStdout: without Slack, alerts are printed readably and marked sent.
func TestStdout(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	a := itemAlert("#desk", 1, clk.Now())
	a.Title = "Troops \x1b[2Jexchange fire <!channel>"
	enqueue(t, st, a, itemAlert("#desk", 2, clk.Now()))
	var out bytes.Buffer
	n := newNotifier(t, Options{Store: st, Out: &out, Now: clk.Now, Sleep: clk.Sleep})
	if n.Mode() != "stdout" {
		t.Fatal(n.Mode())
	}
	drain(t, n)
	s := out.String()
	want := "[#desk] — strikes — Dawn — Tue 24 Nov 2026 08:00 UTC\n  Troops [2Jexchange fire <!channel>\n  https://news.example/desk/1\n  troops *exchanged fire*\n\n"
	if !strings.HasPrefix(s, want) {
		t.Fatalf("stdout:\n%s\nwant prefix:\n%s", s, want)
	}
	if !strings.Contains(s, "Story 2 for #desk") {
		t.Error("second alert missing")
	}
	if len(alertsByState(t, st, store.StateSent)) != 2 {
		t.Error("not marked sent")
	}
}

func TestCheck(t *testing.T) {
	fake := slackfake.New(slackfake.WithToken("xoxb-right"))
	defer fake.Close()
	st := openStore(t)
	good := newNotifier(t, Options{Store: st, Token: "xoxb-right", APIURL: fake.APIURL()})
	if err := good.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad := newNotifier(t, Options{Store: st, Token: "xoxb-wrong", APIURL: fake.APIURL()})
	if err := bad.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Check with a wrong token = %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
}

// TestTimeoutAfterAccepted: Slack accepts a post but the answer never comes
// (the client times out). The alert is found in history, not posted again.
func TestTimeoutAfterAccepted(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage}, slackfake.AcceptHang(10*time.Second), 1)
	a1, a2 := itemAlert("#desk", 1, clk.Now()), itemAlert("#desk", 2, clk.Now())
	enqueue(t, st, a1, a2)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		BurstGroup: -1, HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	drain(t, n)
	if got := idsIn(fake, "desk"); !slices.Equal(got, []string{a1.ID, a2.ID}) {
		t.Fatalf("Slack got %v, want a1, a2 once each", got)
	}
	if a := alertsByState(t, st, store.StateSent)[a1.ID]; a.Attempts != 2 {
		t.Errorf("a1 attempts %d, want 2 (timed out, then found in history)", a.Attempts)
	}
}

// TestReplicas: two notifiers (two processes) share one store file; every
// alert arrives once, in order per channel.
func TestReplicas(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st := openStore(t)
	now := time.Now()
	want := map[string][]string{}
	for i := range 15 {
		for _, ch := range []string{"#r1", "#r2", "#r3"} {
			a := itemAlert(ch, i, now)
			enqueue(t, st, a)
			want[strings.TrimPrefix(ch, "#")] = append(want[strings.TrimPrefix(ch, "#")], a.ID)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, owner := range []string{"replica-1", "replica-2"} {
		n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Owner: owner,
			PollInterval: 5 * time.Millisecond, Interval: time.Millisecond, BurstGroup: -1, Workers: 2})
		wg.Go(func() { _ = n.Run(ctx) })
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := fake.WaitLen(wctx, 45); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // a duplicate would show up now
	cancel()
	wg.Wait()
	for ch, ids := range want {
		if got := idsIn(fake, ch); !slices.Equal(got, ids) {
			t.Errorf("%s: %s", ch, equalReport(got, ids))
		}
	}
	if s := alertsByState(t, st, store.StateSent); len(s) != 45 {
		t.Errorf("sent %d of 45", len(s))
	}
}

// TestWebhookRevokedHoldsAlerts: a revoked webhook (no_service) is a
// credential error: the alerts are held, retried with backoff (the first
// of them per try), and a process with a working webhook delivers them all.
func TestWebhookRevokedHoldsAlerts(t *testing.T) {
	fake := slackfake.New(slackfake.WithWebhookChannel("hook"))
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	fake.Reject("hook", "no_service")
	enqueue(t, st, itemAlert("#desk", 1, clk.Now()), itemAlert("#desk", 2, clk.Now()))
	n := newNotifier(t, Options{Store: st, WebhookURL: fake.WebhookURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1})
	if err := n.Drain(t.Context()); err == nil || !strings.Contains(err.Error(), "still queued") {
		t.Fatalf("Drain with a revoked webhook: %v, want alerts still queued", err)
	}
	if failed := alertsByState(t, st, store.StateFailed); len(failed) != 0 {
		t.Fatalf("failed %d alerts, want them held", len(failed))
	}
	queued := alertsByState(t, st, store.StateQueued)
	if len(queued) != 2 {
		t.Fatalf("queued %d, want 2", len(queued))
	}
	for _, a := range queued {
		if a.Attempts > 0 && !strings.Contains(a.LastError, "no_service") {
			t.Errorf("reason %q", a.LastError)
		}
	}
	// Drain waits out retries for DrainWait (2 min of the fake clock):
	// backing off from 2 s, that is at most 7 tries, not a tight loop.
	if c := fake.CallCount(slackfake.MethodWebhook); c < 1 || c > 7 {
		t.Errorf("%d webhook calls in 2 minutes; want a few, backing off", c)
	}

	fake.Accept("hook") // a new webhook, and a restart
	clk.Advance(time.Hour)
	drain(t, newNotifier(t, Options{Store: st, WebhookURL: fake.WebhookURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1}))
	if sent := alertsByState(t, st, store.StateSent); len(sent) != 2 {
		t.Errorf("sent %d after the fix, want 2", len(sent))
	}
}

// TestRefusedCredentialsHoldAlerts: while Slack refuses the token
// (invalid_auth), alerts are held, not failed, and the ops message waits
// with them; once a process with a working token runs, every held alert
// and the ops message arrive, in order and once.
func TestRefusedCredentialsHoldAlerts(t *testing.T) {
	fake := slackfake.New(slackfake.WithToken("xoxb-new"))
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	var want []string
	for i := range 3 {
		a := itemAlert("#desk-a", i, clk.Now())
		enqueue(t, st, a)
		want = append(want, a.ID)
	}

	old := newNotifier(t, Options{
		Store: st, Token: "xoxb-revoked", APIURL: fake.APIURL(), OpsChannel: "#ops",
		Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1, DrainWait: time.Hour,
	})
	// Drain (as `wirewatch once` does) says what it could not deliver.
	if err := old.Drain(t.Context()); err == nil || !strings.Contains(err.Error(), "still queued") {
		t.Fatalf("Drain with a refused token: %v, want an error saying alerts are still queued", err)
	}
	if got := fake.MessagesIn("desk-a"); len(got) != 0 {
		t.Fatalf("%d messages posted with a refused token", len(got))
	}
	if failed := alertsByState(t, st, store.StateFailed); len(failed) != 0 {
		t.Fatalf("%d alerts failed while the token was refused; want them held", len(failed))
	}
	queued := alertsByState(t, st, store.StateQueued)
	for _, id := range want {
		if _, ok := queued[id]; !ok {
			t.Errorf("alert %s is not queued", id)
		}
	}
	// The channel's first alert was tried; the others wait behind it, in order.
	if a := queued[want[0]]; a.Attempts < 1 || !strings.Contains(a.LastError, "invalid_auth") {
		t.Errorf("first alert %+v, want tried, last error invalid_auth", a)
	}
	ops := 0
	for _, a := range queued {
		if a.Kind == store.KindOps {
			ops++
			if !strings.Contains(a.Text, "invalid_auth") {
				t.Errorf("ops message %q does not say invalid_auth", a.Text)
			}
		}
	}
	if ops != 1 {
		t.Fatalf("%d ops messages queued, want one", ops)
	}

	// The operator fixes the token and restarts.
	clk.Advance(time.Hour)
	fixed := newNotifier(t, Options{
		Store: st, Token: "xoxb-new", APIURL: fake.APIURL(), OpsChannel: "#ops",
		Now: clk.Now, Sleep: clk.Sleep, BurstGroup: -1,
	})
	drain(t, fixed)
	if got := idsIn(fake, "desk-a"); !slices.Equal(got, want) {
		t.Errorf("after the fix Slack got %v, want %v", got, want)
	}
	if got := fake.MessagesIn("ops"); len(got) != 1 || !strings.Contains(got[0].Text, "invalid_auth") {
		t.Errorf("ops channel got %+v, want the held message about invalid_auth", got)
	}
	if q := alertsByState(t, st, store.StateQueued); len(q) != 0 {
		t.Errorf("%d alerts still queued", len(q))
	}
}
