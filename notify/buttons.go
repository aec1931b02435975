package notify

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// The buttons of an alert, when Wirewatch runs as a Slack app (an app-level
// token next to the bot token; see package slackapp, which handles the
// clicks):
//
//	[Open]  [Not relevant]  [Mute story]  [Mute rule… ▾ 1 hour | 6 hours | 24 hours | Until unmuted]
//
// The buttons carry the alert's id as their value, the menu in its block's
// id (AlertBlockPrefix + id). Once readers used them, the message shows
// what happened under the snippet, and the buttons that did it go:
//
//	🚫 Marked not relevant by @maria
//	🔇 Story muted by @omar: no more follow-ups
//	🔕 Rule Cross-border strikes muted until Tue 3 Jun 18:00 by @maria

// Action ids of an alert's buttons and menu.
const (
	ActionOpen        = "ww.open"
	ActionNotRelevant = "ww.not_relevant"
	ActionMuteStory   = "ww.mute_story"
	ActionMuteRule    = "ww.mute_rule"
	// AlertBlockPrefix + alert id is the block id of an alert's buttons.
	AlertBlockPrefix = "ww.alert:"
)

// MuteChoice is one option of the Mute rule menu.
type MuteChoice struct {
	Value, Label string
	For          time.Duration // 0: until unmuted
}

// MuteChoices are the options of the Mute rule menu, in order.
var MuteChoices = []MuteChoice{
	{"1h", "1 hour", time.Hour},
	{"6h", "6 hours", 6 * time.Hour},
	{"24h", "24 hours", 24 * time.Hour},
	{"forever", "Until unmuted", 0},
}

// AlertState is what readers did with an alert, shown under its message.
// User ids are Slack's (U…, W…).
type AlertState struct {
	NotRelevantBy string
	StoryMutedBy  string
	// RuleMutedBy is set while the alert's rule is muted, until
	// RuleMutedUntil (zero: until unmuted).
	RuleMutedBy    string
	RuleMutedUntil time.Time
}

// RenderInteractive is Render with the alert's buttons and its state.
// Ops alerts have neither.
func RenderInteractive(a store.Alert, st AlertState) (text string, blocks []slack.Block) {
	text, blocks = Render(a)
	if a.Kind == store.KindOps {
		return text, blocks
	}
	return text, interactive(a, st, blocks)
}

// interactive replaces the Open-only actions block of a rendered alert
// with the state lines and the buttons still useful.
func interactive(a store.Alert, st AlertState, blocks []slack.Block) []slack.Block {
	blocks = slices.DeleteFunc(blocks, func(b slack.Block) bool { return b.BlockType() == slack.MBTAction })
	var lines []string
	if st.NotRelevantBy != "" {
		lines = append(lines, ":no_entry_sign: Marked not relevant by "+mention(st.NotRelevantBy))
	}
	if st.StoryMutedBy != "" {
		lines = append(lines, ":mute: Story muted by "+mention(st.StoryMutedBy)+": no more follow-ups")
	}
	if st.RuleMutedBy != "" {
		until := "until unmuted"
		if !st.RuleMutedUntil.IsZero() {
			until = "until " + SlackDate(st.RuleMutedUntil)
		}
		lines = append(lines, ":no_bell: Rule *"+escTrunc(clean(a.Rule), 200)+"* muted "+until+" by "+mention(st.RuleMutedBy))
	}
	if len(lines) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(truncRunes(strings.Join(lines, "\n"), MaxContextText))))
	}
	var els []slack.BlockElement
	if u := SafeURL(a.Link); u != "" {
		btn := slack.NewButtonBlockElement(ActionOpen, "open", plain("Open", MaxButtonText))
		btn.URL = u
		els = append(els, btn)
	}
	if st.NotRelevantBy == "" {
		els = append(els, slack.NewButtonBlockElement(ActionNotRelevant, a.ID, plain("Not relevant", MaxButtonText)))
	}
	if st.StoryMutedBy == "" {
		els = append(els, slack.NewButtonBlockElement(ActionMuteStory, a.ID, plain("Mute story", MaxButtonText)))
	}
	if st.RuleMutedBy == "" {
		var opts []*slack.OptionBlockObject
		for _, c := range MuteChoices {
			opts = append(opts, slack.NewOptionBlockObject(c.Value, plain(c.Label, MaxButtonText), nil))
		}
		els = append(els, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Mute rule…", MaxButtonText), ActionMuteRule, opts...))
	}
	if len(els) > 0 {
		blocks = append(blocks, slack.NewActionBlock(AlertBlockPrefix+a.ID, els...))
	}
	return blocks
}

// mention is "<@U…>" for a Slack user id, or "someone" for anything else
// (so that no text can become a broadcast or a link).
func mention(user string) string {
	if len(user) < 3 || len(user) > 24 || (user[0] != 'U' && user[0] != 'W') {
		return "someone"
	}
	for _, r := range user[1:] {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "someone"
		}
	}
	return "<@" + user + ">"
}

// SlackDate formats t for Slack, which shows it in the reader's time zone
// (with a UTC fallback for clients that cannot).
func SlackDate(t time.Time) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_short_pretty} {time}|" + t.UTC().Format("2 Jan 2006 15:04 UTC") + ">"
}

// RenderStoryInteractive is RenderStory with the alert's buttons and state.
func RenderStoryInteractive(parent store.Alert, ls StoryLines, st AlertState) (text string, blocks []slack.Block) {
	text, blocks = Render(parent)
	text, blocks = withStoryLines(parent, ls, text, blocks)
	if parent.Kind == store.KindOps {
		return text, blocks
	}
	return text, interactive(parent, st, blocks)
}

// RenderMessage draws alert a's own message as it stands now: its buttons,
// what readers did with it (st) and, for a story's first alert, its story
// lines (the other rules its item matched, the outlets that reported the
// story so far, whether it is breaking). The Slack app updates a message
// with it after a click.
func (n *Notifier) RenderMessage(ctx context.Context, a store.Alert, st AlertState) (text string, blocks []slack.Block) {
	var ls StoryLines
	if a.Kind == store.KindItem && a.StoryID == a.ID {
		story, err := n.st.Alerts(ctx, store.AlertFilter{StoryID: a.ID, State: store.StateSent})
		if err != nil {
			n.log.Warn("reading a story's alerts failed; its message is drawn without its sources", "story", a.ID, "err", err)
		} else {
			ls = storyLines(a, story)
		}
	}
	return RenderStoryInteractive(a, ls, st)
}

// render draws a new alert's message: with its buttons when Wirewatch runs
// as a Slack app. also are the other alerts of the same item (other rules
// it matched in the channel), named in the message.
func (n *Notifier) render(a store.Alert, also ...store.Alert) (string, []slack.Block) {
	var ls StoryLines
	if rs := slices.DeleteFunc(rulesOf(also), func(r string) bool { return r == clean(a.Rule) }); len(rs) > 0 {
		ls.Also = alsoMatches(rs, true)
	}
	if n.o.Interactive {
		return RenderStoryInteractive(a, ls, AlertState{})
	}
	return RenderStory(a, ls)
}

// state reads what readers did with an alert (Options.States), or nothing.
func (n *Notifier) state(ctx context.Context, a store.Alert) AlertState {
	if n.o.States == nil {
		return AlertState{}
	}
	st, err := n.o.States.AlertState(ctx, a)
	if err != nil {
		n.log.Warn("reading what readers did with an alert failed", "alert", a.ID, "err", err)
	}
	return st
}

// StateOf is what readers did with alert a: its not-relevant mark (nil:
// none) and the mutes in force at now of its story and its rule.
func StateOf(a store.Alert, mark *store.Feedback, mutes []store.Mute, now time.Time) AlertState {
	var st AlertState
	if mark != nil {
		st.NotRelevantBy = mark.By
	}
	story := store.StoryOf(a)
	for _, m := range mutes {
		if !m.InForce(now) {
			continue
		}
		switch {
		case m.Kind == store.MuteStory && m.Target == story:
			st.StoryMutedBy = m.By
		case m.Kind == store.MuteRule && m.Target == a.Rule:
			st.RuleMutedBy, st.RuleMutedUntil = m.By, m.Until
		}
	}
	return st
}

// TruncRunes cuts s to at most n runes, ending with "…" when cut.
func TruncRunes(s string, n int) string { return truncRunes(s, n) }
