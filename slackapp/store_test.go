package slackapp

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// With the real store (SQLite): the Home tab, the rules list's menus,
// clicks that do not belong to their message, and the status.

var logsOf func(*testing.T) string

func withStore(t *testing.T, fake *slackfake.Server) (store.Store, *App) {
	st, a, _ := withStoreLogs(t, fake)
	return st, a
}

func withStoreLogs(t *testing.T, fake *slackfake.Server) (store.Store, *App, *lockedBuffer) {
	t.Helper()
	st := storetest.OpenSQLite(t)
	a, logs := run(t, fake, Options{
		Store:   st,
		Editors: []string{"UEDITOR1"},
		ConfigRules: func() []ConfigRule {
			return []ConfigRule{{Name: "Strikes", Query: "strike*", Channels: []string{"#desk"}}}
		},
		Render: func(_ context.Context, a store.Alert, s notify.AlertState) (string, []slack.Block) {
			return notify.RenderInteractive(a, s)
		},
	})
	return st, a, logs
}

func saveRule(t *testing.T, st store.Store, name, query string) {
	t.Helper()
	now := time.Now()
	if _, err := st.SaveEditorRule(context.Background(), store.EditorRule{Name: name, Query: query, Author: "UEDITOR1", CreatedAt: now}, 0,
		store.Action{Key: "seed:" + name, User: "UEDITOR1", At: now, Action: ActSaveRule, Target: name}); err != nil {
		t.Fatal(err)
	}
}

func TestHomeTabListsAndChangesRules(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st, _ := withStore(t, fake)
	saveRule(t, st, "Floods", "flood* AND Sindh")
	ctx := within(t, 10*time.Second)

	acked(t, fake, fake.OpenHome("UREADER1"))
	v, err := fake.WaitHome(ctx, "UREADER1", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	txt := v.Text()
	if !strings.Contains(txt, "Strikes") || !strings.Contains(txt, "config file, read-only") || !strings.Contains(txt, "Floods") ||
		strings.Contains(string(v.Raw), actionNewRule) || strings.Contains(string(v.Raw), actionRuleMenu) {
		t.Fatalf("a reader's Home tab: %s", txt)
	}

	acked(t, fake, fake.OpenHome("UEDITOR1"))
	v, err = fake.WaitHome(ctx, "UEDITOR1", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v.Raw), actionNewRule) || !strings.Contains(string(v.Raw), `"value":"retire|Floods"`) || strings.Contains(string(v.Raw), `"value":"retire|Strikes"`) {
		t.Fatalf("an editor's Home tab: %s", v.Raw)
	}
	// Mute from the Home tab: the tab is published again with what happened.
	id, err := fake.ClickInView("UEDITOR1", v.ID, actionRuleMenu, "mute1h|Strikes")
	if err != nil {
		t.Fatal(err)
	}
	acked(t, fake, id)
	v, err = fake.WaitHome(ctx, "UEDITOR1", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.Text(), "Rule *Strikes* is muted until") || !strings.Contains(v.Text(), "Muted until") {
		t.Fatalf("after muting from Home: %s", v.Text())
	}
	if ms, _ := st.Mutes(context.Background(), time.Now()); len(ms) != 1 || ms[0].Target != "Strikes" || ms[0].By != "UEDITOR1" {
		t.Fatalf("mutes: %+v", ms)
	}
	// The same choice again in the same (old) tab is the same effect.
	id, _ = fake.ClickInView("UEDITOR1", v.ID, actionRuleMenu, "retire|Floods")
	acked(t, fake, id)
	v, err = fake.WaitHome(ctx, "UEDITOR1", 3, nil)
	if err != nil || !strings.Contains(v.Text(), "is retired") {
		t.Fatalf("retire from Home: %v %s", err, v.Text())
	}
	if rs, _ := st.EditorRules(context.Background()); len(rs) != 0 {
		t.Fatalf("rules after retiring: %+v", rs)
	}
}

func TestRulesListMenuInTheCommandAnswer(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st, _ := withStore(t, fake)
	saveRule(t, st, "Floods", "flood* AND Sindh")
	id := fake.SlashCommand("UEDITOR1", "desk", "/wirewatch", "rules")
	acked(t, fake, id)
	e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UEDITOR1", 0, func(e slackfake.Ephemeral) bool { return e.Envelope == id })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.All(), "2 rules") || !strings.Contains(e.All(), "version 1 by <@UEDITOR1>") {
		t.Fatalf("rules: %s", e.All())
	}
	id, err = fake.ClickInEphemeral("UEDITOR1", e.Seq, actionRuleMenu, "mute|Floods")
	if err != nil {
		t.Fatal(err)
	}
	acked(t, fake, id)
	e, err = fake.WaitEphemeral(within(t, 10*time.Second), "UEDITOR1", e.Seq, nil)
	if err != nil || !strings.Contains(e.Text, "Rule *Floods* is muted until unmuted") {
		t.Fatalf("after the menu: %+v %v", e, err)
	}
	// Status shows it.
	id = fake.SlashCommand("UREADER1", "desk", "/wirewatch", "status")
	acked(t, fake, id)
	e, err = fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", 0, func(e slackfake.Ephemeral) bool { return e.Envelope == id })
	if err != nil || !strings.Contains(e.Text, "rule *Floods* until unmuted, by <@UEDITOR1>") {
		t.Fatalf("status: %+v %v", e, err)
	}
}

func TestClicksOnOtherMessagesAreRefused(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st, _, logs := withStoreLogs(t, fake)
	logsOf = func(*testing.T) string { return logs.String() }
	ctx := context.Background()
	now := time.Now()
	a := store.Alert{ID: store.AlertID("dawn", "i1", "Strikes", "#desk"), Kind: store.KindItem, Channel: "#desk", FeedKey: "dawn", ItemID: "i1",
		Rule: "Strikes", Title: "Strike warning", Link: "https://example.org/1", CreatedAt: now, NextAttempt: now}
	if _, err := st.Enqueue(ctx, []store.Alert{a}); err != nil {
		t.Fatal(err)
	}
	api := slack.New("xoxb-test", slack.OptionAPIURL(fake.APIURL()))
	text, blocks := notify.RenderInteractive(a, notify.AlertState{})
	_, ts, err := api.PostMessage("#desk", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSent(ctx, a.ID, ts, now); err != nil {
		t.Fatal(err)
	}
	// The same buttons copied into another message, in another channel.
	_, other, _ := api.PostMessage("#elsewhere", slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	id, err := fake.ClickButton("UREADER1", "elsewhere", other, notify.ActionNotRelevant)
	if err != nil {
		t.Fatal(err)
	}
	acked(t, fake, id)
	e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", 0, nil)
	if err != nil || !strings.Contains(e.Text, "does not belong to a Wirewatch alert in this channel") {
		t.Fatalf("click elsewhere: %+v %v", e, err)
	}
	// A forged alert id.
	after := fake.LastEphemeralSeq()
	acked(t, fake, fake.Interactive(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": "UREADER1"}, "response_url": "",
		"container": map[string]any{"type": "message", "message_ts": ts, "channel_id": fake.ChannelID("desk")},
		"channel":   map[string]any{"id": fake.ChannelID("desk"), "name": "desk"},
		"actions":   []any{map[string]any{"action_id": notify.ActionNotRelevant, "block_id": "x", "type": "button", "value": "'; DROP TABLE feedback; --"}},
	}))
	e, err = fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", after, nil)
	if err != nil || !strings.Contains(e.Text, "does not belong") {
		t.Fatalf("forged id: %+v %v\n%s", e, err, logsOf(t))
	}
	if _, err := st.FeedbackFor(ctx, a.ID); err == nil {
		t.Fatal("a refused click recorded feedback")
	}
	// A reader may not mute the rule from the menu.
	after = fake.LastEphemeralSeq()
	id, _ = fake.ChooseOption("UREADER1", "desk", ts, notify.ActionMuteRule, "1h")
	acked(t, fake, id)
	if e, err := fake.WaitEphemeral(within(t, 10*time.Second), "UREADER1", after, nil); err != nil || !strings.HasPrefix(e.Text, "Only editors may mute rules") {
		t.Fatalf("reader's mute: %+v %v", e, err)
	}
	if ms, _ := st.Mutes(ctx, time.Now()); len(ms) != 0 {
		t.Fatalf("mutes: %+v", ms)
	}
	// The real click works, and its message shows it.
	id, _ = fake.ClickButton("UREADER1", "desk", ts, notify.ActionNotRelevant)
	acked(t, fake, id)
	if err := fake.WaitFor(within(t, 10*time.Second), func([]slackfake.Message) bool {
		m, _ := fake.Message("desk", ts)
		return m.Updates == 1
	}); err != nil {
		t.Fatal(err)
	}
	if f, err := st.FeedbackFor(ctx, a.ID); err != nil || f.By != "UREADER1" || f.Rule != "Strikes" {
		t.Fatalf("feedback %+v %v", f, err)
	}
}
