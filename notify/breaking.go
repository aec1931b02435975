package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// The breaking-story signal. A story's alerts carry its threshold
// (store.Alert.Breaking: at least N distinct outlets within T). When the
// follow-up being delivered makes the story's reports cross it, the story
// is breaking: the parent message shows "Breaking: 5 outlets in 38 min"
// from then on (story lines, updated with every reply), the crossing is
// counted and logged, and, where the threshold names an escalation
// channel, one message for the story is queued there.
//
// Exactly once: the escalation message is an alert like any other, with
// an identity derived from the story and the channel
// (store.BreakingAlertID), queued through the outbox (Store.Enqueue skips
// an id it has). It is queued before the follow-up that crossed the
// threshold is posted, and again (a no-op) with every later follow-up, so
// a crash, a retry or another replica cannot lose it or send it twice.
// The count is taken over the story's delivered alerts plus the one being
// delivered: a channel is delivered in order by one process at a time, so
// every report queued before this one has been delivered by then.

// breaking evaluates the story of follow-up m (its parent and its
// delivered alerts) and queues the escalation message when the story is
// breaking. m.breaking is set to the breaking line when m is the report
// that crossed the threshold.
func (n *Notifier) breaking(ctx context.Context, ch string, m *message, parent store.Alert, story []store.Alert) error {
	b := parent.Breaking
	if b == nil || b.Outlets <= 0 {
		return nil
	}
	before := slices.DeleteFunc(slices.Clone(story), func(a store.Alert) bool { return slices.Contains(m.ids, a.ID) })
	outlets, span, ok := breakingSpan(reportsOf(parent, append(slices.Clone(before), m.alerts...)), *b)
	if !ok {
		return nil
	}
	line := BreakingLine(outlets, span)
	if _, _, was := breakingSpan(reportsOf(parent, before), *b); !was {
		m.breaking = line
		n.o.Metrics.StoryBreaking()
		n.log.Info("story is breaking", "channel", ch, "story", parent.ID, "title", titleOf(parent), "outlets", outlets, "span", span, "escalate_to", b.EscalateTo)
	}
	if b.EscalateTo == "" {
		return nil
	}
	esc := escalation(parent, ch, b.EscalateTo, line, outletNames(parent, append(before, m.alerts...)), n.o.Now())
	queued, err := n.st.Enqueue(ctx, []store.Alert{esc})
	if err != nil {
		return fmt.Errorf("queueing the breaking story's message to %s: %w", b.EscalateTo, err)
	}
	if queued > 0 {
		n.log.Info("breaking story escalated", "channel", ch, "story", parent.ID, "to", b.EscalateTo, "alert", esc.ID)
	}
	return nil
}

// escalation is the message a breaking story sends to channel to: the
// story's first alert, with a note saying where and how fast it broke.
func escalation(parent store.Alert, from, to, line string, outlets []string, now time.Time) store.Alert {
	note := strings.Replace(line, "Breaking:", "Breaking in "+from+":", 1)
	if len(outlets) > 0 {
		names := outlets
		if len(names) > maxStorySources {
			names = append(slices.Clone(names[:maxStorySources]), fmt.Sprintf("%d more", len(outlets)-maxStorySources))
		}
		note += " (" + strings.Join(names, ", ") + ")"
	}
	return store.Alert{
		ID:          store.BreakingAlertID(parent, to),
		Kind:        store.KindItem,
		Channel:     to,
		FeedKey:     parent.FeedKey,
		FeedName:    parent.FeedName,
		ItemID:      parent.ItemID,
		GUID:        parent.GUID,
		Rule:        parent.Rule,
		Title:       parent.Title,
		Link:        parent.Link,
		Published:   parent.Published,
		Snippet:     parent.Snippet,
		Marks:       parent.Marks,
		Matched:     parent.Matched,
		Note:        note,
		CreatedAt:   now,
		NextAttempt: now,
	}
}

// outletNames are the outlets that reported the story, in order.
func outletNames(parent store.Alert, story []store.Alert) []string {
	var out []string
	for _, r := range reportsOf(parent, story) {
		if !slices.Contains(out, r.outlet) {
			out = append(out, r.outlet)
		}
	}
	return out
}
