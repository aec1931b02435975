package slackapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store"
)

// Action ids of the rules list (command answers, the Home tab, modals).
// An alert's buttons are notify's (notify.ActionNotRelevant, ...): the
// notifier draws them, the app handles their clicks.
const (
	actionNewRule  = "ww.new_rule"
	actionRuleMenu = "ww.rule_menu" // overflow; value "verb|rule name"
	actionEditRule = "ww.edit_rule" // value: rule name
	actionRefresh  = "ww.refresh"
)

// interaction handles a block_actions payload (a click or menu choice),
// after its acknowledgement.
func (a *App) interaction(ctx context.Context, cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	to := replyTo{user: cb.User.ID, responseURL: cb.ResponseURL}
	if to.responseURL == "" && cb.Container.Type == "message" {
		to.channel = cb.Container.ChannelID
	}
	if to.responseURL == "" && to.channel == "" {
		to.triggerID = cb.TriggerID
	}
	switch act.ActionID {
	case notify.ActionOpen:
	case notify.ActionNotRelevant:
		a.notRelevant(ctx, cb, act, to)
	case notify.ActionMuteStory:
		a.muteStory(ctx, cb, act, to)
	case notify.ActionMuteRule:
		a.muteRuleOfAlert(ctx, cb, act, to)
	case actionNewRule:
		if a.mayEdit(ctx, to, "create rules") {
			a.openRuleForm(ctx, cb.TriggerID, cb.User.ID, "", to)
		}
	case actionEditRule:
		if a.mayEdit(ctx, to, "edit rules") {
			a.editFromView(ctx, cb, act.Value, to)
		}
	case actionRuleMenu:
		a.ruleMenu(ctx, cb, act, to)
	case actionRefresh:
		a.publishHome(ctx, cb.User.ID, "")
	default:
		a.log.Debug("slack: unknown action", "action_id", truncate(act.ActionID, 60))
	}
}

// clickedAlert returns the alert a message button is about, after checking
// that the button really is on that alert's message: its value is an
// alert id, the alert exists, and it was posted as this message in this
// channel. refusal is what to tell the user otherwise.
func (a *App) clickedAlert(ctx context.Context, cb slack.InteractionCallback, value string) (al store.Alert, refusal string) {
	const notOurs = "This button does not belong to a Wirewatch alert in this channel; nothing was changed."
	if !isAlertID(value) || cb.Container.Type != "message" || cb.Container.MessageTs == "" {
		a.log.Warn("slack: click with a malformed alert id refused", "user", cb.User.ID)
		return al, notOurs
	}
	al, err := a.alertPosted(ctx, value)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return al, "Wirewatch no longer keeps this alert (alerts are kept for the [store] retention period), so nothing was changed."
	case err != nil:
		a.log.Error("slack: reading an alert", "alert", value, "err", err)
		return al, unavailable
	}
	channelID := cb.Container.ChannelID
	if channelID == "" {
		channelID = cb.Channel.ID
	}
	if al.Kind != store.KindItem || al.SlackTS != cb.Container.MessageTs || !sameChannel(al.Channel, channelID, cb.Channel.Name) {
		a.log.Warn("slack: click on an alert from another message refused", "user", cb.User.ID, "alert", al.ID, "channel", channelID)
		return al, notOurs
	}
	return al, ""
}

// alertPosted reads alert id. A click can come before the notifier has
// recorded that Slack accepted the message (its ts): an alert still being
// sent is read again for a few seconds.
func (a *App) alertPosted(ctx context.Context, id string) (store.Alert, error) {
	deadline := time.Now().Add(postedWait)
	for {
		al, err := a.o.Store.Alert(ctx, id)
		if err != nil || al.SlackTS != "" || al.State == store.StateFailed || time.Now().After(deadline) {
			return al, err
		}
		select {
		case <-ctx.Done():
			return al, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// postedWait is how long a click waits for its alert's post to be recorded.
const postedWait = 5 * time.Second

// unavailable is the answer when the store cannot be reached.
const unavailable = "Wirewatch cannot reach its database right now; nothing was changed. Try again in a minute."

// sameChannel says whether an alert's channel (an id or a name, as
// configured) is the clicked message's channel (id and name).
func sameChannel(configured, id, name string) bool {
	c := strings.TrimPrefix(strings.TrimSpace(configured), "#")
	return c != "" && (c == id || c == name)
}

func (a *App) notRelevant(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, to replyTo) {
	al, refusal := a.clickedAlert(ctx, cb, act.Value)
	if refusal != "" {
		a.say(ctx, to, refusal)
		return
	}
	now := a.o.Now()
	f := Feedback{AlertID: al.ID, Rule: al.Rule, FeedKey: al.FeedKey, ItemID: al.ItemID, Title: al.Title, Text: al.Snippet, Link: al.Link, By: cb.User.ID, At: now}
	err := a.o.Store.AddFeedback(ctx, f, Action{Key: "not_relevant:" + al.ID, User: cb.User.ID, At: now, Action: ActNotRelevant, Target: al.Rule, Details: truncate(al.Title, 200)})
	switch {
	case errors.Is(err, ErrDuplicate):
		if prev, err := a.o.Store.FeedbackFor(ctx, al.ID); err == nil && prev.By != cb.User.ID {
			a.say(ctx, to, fmt.Sprintf("<@%s> already marked this not relevant.", prev.By))
		}
	case err != nil:
		a.log.Error("slack: recording not relevant", "alert", al.ID, "err", err)
		a.say(ctx, to, unavailable)
		return
	default:
		a.log.Info("slack: alert marked not relevant", "alert", al.ID, "rule", al.Rule, "user", cb.User.ID)
	}
	a.updateAlertMessage(ctx, al, cb)
}

func (a *App) muteStory(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, to replyTo) {
	al, refusal := a.clickedAlert(ctx, cb, act.Value)
	if refusal != "" {
		a.say(ctx, to, refusal)
		return
	}
	story := store.StoryOf(al)
	now := a.o.Now()
	m := Mute{Kind: MuteStory, Target: story, Channel: al.Channel, Forever: true, By: cb.User.ID, At: now, Title: truncate(al.Title, 200)}
	err := a.o.Store.Mute(ctx, m, Action{Key: "mute_story:" + story, User: cb.User.ID, At: now, Action: ActMuteStory, Target: story, Details: truncate(al.Title, 200)})
	switch {
	case errors.Is(err, ErrDuplicate):
	case err != nil:
		a.log.Error("slack: muting a story", "story", story, "err", err)
		a.say(ctx, to, unavailable)
		return
	default:
		a.log.Info("slack: story muted", "story", story, "user", cb.User.ID)
		a.changed()
	}
	a.updateAlertMessage(ctx, al, cb)
}

func (a *App) muteRuleOfAlert(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, to replyTo) {
	value := ""
	if strings.HasPrefix(act.BlockID, notify.AlertBlockPrefix) {
		value = strings.TrimPrefix(act.BlockID, notify.AlertBlockPrefix)
	}
	al, refusal := a.clickedAlert(ctx, cb, value)
	if refusal != "" {
		a.say(ctx, to, refusal)
		return
	}
	if !a.mayEdit(ctx, to, "mute rules") {
		return
	}
	choice := act.SelectedOption.Value
	var d time.Duration
	found := false
	for _, c := range notify.MuteChoices {
		if c.Value == choice {
			d, found = c.For, true
		}
	}
	if !found {
		a.say(ctx, to, "That is not one of the Mute rule choices; nothing was changed.")
		return
	}
	key := "mute_rule:" + cb.Container.ChannelID + ":" + cb.Container.MessageTs + ":" + choice
	m, done := a.muteRule(ctx, to, al.Rule, d, key)
	if done == failed {
		return
	}
	a.updateAlertMessage(ctx, al, cb)
	if done == muted {
		a.say(ctx, to, muteDone(m))
	} else if st, err := a.alertState(ctx, al); err == nil && st.RuleMutedBy == "" {
		// This choice on this message was used before, and the rule was
		// unmuted since: say how to mute it again.
		a.say(ctx, to, fmt.Sprintf("This message's *Mute rule* choice was used before. To mute *%s* again: `%s mute %s %s`", esc(al.Rule, 80), a.o.Command, esc(al.Rule, 80), choice))
	}
}

// outcome is what a mute did.
type outcome int

const (
	failed    outcome = iota // the user was told why
	muted                    // a new effect
	duplicate                // recorded before (a redelivery or double click): nothing changed
)

// muteRule mutes rule for d (0: until unmuted) under the audit key.
func (a *App) muteRule(ctx context.Context, to replyTo, rule string, d time.Duration, key string) (Mute, outcome) {
	now := a.o.Now()
	m := Mute{Kind: MuteRule, Target: rule, Forever: d == 0, By: to.user, At: now}
	details := "until unmuted"
	if d > 0 {
		m.Until = now.Add(d)
		details = "for " + d.String() + ", until " + m.Until.UTC().Format(time.RFC3339)
	}
	err := a.o.Store.Mute(ctx, m, Action{Key: key, User: to.user, At: now, Action: ActMuteRule, Target: rule, Details: details})
	switch {
	case errors.Is(err, ErrDuplicate):
		return m, duplicate
	case err != nil:
		a.log.Error("slack: muting a rule", "rule", rule, "err", err)
		a.say(ctx, to, unavailable)
		return m, failed
	}
	a.log.Info("slack: rule muted", "rule", rule, "user", to.user, "mute", details)
	a.changed()
	return m, muted
}

// muteDone tells an editor what a rule mute does and how to undo it.
func muteDone(m Mute) string {
	return fmt.Sprintf("Rule *%s* is muted %s: no alerts of it from any Wirewatch process within seconds (items are still recorded). Undo: `/wirewatch unmute %s`",
		esc(m.Target, 80), muteSpan(m), esc(m.Target, 80))
}

// muteSpan is "until unmuted" or "until <date>" (shown in the reader's time zone).
func muteSpan(m Mute) string {
	if m.Forever || m.Until.IsZero() {
		return "until unmuted"
	}
	return "until " + slackDate(m.Until)
}

// slackDate formats t for Slack, which shows it in the reader's time zone.
func slackDate(t time.Time) string { return notify.SlackDate(t) }

// alertState reads what happened to an alert, to show it under its message.
func (a *App) alertState(ctx context.Context, al store.Alert) (notify.AlertState, error) {
	var mark *Feedback
	f, err := a.o.Store.FeedbackFor(ctx, al.ID)
	switch {
	case err == nil:
		mark = &f
	case !errors.Is(err, store.ErrNotFound):
		return notify.AlertState{}, err
	}
	now := a.o.Now()
	mutes, err := a.o.Store.Mutes(ctx, now)
	if err != nil {
		return notify.AlertState{}, err
	}
	return notify.StateOf(al, mark, mutes, now), nil
}

// updateAlertMessage redraws a clicked alert's message with its state
// ("Marked not relevant by @x") and the buttons still useful.
func (a *App) updateAlertMessage(ctx context.Context, al store.Alert, cb slack.InteractionCallback) {
	if a.o.Render == nil {
		return
	}
	st, err := a.alertState(ctx, al)
	if err != nil {
		a.log.Error("slack: reading an alert's state", "alert", al.ID, "err", err)
		return
	}
	text, blocks := a.o.Render(ctx, al, st)
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	if _, _, _, err := a.api.UpdateMessageContext(ctx, channel, cb.Container.MessageTs,
		slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		a.log.Warn("slack: cannot update the alert's message", "alert", al.ID, "err", err)
	}
}
