package notify

// The channel cap (Options.ChannelCap): at most that many top-level item
// messages per channel per rolling hour. plan.go folds what the budget does
// not allow into one summary; capStage holds a capped message until the
// cap allows it; recordStage counts a posted one (capTake).

import (
	"context"
	"time"
)

// capWindow is the rolling period of Options.ChannelCap.
const capWindow = time.Hour

// The cap's posts live in the store (RecordPost, Posts), so that replicas
// share one count per channel and a restart keeps it. If the store cannot
// be read the cap is not applied this time: an extra message is better than
// a story held back.

// capRecent returns the channel's top-level posts in the window at now,
// oldest first.
func (n *Notifier) capRecent(ctx context.Context, ch string, now time.Time) []time.Time {
	posts, err := n.st.Posts(ctx, channelArg(ch), now.Add(-capWindow).Add(time.Microsecond))
	if err != nil {
		n.log.Warn("reading the channel cap's posts failed; not capping this time", "channel", ch, "err", err)
		return nil
	}
	return posts
}

// capBudget is how many more top-level messages ch may get at now (a large
// number without a cap).
func (n *Notifier) capBudget(ctx context.Context, ch string, now time.Time) int {
	if n.o.ChannelCap <= 0 {
		return int(^uint(0) >> 1)
	}
	return max(n.o.ChannelCap-len(n.capRecent(ctx, ch, now)), 0)
}

// capFreeAt is when ch may get its next top-level message: now if the cap
// allows one, else when the oldest post of the window ages out.
func (n *Notifier) capFreeAt(ctx context.Context, ch string, now time.Time) time.Time {
	if n.o.ChannelCap <= 0 {
		return now
	}
	posts := n.capRecent(ctx, ch, now)
	if len(posts) < n.o.ChannelCap {
		return now
	}
	return posts[len(posts)-n.o.ChannelCap].Add(capWindow)
}

// capTake records a top-level message posted to ch at now.
func (n *Notifier) capTake(ctx context.Context, ch string, now time.Time) {
	if n.o.ChannelCap <= 0 {
		return
	}
	if err := n.st.RecordPost(ctx, channelArg(ch), now, now.Add(-capWindow)); err != nil {
		n.log.Warn("recording a post for the channel cap failed", "channel", ch, "err", err)
	}
}

// capStage holds a top-level item message while the channel's cap is
// reached, until the oldest post of the window ages out.
func (n *Notifier) capStage(d *delivery, m *message) next {
	if !m.capped {
		return proceed
	}
	if free := n.capFreeAt(d.ctx, d.ch, n.o.Now()); free.After(n.o.Now()) {
		n.log.Info("channel cap reached; holding alerts for one summary", "channel", d.ch, "cap_per_hour", n.o.ChannelCap, "until", free)
		d.hold = holdInfo{until: free}
		return stop
	}
	return proceed
}
