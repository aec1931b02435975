package notify

import (
	"context"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// The mute stage. Editors mute a rule or a story from Slack (package
// slackapp); the mutes live in the store and every replica follows them
// (package liverules). The monitor raises no alerts for a muted rule; the
// alerts already in the outbox when the mute came, and the follow-ups of a
// muted story, are held back here: marked sent without being posted, as a
// follow-up without a thread is. A muted story's message is not updated
// with later sources either (story.go).

// Mutes says what is muted now.
type Mutes interface {
	// Muted says whether a must not be posted at now, and why.
	Muted(a store.Alert, now time.Time) (why string, muted bool)
	// StoryMuted says whether the story whose first alert is id is muted.
	StoryMuted(id string, now time.Time) bool
}

// AlertStates reads what readers did with an alert (not relevant, muted),
// to show on its message.
type AlertStates interface {
	AlertState(ctx context.Context, a store.Alert) (AlertState, error)
}

// mute marks the muted alerts of batch sent without posting them and
// returns the others, in order. An alert whose mark fails stays out of
// this batch and is queued again when the channel is released.
func (n *Notifier) mute(ctx context.Context, ch string, batch []store.Alert) []store.Alert {
	if n.o.Mutes == nil {
		return batch
	}
	now := n.o.Now()
	out := batch[:0:0]
	for _, a := range batch {
		why, muted := n.o.Mutes.Muted(a, now)
		if !muted {
			out = append(out, a)
			continue
		}
		if err := n.st.MarkSent(ctx, a.ID, "", now); err != nil {
			n.log.Warn("recording a muted alert failed; it is looked at again", "channel", ch, "alert", a.ID, "err", err)
			continue
		}
		n.log.Info("alert not posted: "+why, "channel", ch, "alert", a.ID, "rule", a.Rule, "title", titleOf(a))
	}
	return out
}
