package slackapp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// The rules list and the desk's status, as /wirewatch rules, /wirewatch
// status and the Home tab show them.

// ruleRow is one rule in the list.
type ruleRow struct {
	Name     string
	Query    string
	Channels []string
	Config   bool // the operator's, from the config file: read-only here
	Version  int
	Author   string
	At       time.Time
	Stats    RuleStats
	Mute     *Mute
}

// rows gathers the config and store rules with their stats and mutes,
// config rules first, each group by name.
func (a *App) rows(ctx context.Context) ([]ruleRow, []Mute, error) {
	now := a.o.Now()
	ers, err := a.o.Store.EditorRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	stats, err := a.o.Store.RuleStats(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	mutes, err := a.o.Store.Mutes(ctx, now)
	if err != nil {
		return nil, nil, err
	}
	var out []ruleRow
	for _, c := range a.o.ConfigRules() {
		out = append(out, ruleRow{Name: c.Name, Query: c.Query, Channels: c.Channels, Config: true})
	}
	slices.SortFunc(out, func(x, y ruleRow) int { return strings.Compare(x.Name, y.Name) })
	n := len(out)
	for _, r := range ers {
		out = append(out, ruleRow{Name: r.Name, Query: r.Query, Channels: r.Channels, Version: r.Version, Author: r.Author, At: r.CreatedAt})
	}
	slices.SortFunc(out[n:], func(x, y ruleRow) int { return strings.Compare(x.Name, y.Name) })
	for i := range out {
		out[i].Stats = stats[out[i].Name]
		if len(out[i].Channels) == 0 {
			out[i].Channels = []string{a.o.DefaultChannel}
		}
		for _, m := range mutes {
			if m.Kind == MuteRule && m.Target == out[i].Name {
				mc := m
				out[i].Mute = &mc
			}
		}
	}
	return out, mutes, nil
}

// findRow finds a rule by name: exactly, else ignoring case if that names
// one rule.
func findRow(rows []ruleRow, name string) (ruleRow, bool) {
	var fold []ruleRow
	for _, r := range rows {
		if r.Name == name {
			return r, true
		}
		if strings.EqualFold(r.Name, name) {
			fold = append(fold, r)
		}
	}
	if len(fold) == 1 {
		return fold[0], true
	}
	return ruleRow{}, false
}

// rowText is one rule in mrkdwn.
func rowText(r ruleRow) string {
	var b strings.Builder
	b.WriteString("*" + esc(r.Name, MaxNameRunes) + "*")
	if r.Config {
		b.WriteString("  ·  _config file, read-only_")
	} else {
		fmt.Fprintf(&b, "  ·  version %d by <@%s>, %s", r.Version, r.Author, slackDate(r.At))
	}
	b.WriteString("\n`" + esc(strings.ReplaceAll(r.Query, "`", "'"), 300) + "`  →  " + esc(strings.Join(r.Channels, ", "), 200))
	s := r.Stats
	fmt.Fprintf(&b, "\nAlerts: %d in 24 h · %d in 7 days", s.Alerts24h, s.Alerts7d)
	if s.Alerts7d > 0 {
		fmt.Fprintf(&b, " · not relevant: %d of %d (%d%%)", s.NotRelevant7d, s.Alerts7d, (s.NotRelevant7d*100+s.Alerts7d/2)/s.Alerts7d)
	}
	if r.Mute != nil {
		fmt.Fprintf(&b, "\n:no_bell: Muted %s by <@%s>", muteSpan(*r.Mute), r.Mute.By)
	}
	return b.String()
}

// rowMenu is a rule's overflow menu for an editor.
func rowMenu(r ruleRow) *slack.OverflowBlockElement {
	opt := func(verb, label string) *slack.OptionBlockObject {
		return slack.NewOptionBlockObject(verb+"|"+r.Name, plain(label), nil)
	}
	var opts []*slack.OptionBlockObject
	if !r.Config {
		opts = append(opts, opt("edit", "Edit…"))
	}
	if r.Mute != nil {
		opts = append(opts, opt("unmute", "Unmute"))
	} else {
		opts = append(opts, opt("mute1h", "Mute for 1 hour"), opt("mute24h", "Mute for 24 hours"), opt("mute", "Mute until unmuted"))
	}
	if !r.Config {
		opts = append(opts, opt("retire", "Retire…"))
	}
	return slack.NewOverflowBlockElement(actionRuleMenu, opts...)
}

// listBlocks renders the rules list in at most maxBlocks blocks; editors
// get a menu per rule.
func listBlocks(rows []ruleRow, editor bool, maxBlocks int) []slack.Block {
	var out []slack.Block
	if len(rows) == 0 {
		return []slack.Block{section("No rules yet. `/wirewatch new` opens the rule editor.")}
	}
	for i, r := range rows {
		if len(out) >= maxBlocks-1 && i < len(rows) {
			out = append(out, contextText(fmt.Sprintf("… and %d more rules: see the app's Home tab.", len(rows)-i)))
			break
		}
		var acc *slack.Accessory
		if editor {
			acc = slack.NewAccessory(rowMenu(r))
		}
		out = append(out, slack.NewSectionBlock(mrkdwn(rowText(r)), nil, acc))
	}
	return out
}

// statusText renders /wirewatch status.
func statusText(st *DeskStatus, mutes []Mute) string {
	var b strings.Builder
	if st != nil {
		if len(st.Failing) == 0 {
			fmt.Fprintf(&b, "*Feeds:* %d, none failing.\n", st.Feeds)
		} else {
			fmt.Fprintf(&b, "*Feeds:* %d, %d failing:\n", st.Feeds, len(st.Failing))
			for i, f := range st.Failing {
				if i == 15 {
					fmt.Fprintf(&b, "• … and %d more (`wirewatch feeds` lists them all)\n", len(st.Failing)-i)
					break
				}
				fmt.Fprintf(&b, "• *%s*: failing since %s (%d polls): %s\n", esc(f.Name, 80), slackDate(f.Since), f.Streak, esc(f.LastError, 200))
			}
		}
		q := thousands(st.Queued)
		if st.Queued > 10000 {
			q = "more than 10,000"
		}
		fmt.Fprintf(&b, "*Queue:* %s alerts waiting for Slack.\n", q)
	}
	if len(mutes) == 0 {
		b.WriteString("*Mutes in force:* none.")
		return b.String()
	}
	b.WriteString("*Mutes in force:*")
	for i, m := range mutes {
		if i == 20 {
			fmt.Fprintf(&b, "\n• … and %d more", len(mutes)-i)
			break
		}
		if m.Kind == MuteRule {
			fmt.Fprintf(&b, "\n• rule *%s* %s, by <@%s>", esc(m.Target, 80), muteSpan(m), m.By)
		} else {
			fmt.Fprintf(&b, "\n• story “%s” in %s, by <@%s>", esc(m.Title, 120), esc(m.Channel, 80), m.By)
		}
	}
	return b.String()
}
