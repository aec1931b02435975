package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// Story follow-ups. The monitor queues the first alert of a story in a
// channel as an ordinary alert (StoryID == ID) and later reports of the
// same story as follow-ups (StoryID = the parent's ID). A follow-up is
// delivered when its turn comes in the channel's order, by its parent's
// state then:
//
//	parent sent with a Slack ts  reply in the parent's thread, then update
//	                             the parent message with the sources so far
//	parent sent without a ts     suppressed (webhook or stdout: no threads),
//	(or no threads at all)       marked sent with ts "" and logged
//	parent failed or unknown     posted as an ordinary top-level alert
//	parent queued or sending     wait (it was queued earlier in the same
//	                             channel, so this is short), holding the
//	                             channel so its order stays; after
//	                             parentWaitMax, posted top-level
//
// A follow-up never joins a burst group or a cap summary.

// parentWait is how long a follow-up waits before looking at its parent
// again; parentWaitMax is how long after its creation it stops waiting.
const (
	parentWait    = 5 * time.Second
	parentWaitMax = 10 * time.Minute
	// parentMissingMax is how long a follow-up waits for a parent the store
	// does not have yet: two feeds polled at once can commit a follow-up
	// just before the poll that opened its story.
	parentMissingMax = time.Minute
)

// isFollowUp reports whether a is a later report of a story opened by
// another alert.
func isFollowUp(a store.Alert) bool {
	return a.Kind == store.KindItem && a.StoryID != "" && a.StoryID != a.ID
}

type fuAction int

const (
	fuTop      fuAction = iota // post as an ordinary alert
	fuReply                    // post in the parent's thread
	fuSuppress                 // mark sent without posting
	fuWait                     // look again shortly
)

// storyStage sends a story follow-up the way its parent's state allows
// (see resolveFollowUp): as a reply in the parent's thread (the parent is
// updated once the reply is posted), as an ordinary alert, suppressed, or
// not yet, holding the channel. A follow-up that makes its story breaking
// queues the story's escalation message first (breaking.go). Other
// messages pass.
func (n *Notifier) storyStage(d *delivery, m *message) next {
	if !m.followUp {
		return proceed
	}
	act, parent, story, err := n.resolveFollowUp(d.ctx, d.ch, m, d.later())
	if err == nil && parent != nil && act != fuWait {
		err = n.breaking(d.ctx, d.ch, m, *parent, story)
	}
	switch {
	case err != nil:
		n.log.Warn("looking up a story's parent alert failed; will retry", "channel", d.ch, "alert", m.ids[0], "err", err)
		d.hold = holdInfo{until: n.retry(d.ctx, d.ch, m.alerts, false, "story parent: "+err.Error(), 0), backoff: true}
		return stop
	case act == fuWait:
		d.hold = holdInfo{until: n.retry(d.ctx, d.ch, m.alerts, false, "waiting for the story's first alert to be posted", parentWait)}
		return stop
	case act == fuSuppress:
		if err := n.suppress(d.ctx, d.ch, m, parent, story); err != nil {
			return stop
		}
		n.o.Metrics.StoryFollowUp(metrics.FollowUpSuppressed)
		return done
	case act == fuReply:
		m.parent = parent
	}
	return proceed
}

// resolveFollowUp decides how follow-up m goes out now and renders it
// accordingly. later are the messages after m in this batch. For fuReply
// and fuSuppress it returns the parent (to update once the reply is
// posted) and the story's delivered alerts.
func (n *Notifier) resolveFollowUp(ctx context.Context, ch string, m *message, later []*message) (fuAction, *store.Alert, []store.Alert, error) {
	a := m.alerts[0]
	top := func(why string) (fuAction, *store.Alert, []store.Alert, error) {
		n.log.Info("story follow-up posted as an ordinary alert", "channel", ch, "alert", a.ID, "story", a.StoryID, "reason", why)
		m.text, m.blocks = n.render(a, m.alerts[1:]...)
		_, stdout := n.tr.(*stdoutTransport)
		m.capped = !stdout // the cap is about Slack channels
		return fuTop, nil, nil, nil
	}
	for _, lm := range later {
		if slices.Contains(lm.ids, a.StoryID) {
			return top("its story's first alert comes after it")
		}
	}
	parent, err := n.st.Alert(ctx, a.StoryID)
	if errors.Is(err, store.ErrNotFound) {
		if n.o.Now().Sub(a.CreatedAt) < parentMissingMax {
			return fuWait, nil, nil, nil
		}
		return top("its story's first alert is unknown")
	}
	if err != nil {
		return 0, nil, nil, err
	}
	switch parent.State {
	case store.StateFailed:
		return top("its story's first alert failed")
	case store.StateQueued, store.StateSending:
		if n.o.Now().Sub(a.CreatedAt) >= parentWaitMax {
			return top("its story's first alert is still not posted")
		}
		n.log.Debug("story follow-up waits for its parent", "channel", ch, "alert", a.ID, "story", a.StoryID, "parent_state", parent.State)
		return fuWait, nil, nil, nil
	}
	// The parent is sent.
	story, err := n.st.Alerts(ctx, store.AlertFilter{StoryID: parent.ID, State: store.StateSent})
	if err != nil {
		return 0, nil, nil, err
	}
	if !n.tr.threads() || parent.SlackTS == "" {
		return fuSuppress, &parent, story, nil
	}
	switch {
	case parent.FeedKey == a.FeedKey && parent.ItemID == a.ItemID:
		m.text, m.blocks = "Also matches rule "+nameList(rulesOf(m.alerts), true), nil
	case n.grouped(ctx, parent):
		m.text, m.blocks = RenderReply(m.alerts, parentRules(parent, story), parent.Title), nil
	default:
		m.text, m.blocks = RenderReply(m.alerts, parentRules(parent, story), ""), nil
	}
	m.threadTS = parent.SlackTS
	return fuReply, &parent, story, nil
}

// parentRules are the rules the story's first item matched in the
// channel: its own and those of its other alerts in story.
func parentRules(parent store.Alert, story []store.Alert) []string {
	return append([]string{clean(parent.Rule)}, otherRules(parent, story)...)
}

// grouped reports whether the parent's message carried other alerts too (a
// burst group, a cap summary or a digest): such a message is not the
// parent's own, so it is not updated, and replies name their story.
func (n *Notifier) grouped(ctx context.Context, parent store.Alert) bool {
	same, err := n.st.Alerts(ctx, store.AlertFilter{Channel: parent.Channel, SlackTS: parent.SlackTS, Limit: 2})
	if err != nil {
		n.log.Warn("reading a story parent's message failed", "alert", parent.ID, "err", err)
		return true // do not overwrite what may be a grouped message
	}
	if len(same) > 1 && same[0].FeedKey == same[1].FeedKey && same[0].ItemID == same[1].ItemID {
		// One item's alerts for several rules: the parent's own message.
		all, err := n.st.Alerts(ctx, store.AlertFilter{Channel: parent.Channel, SlackTS: parent.SlackTS})
		if err != nil {
			return true
		}
		return slices.ContainsFunc(all, func(a store.Alert) bool { return a.FeedKey != parent.FeedKey || a.ItemID != parent.ItemID })
	}
	return len(same) > 1
}

// suppress marks a follow-up sent without posting it (no threads: a
// webhook, stdout, or a parent posted through one), logging it, and on
// stdout printing what Slack's thread and parent would say, in one line:
// "also reported by" another outlet, with the rules it matched and how
// many outlets have the story since when, or "also matches rule" when it
// is the parent's own item; and the breaking line once the story is
// breaking.
func (n *Notifier) suppress(ctx context.Context, ch string, m *message, parent *store.Alert, story []store.Alert) error {
	a := m.alerts[0]
	src := sourceName(a)
	where := "a webhook"
	if st, ok := n.tr.(*stdoutTransport); ok {
		where = "stdout"
		line := n.stdoutFollowUp(ch, m, parent, story)
		if m.breaking != "" {
			line += fmt.Sprintf("\n\n[%s] %s: %s", clean(ch), m.breaking, titleOf(*parent))
		}
		if err := st.line(line); err != nil {
			n.log.Warn("writing to stdout failed", "err", err)
		}
	} else if n.tr.threads() {
		where = "its story's first alert, which was posted without a thread"
	}
	n.log.Info(fmt.Sprintf("also reported by %s (suppressed: no threads with %s)", src, where),
		"channel", ch, "alert", a.ID, "story", a.StoryID, "title", titleOf(a))
	return n.markSent(ctx, m, "", n.o.Now())
}

// stdoutFollowUp is the line standard output prints for a follow-up.
func (n *Notifier) stdoutFollowUp(ch string, m *message, parent *store.Alert, story []store.Alert) string {
	a := m.alerts[0]
	if parent == nil {
		return fmt.Sprintf("[%s] also reported by %s: %s", clean(ch), sourceName(a), titleOf(a))
	}
	if parent.FeedKey == a.FeedKey && parent.ItemID == a.ItemID {
		return fmt.Sprintf("[%s] also matches rule%s %s: %s", clean(ch), plural(len(rulesOf(m.alerts))), nameList(rulesOf(m.alerts), false), titleOf(a))
	}
	line := fmt.Sprintf("[%s] also reported by %s", clean(ch), sourceName(a))
	if rl := rulesLine(rulesOf(m.alerts), parentRules(*parent, story), false); rl != "" {
		line += " (" + strings.ToLower(rl[:1]) + rl[1:] + ")"
	}
	line += ": " + titleOf(a)
	if sl := outletsSince(*parent, append(slices.Clone(story), m.alerts...)); sl != "" {
		line += " — " + sl
	}
	return line
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// updateParent re-renders the story's parent message with its story lines
// so far (chat.update). Best effort: a failure is logged, and the next
// follow-up's update counts from the store again.
func (n *Notifier) updateParent(ctx context.Context, ch string, parent store.Alert) {
	if n.o.Mutes != nil && n.o.Mutes.StoryMuted(parent.ID, n.o.Now()) {
		return // a muted story's message stays as it is
	}
	if n.grouped(ctx, parent) {
		return
	}
	story, err := n.st.Alerts(ctx, store.AlertFilter{StoryID: parent.ID, State: store.StateSent})
	if err != nil {
		n.log.Warn("reading a story's alerts failed; parent message not updated", "channel", ch, "story", parent.ID, "err", err)
		return
	}
	ls := storyLines(parent, story)
	if ls.Story == "" && ls.Breaking == "" {
		return
	}
	text, blocks := RenderStory(parent, ls)
	if n.o.Interactive {
		st := n.state(ctx, parent)
		text, blocks = RenderStoryInteractive(parent, ls, st)
	}
	m := &message{channel: ch, text: text, blocks: blocks, alerts: []store.Alert{parent}, ids: []string{parent.ID}}
	for _, a := range story { // the parent's message carries its item's other alerts too
		if a.ID != parent.ID && a.FeedKey == parent.FeedKey && a.ItemID == parent.ItemID && a.SlackTS == parent.SlackTS {
			m.ids = append(m.ids, a.ID)
		}
	}
	uctx, cancel := context.WithTimeout(ctx, n.o.Lease/4)
	defer cancel()
	if err := n.tr.update(uctx, ch, parent.SlackTS, m); err != nil {
		_, code, _ := classify(err)
		n.log.Warn("updating a story's first message failed", "channel", ch, "story", parent.ID, "ts", parent.SlackTS, "err", errText(err, code))
		return
	}
	n.log.Debug("story message updated", "channel", ch, "story", parent.ID, "ts", parent.SlackTS, "reports", len(story))
}

// parentsFirst moves a story's first alert ahead of its follow-ups when the
// outbox holds them the other way round (two feeds polled at once can
// commit a follow-up before the poll that opened its story): a thread
// starts with its parent. Everything else keeps its order.
func parentsFirst(batch []store.Alert) []store.Alert {
	pos := make(map[string]int, len(batch))
	for i, a := range batch {
		pos[a.ID] = i
	}
	out := make([]store.Alert, 0, len(batch))
	done := make(map[string]bool, len(batch))
	for _, a := range batch {
		if done[a.ID] {
			continue
		}
		if isFollowUp(a) {
			if j, ok := pos[a.StoryID]; ok && !done[a.StoryID] {
				out = append(out, batch[j])
				done[a.StoryID] = true
			}
		}
		out = append(out, a)
		done[a.ID] = true
	}
	return out
}
