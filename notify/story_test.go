package notify

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// storyParent is an alert of feed (named name) that opens a story in ch.
func storyParent(ch, feed, name string, i int, now time.Time) store.Alert {
	a := itemAlert(ch, i, now)
	a.FeedKey, a.FeedName = feed, name
	a.ID = store.AlertID(feed, a.ItemID, a.Rule, ch)
	a.StoryID = a.ID
	a.Signature = []byte{1, 2, 3}
	return a
}

// storyFollowUp is a later report of parent's story by another feed.
func storyFollowUp(parent store.Alert, feed, name string, i int, now time.Time) store.Alert {
	a := itemAlert(parent.Channel, i, now)
	a.FeedKey, a.FeedName = feed, name
	a.ID = store.AlertID(feed, a.ItemID, a.Rule, parent.Channel)
	a.Title = fmt.Sprintf("%s version of story %d", name, i)
	a.StoryID = parent.ID
	return a
}

func sentAlert(t *testing.T, st store.Store, id string) store.Alert {
	t.Helper()
	a, err := st.Alert(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != store.StateSent {
		t.Fatalf("alert %s is %s (%s), want sent", id, a.State, a.LastError)
	}
	return a
}

// A parent and two follow-ups (one due with the parent, one later): one
// top-level message, two replies in its thread, and the parent message
// updated to name the sources.
func TestStoryThread(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	geo := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	other := itemAlert("#desk", 3, clk.Now()) // an unrelated story between them
	enqueue(t, st, parent, geo, other)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: 2})
	drain(t, n)
	clk.Advance(20 * time.Minute)
	reuters := storyFollowUp(parent, "reuters", "Reuters", 4, clk.Now())
	enqueue(t, st, reuters)
	drain(t, n)

	top := fake.TopLevel("desk")
	if len(top) != 2 || !slices.Equal(payloadIDs(top[0].Payload), []string{parent.ID}) || !slices.Equal(payloadIDs(top[1].Payload), []string{other.ID}) {
		t.Fatalf("top-level messages: %d, want the parent and the other story (follow-ups never grouped: BurstGroup 2 not exceeded)", len(top))
	}
	replies := fake.Replies("desk", top[0].TS)
	if len(replies) != 2 {
		t.Fatalf("%d replies in the parent's thread, want 2", len(replies))
	}
	for i, want := range []store.Alert{geo, reuters} {
		r := replies[i]
		if !slices.Equal(payloadIDs(r.Payload), []string{want.ID}) {
			t.Errorf("reply %d carries %v, want %s", i, payloadIDs(r.Payload), want.ID)
		}
		head := fmt.Sprintf("Also reported by *%s*: <%s|%s>\nRule: %s", want.FeedName, want.Link, want.Title, want.Rule)
		if r.Text != head {
			t.Errorf("reply %d text %q, want %q", i, r.Text, head)
		}
		if got := sentAlert(t, st, want.ID); got.SlackTS != r.TS {
			t.Errorf("follow-up %s marked sent with ts %q, want the reply's %q", want.ID, got.SlackTS, r.TS)
		}
	}
	p, _ := fake.Message("desk", top[0].TS)
	if p.Updates != 2 {
		t.Errorf("parent message updated %d times, want 2 (once per follow-up)", p.Updates)
	}
	if !strings.Contains(string(p.Blocks), "3 outlets since 09:00 UTC: also reported by Geo News, Reuters") {
		t.Errorf("updated parent blocks lack the sources line: %s", p.Blocks)
	}
	if !strings.Contains(string(p.Blocks), parent.Title) || !slices.Equal(payloadIDs(p.Payload), []string{parent.ID}) {
		t.Errorf("updated parent lost its headline or its alert-id metadata: %s %v", p.Blocks, p.Payload)
	}
	if !strings.Contains(p.Text, "3 outlets since 09:00 UTC") {
		t.Errorf("updated parent notification text %q", p.Text)
	}
	if got := sentAlert(t, st, parent.ID); got.SlackTS != top[0].TS {
		t.Errorf("parent ts %q, want %q", got.SlackTS, top[0].TS)
	}
}

// A burst groups the parent with other stories, never the follow-ups: they
// reply in the group's thread naming their story, and the group message is
// left as it is.
func TestStoryParentInBurstGroup(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 0, clk.Now())
	alerts := []store.Alert{parent}
	for i := 1; i <= 3; i++ {
		alerts = append(alerts, itemAlert("#desk", i, clk.Now()))
	}
	f1 := storyFollowUp(parent, "geo", "Geo News", 10, clk.Now())
	f2 := storyFollowUp(parent, "bbc", "BBC Urdu", 11, clk.Now())
	enqueue(t, st, append(alerts, f1, f2)...)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, BurstGroup: 3})
	drain(t, n)

	top := fake.TopLevel("desk")
	if len(top) != 1 || len(payloadIDs(top[0].Payload)) != 4 {
		t.Fatalf("want one grouped message of the 4 stories, got %d top-level messages", len(top))
	}
	replies := fake.Replies("desk", top[0].TS)
	if len(replies) != 2 || !strings.Contains(replies[0].Text, "(same story as: "+parent.Title+")") {
		t.Fatalf("replies in the group's thread: %+v", replies)
	}
	if top[0].Updates != 0 || fake.CallCount(slackfake.MethodUpdate) != 0 {
		t.Errorf("the grouped message was updated (%d calls): it would lose its list", fake.CallCount(slackfake.MethodUpdate))
	}
}

// A follow-up whose parent failed (or is unknown) is an ordinary alert.
func TestStoryParentFailed(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	f := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	orphan := storyFollowUp(parent, "aj", "Al Jazeera", 3, clk.Now())
	orphan.StoryID = "no-such-alert"
	enqueue(t, st, parent, f, orphan)
	// Slack refuses the parent for good (not a channel-wide error).
	fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage}, slackfake.ErrorCode("msg_too_long"), 1)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep})
	drain(t, n)

	if a, _ := st.Alert(context.Background(), parent.ID); a.State != store.StateFailed {
		t.Fatalf("parent is %s, want failed", a.State)
	}
	top := fake.TopLevel("desk")
	if len(top) != 2 || !slices.Equal(payloadIDs(top[0].Payload), []string{f.ID}) || !slices.Equal(payloadIDs(top[1].Payload), []string{orphan.ID}) {
		t.Fatalf("top-level messages %d, want the two follow-ups as ordinary alerts", len(top))
	}
	if !strings.Contains(string(top[0].Blocks), f.Title) || !strings.Contains(string(top[0].Blocks), "Geo News") || top[0].ThreadTS != "" {
		t.Errorf("follow-up not rendered as an ordinary alert: %s", top[0].Blocks)
	}
	sentAlert(t, st, f.ID)
	sentAlert(t, st, orphan.ID)
}

// A follow-up waits for its parent while the parent is not yet decided,
// and not forever.
func TestStoryFollowUpWaitsForParent(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	f := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	enqueue(t, st, parent, f)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/", Now: clk.Now, Sleep: clk.Sleep})
	m := &message{channel: "#desk", alerts: []store.Alert{f}, ids: []string{f.ID}, followUp: true}
	if act, _, _, err := n.resolveFollowUp(context.Background(), "#desk", m, nil); err != nil || act != fuWait {
		t.Fatalf("follow-up of a queued parent: action %v err %v, want wait", act, err)
	}
	clk.Advance(parentWaitMax)
	if act, _, _, err := n.resolveFollowUp(context.Background(), "#desk", m, nil); err != nil || act != fuTop || !m.capped || len(m.blocks) == 0 {
		t.Fatalf("follow-up after waiting %s: action %v err %v, want an ordinary alert", parentWaitMax, act, err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With a webhook there are no threads: follow-ups are not posted, but
// marked sent and logged; on stdout one short line each.
func TestStoryNoThreads(t *testing.T) {
	for _, mode := range []string{"webhook", "stdout"} {
		t.Run(mode, func(t *testing.T) {
			fake := slackfake.New(slackfake.WithWebhookChannel("hook"))
			defer fake.Close()
			clk := newClock()
			st := openStore(t)
			parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
			f1 := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
			f2 := storyFollowUp(parent, "reuters", "Reuters", 3, clk.Now())
			enqueue(t, st, parent, f1, f2)
			var logs syncBuffer
			var out bytes.Buffer
			m := metrics.New()
			o := Options{Store: st, Now: clk.Now, Sleep: clk.Sleep, Out: &out, Metrics: m,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if mode == "webhook" {
				o.WebhookURL = fake.WebhookURL()
			}
			n := newNotifier(t, o)
			drain(t, n)

			// Suppressed follow-ups are counted.
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			if !strings.Contains(rec.Body.String(), `wirewatch_story_followups_total{outcome="suppressed"} 2`) {
				t.Errorf("suppressed follow-ups not counted:\n%s", rec.Body.String())
			}
			if mode == "webhook" {
				msgs := fake.MessagesIn("hook")
				if len(msgs) != 1 || !strings.Contains(msgs[0].Text, parent.Title) {
					t.Fatalf("webhook got %d messages, want only the parent", len(msgs))
				}
			} else {
				s := out.String()
				if strings.Count(s, parent.Title) != 1 || !strings.Contains(s, "[#desk] also reported by Geo News (rule: strikes): "+f1.Title+" — 2 outlets since 09:00 UTC\n") ||
					!strings.Contains(s, "[#desk] also reported by Reuters (rule: strikes): "+f2.Title+" — 3 outlets since 09:00 UTC\n") {
					t.Fatalf("stdout:\n%s", s)
				}
			}
			for _, f := range []store.Alert{f1, f2} {
				if a := sentAlert(t, st, f.ID); a.SlackTS != "" {
					t.Errorf("suppressed follow-up has ts %q", a.SlackTS)
				}
			}
			if got := strings.Count(logs.String(), "(suppressed: no threads with"); got != 2 {
				t.Errorf("%d suppression log lines, want 2:\n%s", got, logs.String())
			}
			if !strings.Contains(logs.String(), "also reported by Geo News (suppressed") {
				t.Errorf("log does not name the source:\n%s", logs.String())
			}
		})
	}
}

// A reply whose answer was lost is found in the thread
// (conversations.replies: history does not show replies) and not posted
// again.
func TestStoryUncertainReplyNotRepeated(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	f := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	enqueue(t, st, parent, f)
	// The first post (the parent) goes through; the reply is accepted and
	// its answer lost.
	posts := 0
	fake.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != slackfake.MethodPostMessage {
			return nil
		}
		if posts++; posts == 2 {
			f := slackfake.AcceptDrop()
			return &f
		}
		return nil
	})
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep, DrainWait: time.Hour})
	drain(t, n)

	top := fake.TopLevel("desk")
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want 1", len(top))
	}
	replies := fake.Replies("desk", top[0].TS)
	if len(replies) != 1 || !replies[0].Dropped {
		t.Fatalf("%d replies, want the one whose answer was lost, once", len(replies))
	}
	if fake.CallCount(slackfake.MethodReplies) == 0 {
		t.Fatal("conversations.replies was not consulted")
	}
	if a := sentAlert(t, st, f.ID); a.SlackTS != replies[0].TS {
		t.Errorf("follow-up marked sent with ts %q, want the reply's %q", a.SlackTS, replies[0].TS)
	}
}

// Hostile feed text in a follow-up stays inert in the reply and in the
// updated parent.
func TestStoryHostileText(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	var follow []store.Alert
	for i, h := range hostile {
		f := storyFollowUp(parent, fmt.Sprint("evil", i), "Feed "+h, 10+i, clk.Now())
		f.Title = h
		f.Link = "https://news.example/x?a=<!channel>&b=|<@U1>"
		follow = append(follow, f)
	}
	enqueue(t, st, append([]store.Alert{parent}, follow...)...)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep})
	drain(t, n)

	top := fake.TopLevel("desk")
	if len(top) != 1 {
		t.Fatalf("%d top-level messages, want 1", len(top))
	}
	replies := fake.Replies("desk", top[0].TS)
	if len(replies) != len(hostile) {
		t.Fatalf("%d replies, want %d", len(replies), len(hostile))
	}
	p, _ := fake.Message("desk", top[0].TS)
	strs := append(jsonStrings(t, p.Blocks), p.Text)
	for _, r := range replies {
		strs = append(strs, r.Text)
	}
	for _, s := range strs {
		for _, bad := range []string{"<!", "<@", "<#", "<https://evil", "\x1b", "\u202e"} {
			if strings.Contains(s, bad) {
				t.Errorf("posted %q contains raw %q", s, bad)
			}
		}
	}
	if !strings.Contains(replies[1].Text, "Tom &amp; Jerry &gt; Itchy") {
		t.Errorf("reply not escaped as feed text is: %q", replies[1].Text)
	}
	if !slices.ContainsFunc(jsonStrings(t, p.Blocks), func(s string) bool {
		return strings.HasPrefix(s, "5 outlets since 09:00 UTC: also reported by ") && strings.Contains(s, "Feed Tom &amp; Jerry &gt; Itchy")
	}) {
		t.Errorf("sources line missing or not escaped: %s", p.Blocks)
	}
}

// Past ChannelCap top-level messages in an hour, the rest goes as one
// summary; once the cap is used up, the channel waits for the window and
// then sends one summary.
func TestChannelCap(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	var first []store.Alert
	for i := range 10 {
		first = append(first, itemAlert("#desk", i, clk.Now()))
	}
	enqueue(t, st, first...)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		BurstGroup: -1, ChannelCap: 3})
	drain(t, n)
	msgs := fake.MessagesIn("desk")
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3 (cap): two alerts and one summary", len(msgs))
	}
	if !slices.Equal(payloadIDs(msgs[0].Payload), []string{first[0].ID}) || !slices.Equal(payloadIDs(msgs[1].Payload), []string{first[1].ID}) {
		t.Errorf("first two messages carry %v %v", payloadIDs(msgs[0].Payload), payloadIDs(msgs[1].Payload))
	}
	if got := payloadIDs(msgs[2].Payload); len(got) != 8 || !strings.Contains(string(msgs[2].Blocks), "8 new stories") {
		t.Errorf("summary carries %d alerts: %s", len(got), msgs[2].Blocks)
	}

	// Another channel gets one alert every ten minutes: three messages use
	// the cap; three more alerts wait until the first ages out of the hour
	// and then go as one summary. Each alert is delivered by a new process
	// (a restart, or another replica): the count lives in the store.
	process := func() *Notifier {
		return newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
			BurstGroup: -1, ChannelCap: 3})
	}
	start := clk.Now()
	var wire []store.Alert
	for i := range 3 {
		a := itemAlert("#wire", i, clk.Now())
		wire = append(wire, a)
		enqueue(t, st, a)
		drain(t, process())
		clk.Advance(10 * time.Minute)
	}
	var held []store.Alert
	for i := range 3 {
		held = append(held, itemAlert("#wire", 10+i, clk.Now()))
	}
	enqueue(t, st, held...)
	drain(t, process())
	msgs = fake.MessagesIn("wire")
	if len(msgs) != 4 || len(payloadIDs(msgs[3].Payload)) != 3 || !strings.Contains(string(msgs[3].Blocks), "3 new stories") {
		t.Fatalf("#wire got %d messages; want 3 and then a summary of the 3 held alerts", len(msgs))
	}
	for _, a := range held {
		if got := sentAlert(t, st, a.ID); got.SentAt.Before(start.Add(time.Hour)) {
			t.Errorf("held alert sent at %v, before the first message of the hour (%v) aged out", got.SentAt, start)
		}
	}
	if len(alertsByState(t, st, store.StateSent)) != 16 {
		t.Error("not every alert marked sent")
	}
}

func TestStoryLine(t *testing.T) {
	parent := storyParent("#desk", "dawn", "Dawn", 1, t0)
	if got := StoryLine(parent, []store.Alert{parent}); got != "" {
		t.Errorf("a story without follow-ups: %q, want none", got)
	}
	again := storyFollowUp(parent, "dawn", "Dawn", 2, t0.Add(time.Minute))
	if got := StoryLine(parent, []store.Alert{again, parent}); got != "Reported again by Dawn (2 reports since 09:00 UTC)" {
		t.Errorf("a follow-up from the same source: %q", got)
	}
	story := []store.Alert{parent}
	for i := range 15 {
		// Newest first, as Alerts lists them; one source reports twice.
		f := storyFollowUp(parent, fmt.Sprint("f", i), fmt.Sprintf("Source %02d", i), 10+i, t0.Add(time.Duration(15-i)*time.Minute))
		story = append(story, f)
	}
	story = append(story, storyFollowUp(parent, "f14", "Source 14", 40, t0.Add(time.Hour)))
	want := "16 outlets since 09:00 UTC: also reported by Source 14, Source 13, Source 12, Source 11, Source 10, Source 09, Source 08, Source 07, Source 06, Source 05, Source 04, Source 03 and 3 more"
	if got := StoryLine(parent, story); got != want {
		t.Errorf("StoryLine =\n%q\nwant\n%q", got, want)
	}
}

// Two feeds polled at once can queue a follow-up before the alert that
// opened its story: the thread still starts with the parent.
func TestParentsFirst(t *testing.T) {
	p := store.Alert{ID: "p", Kind: store.KindItem, StoryID: "p"}
	f1 := store.Alert{ID: "f1", Kind: store.KindItem, StoryID: "p"}
	f2 := store.Alert{ID: "f2", Kind: store.KindItem, StoryID: "p"}
	x := store.Alert{ID: "x", Kind: store.KindItem}
	got := parentsFirst([]store.Alert{x, f1, f2, p})
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []string{"x", "p", "f1", "f2"}) {
		t.Errorf("order %v, want [x p f1 f2]", ids)
	}
}
