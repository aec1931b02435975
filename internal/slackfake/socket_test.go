package slackfake

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// socketClient runs slack-go's Socket Mode client against the fake until
// the test ends and returns it with a channel of the envelopes it received
// (hello, connection events and the like filtered out).
func socketClient(t *testing.T, s *Server, appToken string) (*socketmode.Client, <-chan socketmode.Event) {
	t.Helper()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(appToken),
		slack.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	c := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.RunContext(ctx)
	}()
	out := make(chan socketmode.Event, 64)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-c.Events:
				switch ev.Type {
				case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
					out <- ev
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c, out
}

func next(t *testing.T, evs <-chan socketmode.Event) socketmode.Event {
	t.Helper()
	select {
	case ev := <-evs:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no envelope reached the client")
	}
	return socketmode.Event{}
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnectionsOpenTakesOnlyAnAppToken(t *testing.T) {
	s := New(WithAppToken("xapp-1-good"))
	defer s.Close()
	for tok, want := range map[string]string{"xoxb-bot": "not_allowed_token_type", "xapp-1-bad": "invalid_auth"} {
		api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken(tok))
		if _, _, err := api.StartSocketModeContext(context.Background()); err == nil || err.Error() != want {
			t.Errorf("token %s: %v, want %s", tok, err, want)
		}
	}
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.APIURL()), slack.OptionAppLevelToken("xapp-1-good"))
	_, u, err := api.StartSocketModeContext(context.Background())
	if err != nil || !strings.HasPrefix(u, "ws://127.0.0.1:") || !strings.Contains(u, "ticket=") {
		t.Fatalf("open: %q %v", u, err)
	}
	// An app token is refused by the Web API methods, as Slack does.
	app := slack.New("xapp-1-good", slack.OptionAPIURL(s.APIURL()))
	if _, _, err := app.PostMessage("#desk", slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_allowed_token_type" {
		t.Fatalf("post with app token: %v", err)
	}
	// A ticket opens one socket only.
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
	if _, resp, err := websocket.DefaultDialer.Dial(u, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("second use of a ticket: %v", err)
	}
	c, evs := socketClient(t, s, "xapp-1-good")
	_ = c
	if err := s.WaitConnections(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	s.SlashCommand("U1", "desk", "/wirewatch", "help")
	if ev := next(t, evs); ev.Type != socketmode.EventTypeSlashCommand {
		t.Fatalf("got %v", ev.Type)
	}
}

func TestSlashCommandAckTextIsShownToTheUser(t *testing.T) {
	s := New()
	defer s.Close()
	c, evs := socketClient(t, s, "xapp-1")
	id := s.SlashCommand("U1", "desk", "/wirewatch", "status now")
	ev := next(t, evs)
	cmd, ok := ev.Data.(slack.SlashCommand)
	if !ok || cmd.Command != "/wirewatch" || cmd.Text != "status now" || cmd.UserID != "U1" ||
		cmd.ChannelID != s.ChannelID("desk") || cmd.TriggerID == "" || !strings.HasPrefix(cmd.ResponseURL, s.URL()) {
		t.Fatalf("command as received: %+v", ev.Data)
	}
	if ev.Request.EnvelopeID != id || !ev.Request.AcceptsResponsePayload {
		t.Fatalf("envelope %+v", ev.Request)
	}
	c.Ack(*ev.Request, map[string]any{"text": "All quiet."})
	e, err := s.WaitAck(waitCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if e.AckLatency <= 0 || e.AckLatency > AckDeadline || e.Late() || e.Acks != 1 {
		t.Fatalf("ack: %+v", e)
	}
	eph := s.Ephemerals("U1")
	if len(eph) != 1 || eph[0].Via != ViaAck || eph[0].Text != "All quiet." || eph[0].Envelope != id {
		t.Fatalf("ephemerals %+v", eph)
	}
	// A reply on the response_url is ephemeral too.
	if err := slack.PostWebhook(cmd.ResponseURL, &slack.WebhookMessage{Text: "Later answer"}); err != nil {
		t.Fatal(err)
	}
	if eph := s.Ephemerals("U1"); len(eph) != 2 || eph[1].Via != ViaResponseURL || eph[1].Text != "Later answer" {
		t.Fatalf("ephemerals %+v", eph)
	}
}

func alertBlocks() []slack.Block {
	open := slack.NewButtonBlockElement("open", "open", slack.NewTextBlockObject("plain_text", "Open", false, false))
	open.URL = "https://example.com/a"
	nr := slack.NewButtonBlockElement("not_relevant", "alert-1", slack.NewTextBlockObject("plain_text", "Not relevant", false, false))
	sel := slack.NewOptionsSelectBlockElement("static_select", slack.NewTextBlockObject("plain_text", "Mute rule…", false, false), "mute_rule",
		slack.NewOptionBlockObject("1h", slack.NewTextBlockObject("plain_text", "1 hour", false, false), nil),
		slack.NewOptionBlockObject("forever", slack.NewTextBlockObject("plain_text", "Until unmuted", false, false), nil))
	return []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*Headline*", false, false), nil, nil),
		slack.NewActionBlock("alert:alert-1", open, nr, sel),
	}
}

func TestClicksAndMenuChoicesArriveAsSlackSendsThem(t *testing.T) {
	s := New()
	defer s.Close()
	c, evs := socketClient(t, s, "xapp-1")
	api := client(s)
	ch, ts, err := api.PostMessage("#desk", slack.MsgOptionText("Headline", false), slack.MsgOptionBlocks(alertBlocks()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClickButton("U2", "desk", ts, "no_such_button"); err == nil {
		t.Fatal("clicked a button the message does not have")
	}
	id, err := s.ClickButton("U2", "desk", ts, "not_relevant")
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, evs)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != "U2" || cb.Channel.ID != ch || cb.Channel.Name != "desk" ||
		cb.Container.MessageTs != ts || cb.Message.Timestamp != ts || len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback %+v", cb)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "not_relevant" || a.Value != "alert-1" || a.BlockID != "alert:alert-1" || a.ActionTs == "" {
		t.Fatalf("action %+v", a)
	}
	if len(cb.Message.Blocks.BlockSet) != 2 {
		t.Fatalf("the click carries the message's blocks: %+v", cb.Message.Blocks)
	}
	c.Ack(*ev.Request)
	if _, err := s.WaitAck(waitCtx(t), id); err != nil {
		t.Fatal(err)
	}

	if _, err := s.ChooseOption("U2", ch, ts, "mute_rule", "2h"); err == nil {
		t.Fatal("chose an option the menu does not have")
	}
	if _, err := s.ChooseOption("U2", ch, ts, "mute_rule", "forever"); err != nil {
		t.Fatal(err)
	}
	ev = next(t, evs)
	a = ev.Data.(slack.InteractionCallback).ActionCallback.BlockActions[0]
	if a.Type != "static_select" || a.SelectedOption.Value != "forever" || a.SelectedOption.Text.Text != "Until unmuted" {
		t.Fatalf("menu choice %+v", a)
	}
	// The response_url can replace the original message.
	url := ev.Data.(slack.InteractionCallback).ResponseURL
	if err := slack.PostWebhook(url, &slack.WebhookMessage{Text: "muted", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message(ch, ts); m.Text != "muted" || m.Updates != 1 {
		t.Fatalf("message after replace_original: %+v", m)
	}
}

func modal(title string, blocks ...slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject("plain_text", title, false, false),
		Submit:          slack.NewTextBlockObject("plain_text", "Save", false, false),
		CallbackID:      "rule_edit",
		PrivateMetadata: `{"v":1}`,
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

func TestModalsOpenSubmitAndShowErrors(t *testing.T) {
	s := New()
	defer s.Close()
	c, evs := socketClient(t, s, "xapp-1")
	api := client(s)
	s.SlashCommand("U1", "desk", "/wirewatch", "new")
	ev := next(t, evs)
	cmd := ev.Data.(slack.SlashCommand)
	c.Ack(*ev.Request)
	name := slack.NewInputBlock("name", slack.NewTextBlockObject("plain_text", "Name", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "value"))
	v, err := api.OpenView(cmd.TriggerID, modal("New rule", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.OpenView(cmd.TriggerID, modal("Again", name)); err == nil || err.Error() != "trigger_exchanged" {
		t.Fatalf("a trigger_id opened two modals: %v", err)
	}
	open, ok := s.OpenModal("U1")
	if !ok || open.ID != v.ID || open.Title != "New rule" || open.PrivateMetadata != `{"v":1}` {
		t.Fatalf("open modal %+v", open)
	}

	id, err := s.SubmitView("U1", v.ID, map[string]string{"name": "Floods", "forged": "x"})
	if err != nil {
		t.Fatal(err)
	}
	ev = next(t, evs)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.ID != v.ID || cb.View.PrivateMetadata != `{"v":1}` ||
		cb.View.State.Values["name"]["value"].Value != "Floods" || cb.View.State.Values["forged"]["value"].Value != "x" {
		t.Fatalf("submission %+v", cb.View)
	}
	c.Ack(*ev.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"name": "taken"}))
	if _, err := s.WaitAck(waitCtx(t), id); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.View(v.ID); !got.Open || got.Errors["name"] != "taken" || got.Submissions != 1 {
		t.Fatalf("after errors: %+v", got)
	}
	id, _ = s.SubmitView("U1", v.ID, map[string]string{"name": "Floods 2"})
	ev = next(t, evs)
	c.Ack(*ev.Request)
	if _, err := s.WaitAck(waitCtx(t), id); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.View(v.ID); got.Open || got.Errors != nil {
		t.Fatalf("an empty ack closes the modal: %+v", got)
	}
	if _, ok := s.OpenModal("U1"); ok {
		t.Fatal("a modal is still open")
	}
}

func TestTriggerExpires(t *testing.T) {
	s := New(WithTriggerTTL(time.Millisecond))
	defer s.Close()
	trig := s.Trigger("U1")
	time.Sleep(5 * time.Millisecond) // the trigger's life is what is under test
	name := slack.NewInputBlock("name", slack.NewTextBlockObject("plain_text", "Name", false, false), nil, slack.NewPlainTextInputBlockElement(nil, "value"))
	if _, err := client(s).OpenView(trig, modal("New rule", name)); err == nil || err.Error() != "expired_trigger_id" {
		t.Fatalf("expired trigger: %v", err)
	}
}

func TestDroppedSocketReconnectsAndUnackedEnvelopesComeAgain(t *testing.T) {
	s := New(WithPingEvery(100 * time.Millisecond))
	defer s.Close()
	c, evs := socketClient(t, s, "xapp-1")
	ctx := waitCtx(t)
	if err := s.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	id := s.SlashCommand("U1", "desk", "/wirewatch", "status")
	ev := next(t, evs) // received but not acknowledged
	if ev.Request.RetryAttempt != 0 {
		t.Fatalf("first delivery has retry_attempt %d", ev.Request.RetryAttempt)
	}
	s.DropSockets()
	if err := s.WaitOpened(ctx, 2); err != nil {
		t.Fatal(err)
	}
	ev = next(t, evs)
	if ev.Request.EnvelopeID != id || ev.Request.RetryAttempt != 1 || ev.Request.RetryReason != "timeout" {
		t.Fatalf("redelivery %+v", ev.Request)
	}
	c.Ack(*ev.Request)
	e, err := s.WaitAck(ctx, id)
	if err != nil || e.Deliveries != 2 || e.Conn != 2 {
		t.Fatalf("envelope %+v %v", e, err)
	}

	// Slack asks for a reconnect with a disconnect message.
	s.Disconnect("refresh_requested", 50*time.Millisecond)
	if err := s.WaitOpened(ctx, 3); err != nil {
		t.Fatal(err)
	}
	// An explicit redelivery of an acknowledged envelope, as Slack does
	// when an acknowledgement was lost.
	s.Redeliver(id, "")
	ev = next(t, evs)
	if ev.Request.EnvelopeID != id || ev.Request.RetryAttempt != 2 {
		t.Fatalf("redelivery %+v", ev.Request)
	}
}

func TestEnvelopesWaitForAConnection(t *testing.T) {
	s := New()
	defer s.Close()
	id := s.OpenHome("U7")
	_, evs := socketClient(t, s, "xapp-1")
	ev := next(t, evs)
	api, ok := ev.Data.(slackevents.EventsAPIEvent)
	if !ok || ev.Request.EnvelopeID != id || ev.Request.AcceptsResponsePayload {
		t.Fatalf("event %+v", ev)
	}
	home, ok := api.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || home.User != "U7" || home.Tab != "home" {
		t.Fatalf("inner event %+v", api.InnerEvent.Data)
	}
	hv := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "Rules", false, false), nil,
			slack.NewAccessory(slack.NewButtonBlockElement("new_rule", "", slack.NewTextBlockObject("plain_text", "New rule", false, false)))),
	}}}
	if _, err := client(s).PublishView("U7", hv, ""); err != nil {
		t.Fatal(err)
	}
	v, ok := s.HomeView("U7")
	if !ok || v.Type != "home" || !strings.Contains(v.Text(), "Rules") || s.Publishes("U7") != 1 {
		t.Fatalf("home %+v", v)
	}
	if _, err := s.ClickInView("U7", v.ID, "new_rule", ""); err != nil {
		t.Fatal(err)
	}
	ev = next(t, evs)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.View.ID != v.ID || cb.ActionCallback.BlockActions[0].ActionID != "new_rule" || cb.TriggerID == "" {
		t.Fatalf("click in home %+v", cb)
	}
}

func TestEphemeralsAndUserGroups(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddUserGroup("S1", "U1", "U2")
	api := client(s)
	users, err := api.GetUserGroupMembers("S1")
	if err != nil || strings.Join(users, ",") != "U1,U2" {
		t.Fatalf("members %v %v", users, err)
	}
	if _, err := api.GetUserGroupMembers("S9"); err == nil || err.Error() != "no_such_subteam" {
		t.Fatalf("unknown group: %v", err)
	}
	if _, err := api.PostEphemeral("C00000001", "U1", slack.MsgOptionText("only you", false)); err != nil {
		t.Fatal(err)
	}
	e := s.Ephemerals("U1")
	if len(e) != 1 || e[0].Text != "only you" || e[0].Via != MethodPostEphemeral {
		t.Fatalf("ephemerals %+v", e)
	}
}
