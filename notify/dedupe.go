package notify

// Deduplication: an alert whose last post had an unknown outcome (the
// connection broke after sending, a 5xx, a crash between the post and the
// store write) is looked up in the channel before it is posted again, by
// the alert ids every message carries in its metadata.

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// dedupe resolves alerts whose last post had an unknown outcome: those
// found in the channel's history are marked sent and dropped from batch.
// The second result is true when the channel must wait (history
// rate-limited or failing): the batch goes back to the queue.
func (n *Notifier) dedupe(ctx context.Context, ch string, batch []store.Alert, hold *holdInfo) ([]store.Alert, bool) {
	var unsure []string
	for _, a := range batch {
		if a.Uncertain {
			unsure = append(unsure, a.ID)
		}
	}
	if len(unsure) == 0 {
		return batch, false
	}
	found, err := n.lookupPosted(ctx, ch, batch)
	if errors.Is(err, errNoHistory) {
		n.log.Info("outcome of an earlier post unknown and history unavailable; posting again (at-least-once)",
			"channel", ch, "alerts", len(unsure), "mode", n.tr.kind())
		return batch, false
	}
	if err != nil {
		o, code, wait := classify(err)
		switch o {
		case outRateLimited:
			*hold = holdInfo{until: n.o.Now().Add(wait)}
			n.log.Warn("slack rate limit on history; waiting", "channel", ch, "retry_after", wait)
			return nil, true
		case outPermanent:
			// Cannot read history (missing channels:history scope, or the
			// channel is gone: posting will say so). Post anyway.
			key := ch + "\x00history\x00" + code
			n.mu.Lock()
			first := !n.reported[key]
			n.reported[key] = true
			n.mu.Unlock()
			if first {
				n.log.Warn("cannot read channel history to avoid duplicates; posting again (at-least-once)",
					"channel", ch, "error", code, "hint", "grant channels:history and groups:history (and channels:read, groups:read for channels named by name)")
			}
			return batch, false
		default:
			var heads []store.Alert
			for _, a := range batch {
				if a.Uncertain {
					heads = append(heads, a)
				}
			}
			n.log.Warn("reading channel history failed; will retry", "channel", ch, "err", errText(err, code))
			*hold = holdInfo{until: n.retry(ctx, ch, heads, true, "history: "+errText(err, code), 0), backoff: true}
			return nil, true
		}
	}
	if len(found) == 0 {
		return batch, false
	}
	now := n.o.Now()
	out := batch[:0:0]
	for _, a := range batch {
		ts, ok := found[a.ID]
		if !ok {
			out = append(out, a)
			continue
		}
		n.log.Info("alert found in channel history; not posting again", "channel", ch, "alert", a.ID, "ts", ts)
		if err := n.markSent(ctx, &message{channel: ch, ids: []string{a.ID}, alerts: []store.Alert{a}}, ts, now); err != nil {
			return nil, true
		}
	}
	return out, false
}

// lookupPosted finds which of the uncertain alerts of batch are already in
// the channel: top-level ones in its history, follow-ups whose parent was
// posted in the parent's thread (conversations.history does not return
// thread replies), others in the history too (they may have gone out
// top-level).
func (n *Notifier) lookupPosted(ctx context.Context, ch string, batch []store.Alert) (map[string]string, error) {
	var top []string
	threads := map[string][]string{} // parent ts → follow-up ids
	var order []string
	for _, a := range batch {
		if !a.Uncertain {
			continue
		}
		if isFollowUp(a) && n.tr.threads() {
			if p, err := n.st.Alert(ctx, a.StoryID); err == nil && p.State == store.StateSent && p.SlackTS != "" {
				if threads[p.SlackTS] == nil {
					order = append(order, p.SlackTS)
				}
				threads[p.SlackTS] = append(threads[p.SlackTS], a.ID)
				continue
			}
		}
		top = append(top, a.ID)
	}
	found := map[string]string{}
	if len(top) > 0 {
		f, err := n.tr.history(ctx, ch, top)
		if err != nil {
			return nil, err
		}
		for id, ts := range f {
			found[id] = ts
		}
	}
	for _, ts := range order {
		f, err := n.tr.replies(ctx, ch, ts, threads[ts])
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok && se.Err == "thread_not_found" {
			continue // the parent message is gone, and its replies with it
		}
		if err != nil {
			return nil, err
		}
		for id, rts := range f {
			found[id] = rts
		}
	}
	return found, nil
}
