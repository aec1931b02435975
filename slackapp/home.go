package slackapp

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// The App Home tab: the rules with their numbers and, for editors, a menu
// per rule (edit, mute, unmute, retire) and a New rule button; then the
// desk's status. It is published when someone opens the tab
// (app_home_opened) and again after they change something from it.

const homeBlocks = 100 // Slack's limit for a Home tab

func (a *App) publishHome(ctx context.Context, user, notice string) {
	rows, mutes, err := a.rows(ctx)
	if err != nil {
		a.log.Error("slack: Home tab: reading rules", "err", err)
		rows, mutes = nil, nil
		notice = "Wirewatch cannot reach its database right now; this page will fill in when it can."
	}
	editor, _ := a.authz().isEditor(ctx, user)
	var blocks []slack.Block
	blocks = append(blocks, slack.NewHeaderBlock(plain("Wirewatch: the desk's rules")))
	if notice != "" {
		blocks = append(blocks, section(notice))
	}
	who := "You can mark alerts *Not relevant* and mute stories. Editors (" + a.authz().editorsText() + ") change rules."
	btns := []slack.BlockElement{button(actionRefresh, "", "Refresh")}
	if editor {
		who = "You are an editor: create, edit, mute and retire rules here or with `" + a.o.Command + "`."
		nb := button(actionNewRule, "", "New rule")
		nb.Style = slack.StylePrimary
		btns = append([]slack.BlockElement{nb}, btns...)
	}
	blocks = append(blocks, contextText(who), slack.NewActionBlock("", btns...), slack.NewDividerBlock())
	blocks = append(blocks, listBlocks(rows, editor, homeBlocks-len(blocks)-4)...)
	var st *DeskStatus
	if a.o.Status != nil && err == nil {
		if s, err := a.o.Status.DeskStatus(ctx, a.o.Now()); err == nil {
			st = &s
		}
	}
	blocks = append(blocks, slack.NewDividerBlock(), section(truncate(statusText(st, mutes), 3000)),
		contextText("Updated "+slackDate(a.o.Now())))
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
	if _, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		a.log.Warn("slack: cannot publish the Home tab", "user", user, "err", err)
	}
}

// ruleMenu handles a choice in a rule's menu ("verb|rule name") in a
// command's answer or the Home tab (which is then published again with
// what happened).
func (a *App) ruleMenu(ctx context.Context, cb slack.InteractionCallback, act *slack.BlockAction, to replyTo) {
	verb, name, ok := strings.Cut(act.SelectedOption.Value, "|")
	if !ok || name == "" || len(name) > 4*MaxNameRunes {
		a.say(ctx, to, "That is not one of the menu's choices; nothing was changed.")
		return
	}
	fromHome := cb.Container.Type == "view" && cb.View.Type == slack.VTHomeTab
	var notice string
	if fromHome {
		to = replyTo{user: to.user, notice: &notice}
	}
	defer func() {
		if fromHome {
			a.publishHome(ctx, cb.User.ID, notice)
		}
	}()
	if !a.mayEdit(ctx, to, "change rules") {
		return
	}
	// The same choice in the same menu is one effect, however often it
	// is clicked: the menu is known by its message, or by the Home tab's
	// version (its hash changes every time it is published).
	key := "menu:" + cb.User.ID + ":" + act.SelectedOption.Value + ":" + containerID(cb)
	switch verb {
	case "edit":
		a.openRuleForm(ctx, cb.TriggerID, cb.User.ID, name, to)
	case "mute1h", "mute24h", "mute":
		d := map[string]time.Duration{"mute1h": time.Hour, "mute24h": 24 * time.Hour, "mute": 0}[verb]
		if row, ok := a.findRule(ctx, to, name); ok {
			if m, done := a.muteRule(ctx, to, row.Name, d, key); done == muted {
				a.say(ctx, to, muteDone(m))
			}
		}
	case "unmute":
		a.unmute(ctx, to, name, key)
	case "retire":
		a.retire(ctx, to, name, key)
	default:
		a.say(ctx, to, "That is not one of the menu's choices; nothing was changed.")
	}
}

// containerID names the surface a click happened on, for its audit key.
func containerID(cb slack.InteractionCallback) string {
	if cb.Container.Type == "view" {
		return cb.View.ID + "@" + cb.View.Hash
	}
	return cb.Container.ChannelID + "/" + cb.Container.MessageTs
}
