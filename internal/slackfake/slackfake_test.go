package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func client(s *Server) *slack.Client {
	return slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()),
		slack.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func TestPostRecordsAndHistoryReturnsMetadata(t *testing.T) {
	s := New()
	defer s.Close()
	c := client(s)
	ctx := context.Background()

	blocks := []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*hi* &lt;!channel&gt;", false, false), nil, nil)}
	ch, ts, err := c.PostMessageContext(ctx, "#desk",
		slack.MsgOptionText("hello", false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "wirewatch_alert", EventPayload: map[string]any{"alert_id": "a1"}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if ch != s.ChannelID("desk") || ts == "" {
		t.Fatalf("post answered channel %q ts %q; fake knows desk as %q", ch, ts, s.ChannelID("desk"))
	}
	if _, _, err := c.PostMessageContext(ctx, ch, slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.PostMessageContext(ctx, "other", slack.MsgOptionText("x", false)); err != nil {
		t.Fatal(err)
	}

	msgs := s.MessagesIn("#desk")
	if len(msgs) != 2 {
		t.Fatalf("desk has %d messages, want 2", len(msgs))
	}
	m := msgs[0]
	if m.Text != "hello" || m.EventType != "wirewatch_alert" || m.Payload["alert_id"] != "a1" ||
		m.Params.Get("unfurl_links") != "false" || m.ChannelName != "desk" || m.Seq != 1 {
		t.Fatalf("recorded message wrong: %+v", m)
	}
	if m.Params.Get("token") != "" {
		t.Fatal("token kept in params")
	}
	var got []map[string]any
	if err := json.Unmarshal(m.Blocks, &got); err != nil || len(got) != 1 || got[0]["type"] != "section" {
		t.Fatalf("blocks %s: %v", m.Blocks, err)
	}
	if msgs[1].ThreadTS != ts {
		t.Fatalf("thread_ts %q, want %q", msgs[1].ThreadTS, ts)
	}

	// History by name is refused, as Slack does.
	if _, err := c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "desk"}); err == nil || err.Error() != "channel_not_found" {
		t.Fatalf("history by name: %v", err)
	}
	h, err := c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Metadata.EventPayload["alert_id"] != "a1" {
		t.Fatalf("history (thread replies excluded) = %+v", h.Messages)
	}
	h, err = c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil || h.Messages[0].Metadata.EventType != "" {
		t.Fatalf("metadata without include_all_metadata: %+v %v", h.Messages, err)
	}

	// chat.update and conversations.list and auth.test.
	if _, _, _, err := c.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("edited", false)); err != nil {
		t.Fatal(err)
	}
	if m := s.MessagesIn(ch)[0]; m.Text != "edited" || m.Updates != 1 {
		t.Fatalf("update not applied: %+v", m)
	}
	chans, _, err := c.GetConversationsContext(ctx, &slack.GetConversationsParameters{Types: []string{"public_channel"}})
	if err != nil || len(chans) != 2 || chans[0].Name != "desk" || chans[0].ID != ch {
		t.Fatalf("list = %+v %v", chans, err)
	}
	if at, err := c.AuthTestContext(ctx); err != nil || at.UserID == "" {
		t.Fatalf("auth.test %+v %v", at, err)
	}
}

func TestHistoryPaging(t *testing.T) {
	s := New(WithHistoryPageLimit(3))
	defer s.Close()
	c := client(s)
	ctx := context.Background()
	for i := range 7 {
		if _, _, err := c.PostMessageContext(ctx, "p", slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
			t.Fatal(err)
		}
	}
	var texts []string
	cursor := ""
	for {
		h, err := c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: s.ChannelID("p"), Cursor: cursor, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range h.Messages {
			texts = append(texts, m.Text)
		}
		if !h.HasMore {
			break
		}
		cursor = h.ResponseMetaData.NextCursor
	}
	if fmt.Sprint(texts) != "[6 5 4 3 2 1 0]" {
		t.Fatalf("history newest first over pages = %v", texts)
	}
}

func TestFaults(t *testing.T) {
	s := New(WithToken("xoxb-test"))
	defer s.Close()
	c := client(s)
	ctx := context.Background()
	post := func(ch string) error {
		_, _, err := c.PostMessageContext(ctx, ch, slack.MsgOptionText("m", false))
		return err
	}

	s.Inject(Rule{Method: MethodPostMessage, Channel: "a"}, RateLimited(7), 1)
	err := post("#a")
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); !ok || rl.RetryAfter != 7*time.Second {
		t.Fatalf("429: %v", err)
	}
	if err := post("b"); err != nil {
		t.Fatalf("fault leaked to another channel: %v", err)
	}
	if err := post("a"); err != nil {
		t.Fatalf("fault not consumed: %v", err)
	}

	s.Inject(Rule{Method: MethodPostMessage}, HTTPError(503), 2)
	for range 2 {
		if sc, ok := errors.AsType[slack.StatusCodeError](post("a")); !ok || sc.Code != 503 {
			t.Fatalf("want 503, got %v", sc)
		}
	}

	s.Inject(Rule{}, ErrorCode("fatal_error"), 1)
	if err := post("a"); err == nil || err.Error() != "fatal_error" {
		t.Fatalf("slack error: %v", err)
	}

	s.Reject("gone", "channel_not_found")
	for range 2 {
		if err := post("#gone"); err == nil || err.Error() != "channel_not_found" {
			t.Fatalf("rejected channel: %v", err)
		}
	}

	before := s.Len()
	s.Inject(Rule{Method: MethodPostMessage}, AcceptDrop(), 1)
	if err := post("a"); err == nil {
		t.Fatal("accept-then-drop: client saw success")
	}
	msgs := s.Messages()
	if len(msgs) != before+1 || !msgs[len(msgs)-1].Dropped {
		t.Fatalf("accept-then-drop did not record the message: %d -> %d", before, len(msgs))
	}

	hc := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}))
	s.Inject(Rule{Method: MethodPostMessage}, AcceptHang(10*time.Second), 1)
	start := time.Now()
	if _, _, err := hc.PostMessageContext(ctx, "a", slack.MsgOptionText("hang", false)); err == nil {
		t.Fatal("hang: client saw success")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("hang did not end when the client gave up")
	}
	if s.Len() != before+2 {
		t.Fatal("hang did not record")
	}

	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL()))
	if _, _, err := bad.PostMessageContext(ctx, "a", slack.MsgOptionText("m", false)); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("wrong token: %v", err)
	}

	n := 0
	s.FaultFunc(func(c Call) *Fault {
		n++
		if n%2 == 1 {
			f := HTTPError(500)
			return &f
		}
		return nil
	})
	if post("a") == nil || post("a") != nil {
		t.Fatal("fault func not applied in turn")
	}
	s.ClearFaults()
	if s.CallCount(MethodPostMessage) < 10 {
		t.Fatalf("calls not all recorded: %d", s.CallCount(MethodPostMessage))
	}
}

func TestWebhook(t *testing.T) {
	s := New(WithWebhookChannel("hooked"))
	defer s.Close()
	ctx := context.Background()
	msg := &slack.WebhookMessage{Text: "hi", Blocks: &slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	if err := slack.PostWebhookContext(ctx, s.WebhookURL(), msg); err != nil {
		t.Fatal(err)
	}
	s.Inject(Rule{Method: MethodWebhook}, RateLimited(2), 1)
	if _, ok := errors.AsType[*slack.RateLimitedError](slack.PostWebhookContext(ctx, s.WebhookURL(), msg)); !ok {
		t.Fatal("webhook 429 not seen")
	}
	s.Reject("hooked", "channel_is_archived")
	if sc, ok := errors.AsType[slack.StatusCodeError](slack.PostWebhookContext(ctx, s.WebhookURL(), msg)); !ok || sc.Code != http.StatusGone {
		t.Fatal("webhook to archived channel not refused with 410")
	}
	m := s.MessagesIn("hooked")
	if len(m) != 1 || m[0].Text != "hi" || m[0].Method != MethodWebhook || m[0].Blocks == nil {
		t.Fatalf("webhook messages = %+v", m)
	}
}

func TestConcurrentAndWait(t *testing.T) {
	s := New()
	defer s.Close()
	c := client(s)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, _, err := c.PostMessage(fmt.Sprintf("c%d", i%4), slack.MsgOptionText(fmt.Sprint(i), false)); err != nil {
				t.Error(err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitLen(ctx, 20); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, m := range s.Messages() {
		if seen[m.Seq] {
			t.Fatalf("duplicate seq %d", m.Seq)
		}
		seen[m.Seq] = true
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := s.WaitLen(short, 21); err == nil {
		t.Fatal("WaitLen returned without enough messages")
	}
}

func TestRepliesAndUpdate(t *testing.T) {
	s := New(WithHistoryPageLimit(2))
	defer s.Close()
	c := client(s)
	ctx := context.Background()
	meta := func(id string) slack.MsgOption {
		return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "wirewatch_alert", EventPayload: map[string]any{"alert_id": id}})
	}
	ch, parent, err := c.PostMessageContext(ctx, "#desk", slack.MsgOptionText("parent", false), meta("p"))
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := c.PostMessageContext(ctx, ch, slack.MsgOptionText("other", false))
	if err != nil {
		t.Fatal(err)
	}
	var replyTS []string
	for i, id := range []string{"r1", "r2", "r3"} {
		th := parent
		if i == 1 {
			th = other // one reply in another thread
		}
		_, ts, err := c.PostMessageContext(ctx, ch, slack.MsgOptionText("reply "+id, false), slack.MsgOptionTS(th), meta(id))
		if err != nil {
			t.Fatal(err)
		}
		replyTS = append(replyTS, ts)
	}

	// The thread of parent: parent first, then its replies, over pages.
	var got []slack.Message
	cursor := ""
	for {
		msgs, more, next, err := c.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: ch, Timestamp: parent, Cursor: cursor, IncludeAllMetadata: true})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msgs...)
		if !more {
			break
		}
		cursor = next
	}
	if len(got) != 3 || got[0].Timestamp != parent || got[1].Timestamp != replyTS[0] || got[2].Timestamp != replyTS[2] {
		t.Fatalf("replies = %+v, want parent, r1, r3", got)
	}
	if got[1].Metadata.EventPayload["alert_id"] != "r1" || got[1].ThreadTimestamp != parent {
		t.Fatalf("reply metadata %+v thread_ts %q", got[1].Metadata, got[1].ThreadTimestamp)
	}
	msgs, _, _, err := c.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: parent})
	if err != nil || msgs[0].Metadata.EventType != "" {
		t.Fatalf("metadata without include_all_metadata: %+v %v", msgs, err)
	}
	if _, _, _, err := c.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: "1.000000"}); err == nil || err.Error() != "thread_not_found" {
		t.Fatalf("replies of an unknown ts: %v", err)
	}
	if _, _, _, err := c.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "desk", Timestamp: parent}); err == nil || err.Error() != "channel_not_found" {
		t.Fatalf("replies by channel name: %v", err)
	}
	if r := s.Replies("#desk", parent); len(r) != 2 || r[0].Text != "reply r1" || r[1].Text != "reply r3" {
		t.Fatalf("Replies helper = %+v", r)
	}
	if tl := s.TopLevel("desk"); len(tl) != 2 || tl[0].TS != parent || tl[1].TS != other {
		t.Fatalf("TopLevel helper = %+v", tl)
	}

	// chat.update changes the message in place, keeping what it does not send.
	if _, _, _, err := c.UpdateMessageContext(ctx, ch, parent, slack.MsgOptionText("parent, 3 sources", false)); err != nil {
		t.Fatal(err)
	}
	m, ok := s.Message("#desk", parent)
	if !ok || m.Text != "parent, 3 sources" || m.Updates != 1 || m.Payload["alert_id"] != "p" {
		t.Fatalf("updated message = %+v", m)
	}
	if _, _, _, err := c.UpdateMessageContext(ctx, ch, "1.000000", slack.MsgOptionText("x", false)); err == nil || err.Error() != "message_not_found" {
		t.Fatalf("update of an unknown ts: %v", err)
	}
	if n := s.CallCount(MethodUpdate); n != 2 {
		t.Fatalf("%d chat.update calls recorded, want 2", n)
	}
}
