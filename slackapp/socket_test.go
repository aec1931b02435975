package slackapp

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// lockedBuffer is a log sink tests can read while the app writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// untouched is a Store for paths that must not reach the store: any call
// panics (and the handler's recover logs it, which the test sees).
type untouched struct{ Store }

// run starts an App against fake until the test ends; o's tokens, API URL
// and logger are filled in.
func run(t *testing.T, fake *slackfake.Server, o Options) (*App, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	o.AppToken, o.BotToken, o.APIURL = "xapp-1-test", "xoxb-test", fake.APIURL()
	if o.Store == nil {
		o.Store = untouched{}
	}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if strings.Contains(logs.String(), "panicked") {
			t.Errorf("a handler panicked:\n%s", logs)
		}
	})
	return a, logs
}

func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// acked waits for envelope id's acknowledgement and checks it came within
// Slack's 3 seconds.
func acked(t *testing.T, fake *slackfake.Server, id string) slackfake.Envelope {
	t.Helper()
	e, err := fake.WaitAck(within(t, 10*time.Second), id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Late() {
		t.Fatalf("envelope %s acknowledged after %v", id, e.AckLatency)
	}
	return e
}

func TestHelpIsAnsweredPrivately(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	run(t, fake, Options{Editors: []string{"UEDITOR1"}})
	id := fake.SlashCommand("UREADER1", "desk", "/wirewatch", "help")
	acked(t, fake, id)
	e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Via != slackfake.ViaResponseURL || !strings.Contains(e.Text, "/wirewatch try QUERY") || !strings.Contains(e.Text, "<@UEDITOR1>") {
		t.Fatalf("help: %+v", e)
	}
	id = fake.SlashCommand("UEDITOR1", "desk", "/wirewatch", "")
	acked(t, fake, id)
	e, err = fake.WaitEphemeral(within(t, 10*time.Second), "UEDITOR1", 0, nil)
	if err != nil || !strings.Contains(e.Text, "You are an editor") {
		t.Fatalf("help for an editor: %+v %v", e, err)
	}
	if len(fake.Messages()) != 0 {
		t.Fatalf("help posted in the channel: %+v", fake.Messages())
	}
}

func TestNonEditorIsRefusedBeforeAnythingChanges(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	fake.AddUserGroup("SEDITORS", "UEDITOR2")
	run(t, fake, Options{Editors: []string{"UEDITOR1", "SEDITORS"}})
	for _, text := range []string{"new", "edit Floods", "mute Floods 1h", "unmute Floods", "retire Floods"} {
		after := fake.LastEphemeralSeq()
		acked(t, fake, fake.SlashCommand("UREADER1", "desk", "/wirewatch", text))
		e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", after, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.Text, "Only editors may") || !strings.Contains(e.Text, "<@UEDITOR1>") || !strings.Contains(e.Text, "user group SEDITORS") {
			t.Errorf("%s: %q", text, e.Text)
		}
		if strings.Contains(e.Text, "<!subteam") {
			t.Errorf("the refusal mentions the user group (it could notify it): %q", e.Text)
		}
	}
	if _, ok := fake.OpenModal("UREADER1"); ok {
		t.Fatal("a modal opened for a non-editor")
	}
	if n := fake.CallCount(slackfake.MethodUserGroupUsers); n != 1 {
		t.Fatalf("user group looked up %d times, want once (cached)", n)
	}
}

func TestTryRefusesABrokenQueryWithItsPosition(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	run(t, fake, Options{})
	acked(t, fake, fake.SlashCommand("UREADER1", "desk", "/wirewatch", `try strike AND "deep into Afghanistan`))
	e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Text, "does not compile: Column 12:") {
		t.Fatalf("answer: %q", e.Text)
	}
}

func TestForgedSubmissionIsRefusedInTheModal(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	run(t, fake, Options{Editors: []string{"UEDITOR1"}})
	for _, c := range []struct {
		meta   string
		fields map[string]any
		want   string
	}{
		{`{"v":1,"admin":true}`, nil, "changed outside Wirewatch"},
		{`not json`, nil, "changed outside Wirewatch"},
		{`{"v":1,"rule":"x"}`, nil, "changed outside Wirewatch"}, // a rule without its version
		{`{"v":1}`, map[string]any{"owner": map[string]any{"value": map[string]any{"type": "plain_text_input", "value": "U1"}}}, `field \"owner\"`},
	} {
		values := map[string]any{"query": map[string]any{"value": map[string]any{"type": "plain_text_input", "value": "strike"}}}
		for k, v := range c.fields {
			values[k] = v
		}
		id := fake.Interactive(map[string]any{
			"type": "view_submission",
			"user": map[string]any{"id": "UEDITOR1"},
			"view": map[string]any{"id": "V0000FORGED", "type": "modal", "callback_id": "ww.rule", "private_metadata": c.meta,
				"state": map[string]any{"values": values}},
		})
		e := acked(t, fake, id)
		if !strings.Contains(string(e.AckPayload), `"response_action":"errors"`) || !strings.Contains(string(e.AckPayload), c.want) {
			t.Errorf("metadata %s: ack %s", c.meta, e.AckPayload)
		}
	}
}

func TestReconnectsAfterDropsAndDisconnects(t *testing.T) {
	fake := slackfake.New(slackfake.WithPingEvery(200 * time.Millisecond))
	defer fake.Close()
	_, logs := run(t, fake, Options{})
	ctx := within(t, 20*time.Second)
	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.DropSockets()
	if err := fake.WaitOpened(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fake.Disconnect("refresh_requested", 100*time.Millisecond)
	if err := fake.WaitOpened(ctx, 3); err != nil {
		t.Fatal(err)
	}
	acked(t, fake, fake.SlashCommand("UREADER1", "desk", "/wirewatch", "help"))

	// A refused app token: Run keeps trying (with backoff) and says why.
	fake.RefuseConnections("invalid_auth")
	fake.DropSockets()
	for !strings.Contains(logs.String(), "cannot stay connected") {
		select {
		case <-ctx.Done():
			t.Fatalf("no error logged for a refused token:\n%s", logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	fake.RefuseConnections("")
	if err := fake.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	acked(t, fake, fake.SlashCommand("UREADER1", "desk", "/wirewatch", "help"))
	if strings.Contains(logs.String(), "xapp-1-test") {
		t.Fatal("the app token reached the log")
	}
}

func TestEveryEnvelopeIsAcknowledgedFast(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	run(t, fake, Options{Editors: []string{"UEDITOR1"}})
	var ids []string
	for i := range 30 {
		switch i % 3 {
		case 0:
			ids = append(ids, fake.SlashCommand("UREADER1", "desk", "/wirewatch", "help"))
		case 1:
			ids = append(ids, fake.Interactive(map[string]any{"type": "block_actions", "user": map[string]any{"id": "U1"},
				"actions": []any{map[string]any{"action_id": "ww.unknown", "type": "button"}}}))
		case 2:
			ids = append(ids, fake.Deliver(slackfake.EnvelopeEventsAPI, map[string]any{"type": "event_callback", "event": map[string]any{"type": "reaction_added"}}))
		}
	}
	var lat []time.Duration
	for _, id := range ids {
		lat = append(lat, acked(t, fake, id).AckLatency)
	}
	slices.Sort(lat)
	t.Logf("acknowledgement latency over %d envelopes: median %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)-1])
}
