package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// MetadataEventType is the Slack message metadata event type Wirewatch
// attaches to every message it posts with a bot token. Its payload holds
// "alert_ids": the ids of the alerts the message carries.
const MetadataEventType = "wirewatch_alert"

// transport posts messages. history reports which of ids appear in the
// metadata of the channel's recent messages, replies which appear in the
// thread of message threadTS (both errNoHistory if the transport cannot
// read history). update replaces a posted message (bot token only).
type transport interface {
	post(ctx context.Context, m *message) (ts string, err error)
	history(ctx context.Context, channel string, ids []string) (found map[string]string, err error)
	replies(ctx context.Context, channel, threadTS string, ids []string) (found map[string]string, err error)
	update(ctx context.Context, channel, ts string, m *message) error
	// threads says whether replies in threads (and updates) are possible.
	threads() bool
	paced() bool
	kind() string
}

var errNoUpdate = errors.New("messages cannot be updated")

var errNoHistory = errors.New("history not available")

// --- Web API (bot token) ---

type apiTransport struct {
	c       *slack.Client
	unfurl  bool
	pages   int // history pages to read (200 messages each)
	mu      sync.Mutex
	chanIDs map[string]string // channel name → ID, learned from posts and conversations.list
}

func newAPITransport(token, apiURL string, hc *http.Client, unfurl bool) *apiTransport {
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &apiTransport{c: slack.New(token, opts...), unfurl: unfurl, pages: 5, chanIDs: map[string]string{}}
}

func (t *apiTransport) paced() bool   { return true }
func (t *apiTransport) threads() bool { return true }
func (t *apiTransport) kind() string  { return "slack-api" }

func (t *apiTransport) post(ctx context.Context, m *message) (string, error) {
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.text, false), // already escaped by Render
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    MetadataEventType,
			EventPayload: metadataPayload(m.ids),
		}),
	}
	if len(m.blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.blocks...))
	}
	if m.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.threadTS))
	}
	if t.unfurl {
		opts = append(opts, slack.MsgOptionEnableLinkUnfurl())
	} else {
		opts = append(opts, slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	}
	ch := channelArg(m.channel)
	id, ts, err := t.c.PostMessageContext(ctx, ch, opts...)
	if err != nil {
		return "", err
	}
	if id != "" {
		t.mu.Lock()
		t.chanIDs[ch] = id
		t.mu.Unlock()
	}
	return ts, nil
}

// channelArg is the channel as chat.postMessage takes it: an ID as is, a
// name without its "#".
func channelArg(ch string) string { return strings.TrimPrefix(strings.TrimSpace(ch), "#") }

// looksLikeID says whether ch is a conversation ID rather than a name.
func looksLikeID(ch string) bool {
	if len(ch) < 9 || !strings.ContainsRune("CGD", rune(ch[0])) {
		return false
	}
	for _, r := range ch {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// channelID resolves a channel name to its ID (conversations.history takes
// only IDs): from earlier posts, else from conversations.list.
func (t *apiTransport) channelID(ctx context.Context, ch string) (string, error) {
	ch = channelArg(ch)
	if looksLikeID(ch) {
		return ch, nil
	}
	t.mu.Lock()
	id := t.chanIDs[ch]
	t.mu.Unlock()
	if id != "" {
		return id, nil
	}
	cursor := ""
	for range 50 {
		list, next, err := t.c.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Cursor: cursor, Limit: 1000, ExcludeArchived: true,
			Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			return "", fmt.Errorf("conversations.list: %w", err)
		}
		t.mu.Lock()
		for _, c := range list {
			t.chanIDs[c.Name] = c.ID
		}
		id = t.chanIDs[ch]
		t.mu.Unlock()
		if id != "" || next == "" {
			break
		}
		cursor = next
	}
	if id == "" {
		return "", slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	return id, nil
}

func (t *apiTransport) history(ctx context.Context, channel string, ids []string) (map[string]string, error) {
	id, err := t.channelID(ctx, channel)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(ids))
	for _, i := range ids {
		want[i] = true
	}
	found := map[string]string{}
	cursor := ""
	for range t.pages {
		h, err := t.c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: id, Cursor: cursor, Limit: 200, IncludeAllMetadata: true,
		})
		if err != nil {
			return nil, fmt.Errorf("conversations.history: %w", err)
		}
		for _, m := range h.Messages {
			if m.Metadata.EventType != MetadataEventType {
				continue
			}
			for _, aid := range payloadIDs(m.Metadata.EventPayload) {
				if want[aid] {
					found[aid] = m.Timestamp
				}
			}
		}
		if len(found) == len(want) || !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			break
		}
		cursor = h.ResponseMetaData.NextCursor
	}
	return found, nil
}

// replies looks for ids in the metadata of the replies in the thread of
// message threadTS (conversations.history does not return thread replies).
func (t *apiTransport) replies(ctx context.Context, channel, threadTS string, ids []string) (map[string]string, error) {
	id, err := t.channelID(ctx, channel)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(ids))
	for _, i := range ids {
		want[i] = true
	}
	found := map[string]string{}
	cursor := ""
	for range t.pages {
		msgs, more, next, err := t.c.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: id, Timestamp: threadTS, Cursor: cursor, Limit: 200, IncludeAllMetadata: true,
		})
		if err != nil {
			return nil, fmt.Errorf("conversations.replies: %w", err)
		}
		for _, m := range msgs {
			if m.Metadata.EventType != MetadataEventType || m.Timestamp == threadTS {
				continue
			}
			for _, aid := range payloadIDs(m.Metadata.EventPayload) {
				if want[aid] {
					found[aid] = m.Timestamp
				}
			}
		}
		if len(found) == len(want) || !more || next == "" {
			break
		}
		cursor = next
	}
	return found, nil
}

// update replaces message ts with m's text, blocks and alert-id metadata
// (chat.update, which takes only a channel ID).
func (t *apiTransport) update(ctx context.Context, channel, ts string, m *message) error {
	id, err := t.channelID(ctx, channel)
	if err != nil {
		return err
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(m.text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: MetadataEventType, EventPayload: metadataPayload(m.ids)}),
	}
	if len(m.blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(m.blocks...))
	}
	if _, _, _, err := t.c.UpdateMessageContext(ctx, id, ts, opts...); err != nil {
		return fmt.Errorf("chat.update: %w", err)
	}
	return nil
}

// metadataPayload is the metadata payload of a message carrying ids:
// {"alert_id": first} and, for a grouped message, "alert_ids": all of them
// joined with commas (plain strings keep the payload valid for any schema).
func metadataPayload(ids []string) map[string]any {
	p := map[string]any{"alert_id": ids[0]}
	if len(ids) > 1 {
		p["alert_ids"] = strings.Join(ids, ",")
	}
	return p
}

// payloadIDs reads alert ids from a metadata payload: "alert_ids" if
// present (a group), else "alert_id".
func payloadIDs(p map[string]any) []string {
	var out []string
	switch v := p["alert_ids"].(type) {
	case string:
		for _, s := range strings.Split(v, ",") {
			if s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		if s, ok := p["alert_id"].(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}

// --- incoming webhook ---

type webhookTransport struct {
	url    string
	hc     *http.Client
	unfurl bool
}

func (t *webhookTransport) paced() bool   { return true }
func (t *webhookTransport) threads() bool { return false }
func (t *webhookTransport) kind() string  { return "slack-webhook" }
func (t *webhookTransport) history(context.Context, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (t *webhookTransport) replies(context.Context, string, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (t *webhookTransport) update(context.Context, string, string, *message) error {
	return errNoUpdate
}

func (t *webhookTransport) post(ctx context.Context, m *message) (string, error) {
	unfurl := t.unfurl
	msg := slack.WebhookMessage{Text: m.text, UnfurlLinks: &unfurl, UnfurlMedia: &unfurl}
	if len(m.blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: m.blocks}
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return "", fmt.Errorf("encoding webhook message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(raw))
	if err != nil {
		return "", fmt.Errorf("webhook request: %w", redactURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", redactURL(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	code := strings.TrimSpace(string(body))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return "", &slack.RateLimitedError{RetryAfter: time.Duration(ra) * time.Second}
	case resp.StatusCode >= 500:
		return "", slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	case resp.StatusCode != http.StatusOK:
		if code == "" || len(code) > 64 || strings.ContainsAny(code, " <") {
			return "", slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
		}
		return "", slack.SlackErrorResponse{Err: code}
	}
	return "", nil
}

// redactURL removes the URL (a webhook URL is a secret) from an *url.Error.
func redactURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("webhook %s: %w", ue.Op, ue.Err)
	}
	return err
}

// --- stdout ---

type stdoutTransport struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *stdoutTransport) paced() bool   { return false }
func (t *stdoutTransport) threads() bool { return false }
func (t *stdoutTransport) kind() string  { return "stdout" }
func (t *stdoutTransport) history(context.Context, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (t *stdoutTransport) replies(context.Context, string, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (t *stdoutTransport) update(context.Context, string, string, *message) error { return errNoUpdate }

// line prints one line of text (already cleaned) and a blank line.
func (t *stdoutTransport) line(s string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := io.WriteString(t.w, s+"\n\n")
	return err
}

func (t *stdoutTransport) post(_ context.Context, m *message) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.also {
		var extra []string
		if rs := slices.DeleteFunc(rulesOf(m.alerts[1:]), func(r string) bool { return r == clean(m.alerts[0].Rule) }); len(rs) > 0 {
			extra = append(extra, alsoMatches(rs, false))
		}
		if err := writeText(t.w, m.alerts[0], extra); err != nil {
			return "", fmt.Errorf("writing alert to stdout: %w", err)
		}
		return "", nil
	}
	for _, a := range m.alerts {
		if err := WriteText(t.w, a); err != nil {
			return "", fmt.Errorf("writing alert to stdout: %w", err)
		}
	}
	return "", nil
}
