package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// deliverChannel runs the pipeline over one claimed batch: dedupe, plan,
// then pace/render/post/record message by message, stopping at the first
// message that must wait (later alerts of the channel wait behind it, so
// the channel's order holds). Whatever was not decided goes back to the
// queue when the channel is released.
func (n *Notifier) deliverChannel(ctx context.Context, owner, ch string, batch []store.Alert) {
	// Finish the message in flight on shutdown: a post abandoned half-way
	// would only turn into an unknown outcome. The whole batch is bounded by
	// the lease, so a stuck call cannot hold the channel forever.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.o.Lease)
	defer cancel()
	now := n.o.Now()
	n.noteDigests(batch, now)
	hold := holdInfo{}
	defer func() {
		next := hold.until
		if n.tr.paced() {
			if r := n.pc.ready(ch, n.o.Now()); r.After(next) {
				next = r
				hold.until = r
			}
		}
		n.mu.Lock()
		n.hold[ch] = hold
		n.mu.Unlock()
		if err := n.st.ReleaseChannel(wctx, ch, owner, next); err != nil {
			n.log.Error("releasing channel failed", "channel", ch, "err", err)
		}
	}()

	batch, stop := n.dedupe(wctx, ch, batch, &hold)
	if stop {
		return
	}
	msgs := n.plan(wctx, ch, batch)
	for i, m := range msgs {
		if ctx.Err() != nil || n.o.Now().Sub(now) > n.o.Lease/2 {
			return // shutting down, or the lease is running out
		}
		var parent *store.Alert // the story parent to update after a reply
		if m.followUp {
			act, p, err := n.resolveFollowUp(wctx, ch, m, msgs[i+1:])
			switch {
			case err != nil:
				n.log.Warn("looking up a story's parent alert failed; will retry", "channel", ch, "alert", m.ids[0], "err", err)
				hold = holdInfo{until: n.retry(wctx, ch, m.alerts, false, "story parent: "+err.Error(), 0), backoff: true}
				return
			case act == fuWait:
				hold = holdInfo{until: n.retry(wctx, ch, m.alerts, false, "waiting for the story's first alert to be posted", parentWait)}
				return
			case act == fuSuppress:
				if err := n.suppress(wctx, ch, m); err != nil {
					return
				}
				n.o.Metrics.StoryFollowUp(metrics.FollowUpSuppressed)
				continue
			case act == fuReply:
				parent = p
			}
		}
		if m.capped {
			if free := n.capFreeAt(wctx, ch, n.o.Now()); free.After(n.o.Now()) {
				n.log.Info("channel cap reached; holding alerts for one summary", "channel", ch, "cap_per_hour", n.o.ChannelCap, "until", free)
				hold = holdInfo{until: free}
				return
			}
		}
		if n.tr.paced() {
			if r := n.pc.ready(ch, n.o.Now()); r.After(n.o.Now()) {
				return // the deferred release records when to come back
			}
		}
		// A post must end well before the lease does: past the lease another
		// process may claim the channel, look in history, miss a message
		// still in flight, and post it again.
		pctx, pcancel := context.WithTimeout(wctx, n.o.Lease*3/4-n.o.Now().Sub(now))
		ts, err := n.tr.post(pctx, m)
		pcancel()
		now := n.o.Now()
		o, code, wait := classify(err)
		switch o {
		case outOK:
			n.pc.take(ch, now)
			n.credentialsWork()
			if m.capped {
				n.capTake(wctx, ch, now)
			}
			if err := n.markSent(wctx, m, ts, now); err != nil {
				return
			}
			if m.followUp {
				if m.threadTS != "" {
					n.o.Metrics.StoryFollowUp(metrics.FollowUpReply)
				} else {
					n.o.Metrics.StoryFollowUp(metrics.FollowUpTop)
				}
			}
			n.log.Debug("delivered", "channel", ch, "alerts", len(m.ids), "ts", ts, "thread_ts", m.threadTS)
			if parent != nil {
				n.updateParent(wctx, ch, *parent)
			}
		case outRateLimited:
			n.pc.block(ch, now.Add(wait))
			n.log.Warn("slack rate limit; waiting Retry-After", "channel", ch, "retry_after", wait, "alerts", len(m.ids))
			hold = holdInfo{until: n.retry(wctx, ch, m.alerts, false, "slack rate limited (429)", wait)}
			return
		case outTransient, outUncertain:
			n.pc.take(ch, now)
			uncertain := o == outUncertain
			msg := errText(err, code)
			n.log.Warn("slack post failed; will retry", "channel", ch, "err", msg, "uncertain", uncertain, "alerts", len(m.ids))
			hold = holdInfo{until: n.retry(wctx, ch, m.alerts, uncertain, msg, 0), backoff: true}
			return
		case outRefused:
			n.pc.take(ch, now)
			msg := errText(err, code)
			n.credentialsRefused(wctx, code)
			hold = holdInfo{until: n.retry(wctx, ch, m.alerts, false, msg, 0), backoff: true}
			return
		case outPermanent:
			failed := m.alerts
			if channelWide(code) {
				// Every undecided alert of the batch would fail the same way.
				failed = nil
				for _, later := range msgs[i:] {
					failed = append(failed, later.alerts...)
				}
			}
			n.fail(wctx, ch, failed, code)
			if channelWide(code) {
				return
			}
		}
	}
}

func errText(err error, code string) string {
	if code != "" && !strings.Contains(err.Error(), code) {
		return code + ": " + err.Error()
	}
	return err.Error()
}

// noteDigests remembers when digest alerts first came due, so RetryFor
// counts from then and not from their creation.
func (n *Notifier) noteDigests(batch []store.Alert, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range batch {
		if a.Digest == "" {
			continue
		}
		if _, ok := n.firstDue[a.ID]; !ok {
			t := now
			if a.Attempts == 0 && !a.NextAttempt.IsZero() {
				t = a.NextAttempt
			}
			n.firstDue[a.ID] = t
		}
	}
}

func (n *Notifier) deadline(a store.Alert, now time.Time) time.Time {
	base := a.CreatedAt
	if a.Digest != "" {
		n.mu.Lock()
		if t, ok := n.firstDue[a.ID]; ok && t.After(base) {
			base = t
		}
		n.mu.Unlock()
	}
	if base.IsZero() {
		base = now
	}
	return base.Add(n.o.RetryFor)
}

func (n *Notifier) forget(ids []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, id := range ids {
		delete(n.firstDue, id)
	}
}

// backoff is the wait before retry number attempts+1 after a 5xx or network
// error: 2s doubling to at most 10 minutes, with jitter in [d/2, d].
func (n *Notifier) backoff(attempts int) time.Duration {
	d := 2 * time.Second << min(max(attempts, 0), 12)
	d = min(d, 10*time.Minute)
	n.mu.Lock()
	j := time.Duration(n.rnd.Int64N(int64(d/2) + 1))
	n.mu.Unlock()
	return d/2 + j
}

// retry puts alerts back for a later attempt (after wait, or after their
// backoff if wait is 0), or fails those past RetryFor and reports them. It
// returns when the first of them comes due again.
func (n *Notifier) retry(ctx context.Context, ch string, alerts []store.Alert, uncertain bool, why string, wait time.Duration) time.Time {
	now := n.o.Now()
	var (
		expired []store.Alert
		first   time.Time
	)
	for _, a := range alerts {
		if !now.Before(n.deadline(a, now)) {
			expired = append(expired, a)
			continue
		}
		d := wait
		if d <= 0 {
			d = n.backoff(a.Attempts)
		}
		next := now.Add(d)
		if first.IsZero() {
			first = next
		}
		if err := n.st.Retry(ctx, a.ID, next, why, uncertain || a.Uncertain); err != nil {
			n.log.Error("recording retry failed", "alert", a.ID, "channel", ch, "err", err)
		}
	}
	if len(expired) > 0 {
		reason := fmt.Sprintf("gave up after %s: %s", n.o.RetryFor, why)
		ids := make([]string, 0, len(expired))
		for _, a := range expired {
			ids = append(ids, a.ID)
			if err := n.st.MarkFailed(ctx, a.ID, reason, now); err != nil {
				n.log.Error("marking alert failed failed", "alert", a.ID, "err", err)
			} else {
				n.o.Metrics.AlertFailed(a)
			}
		}
		n.forget(ids)
		n.log.Error("delivery given up", "channel", ch, "alerts", len(expired), "retry_for", n.o.RetryFor, "last_error", why)
		if !allOps(expired) {
			n.reportOps(ctx, ch, fmt.Sprintf(
				"Wirewatch gave up delivering %d alert(s) to %s after trying for %s. Last error: %s. First: %q",
				len(expired), ch, n.o.RetryFor, why, clean(expired[0].Title)), "expired", ch, expired[0].ID)
		}
	}
	if first.IsZero() {
		first = now
	}
	return first
}

func allOps(as []store.Alert) bool {
	for _, a := range as {
		if a.Kind != store.KindOps {
			return false
		}
	}
	return true
}

// credentialsRefused reports, once until a post succeeds again, that Slack
// refuses the token or webhook. The alerts are held, not failed: fixing the
// credentials and restarting delivers what came in meanwhile (up to
// RetryFor). The ops message waits in the outbox like any other.
func (n *Notifier) credentialsRefused(ctx context.Context, code string) {
	n.mu.Lock()
	first := n.refused != code
	n.refused = code
	n.mu.Unlock()
	if !first {
		return
	}
	n.log.Error("slack refuses the credentials; alerts are held and retried until retry_for, fix the token or webhook and restart",
		"error", code, "meaning", permanentCodes[code], "retry_for", n.o.RetryFor)
	n.reportOps(ctx, "", fmt.Sprintf("Wirewatch could not post: Slack says %s (%s). Alerts were held and retried for up to %s; this message was held too.",
		code, permanentCodes[code], n.o.RetryFor), "refused", code)
}

// credentialsWork notes a successful post after Slack refused the
// credentials.
func (n *Notifier) credentialsWork() {
	n.mu.Lock()
	was := n.refused
	n.refused = ""
	n.mu.Unlock()
	if was != "" {
		n.log.Info("slack accepts the credentials again; held alerts are being delivered", "was", was)
	}
}

// fail marks alerts failed for a permanent Slack error and reports it once.
func (n *Notifier) fail(ctx context.Context, ch string, alerts []store.Alert, code string) {
	now := n.o.Now()
	meaning := permanentCodes[code]
	reason := "slack: " + code + " (" + meaning + ")"
	ids := make([]string, 0, len(alerts))
	for _, a := range alerts {
		ids = append(ids, a.ID)
		if err := n.st.MarkFailed(ctx, a.ID, reason, now); err != nil {
			n.log.Error("marking alert failed failed", "alert", a.ID, "err", err)
		} else {
			n.o.Metrics.AlertFailed(a)
		}
	}
	n.forget(ids)
	key := ch + "\x00" + code
	n.mu.Lock()
	first := !n.reported[key]
	n.reported[key] = true
	n.mu.Unlock()
	if !first {
		n.log.Warn("slack refused delivery again", "channel", ch, "error", code, "alerts", len(alerts))
		return
	}
	n.log.Error("slack refused delivery; alerts marked failed", "channel", ch, "error", code, "meaning", meaning, "alerts", len(alerts))
	if !allOps(alerts) {
		n.reportOps(ctx, ch, fmt.Sprintf("Wirewatch cannot post to %s: Slack says %s (%s). %d alert(s) marked failed; later alerts for this channel will fail the same way until it is fixed.",
			ch, code, meaning, len(alerts)), "permanent", ch, code)
	}
}

// markSent records Slack's acceptance of every alert of m. If the store
// cannot record it, the alerts are put back as uncertain, so the next
// attempt finds the message in history instead of posting it again.
func (n *Notifier) markSent(ctx context.Context, m *message, ts string, now time.Time) error {
	var firstErr error
	for _, id := range m.ids {
		var err error
		for try := range 3 {
			if err = n.st.MarkSent(ctx, id, ts, now); err == nil {
				break
			}
			_ = n.o.Sleep(ctx, time.Duration(try+1)*100*time.Millisecond)
		}
		if err == nil {
			for _, a := range m.alerts {
				if a.ID == id {
					n.o.Metrics.AlertSent(a, now)
					break
				}
			}
		}
		if err != nil {
			n.log.Error("recording a delivered alert failed", "alert", id, "channel", m.channel, "err", err)
			if rerr := n.st.Retry(ctx, id, now, "posted, but recording it failed: "+err.Error(), true); rerr != nil {
				n.log.Error("recording a delivered alert as uncertain failed", "alert", id, "err", rerr)
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	n.forget(m.ids)
	return firstErr
}

// dedupe resolves alerts whose last post had an unknown outcome: those
// found in the channel's history are marked sent and dropped from batch.
// stop is true when the batch must wait (history rate-limited or failing).
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

// plan turns a batch into messages, in channel order: ops and single alerts
// one message each; the due alerts of one digest one summary (or several,
// if they exceed one message); and, when more than BurstGroup plain alerts
// are due at once, grouped messages listing them. A group takes the place
// of its first alert.
func (n *Notifier) plan(ctx context.Context, ch string, batch []store.Alert) []*message {
	batch = parentsFirst(batch)
	if _, ok := n.tr.(*stdoutTransport); ok {
		out := make([]*message, 0, len(batch))
		for _, a := range batch {
			out = append(out, &message{channel: ch, alerts: []store.Alert{a}, ids: []string{a.ID}, followUp: isFollowUp(a)})
		}
		return out
	}
	plain := 0
	for _, a := range batch {
		if a.Kind != store.KindOps && a.Digest == "" && !isFollowUp(a) {
			plain++
		}
	}
	burst := n.o.BurstGroup >= 0 && plain > n.o.BurstGroup

	type unit struct {
		digest   bool
		group    bool
		followUp bool
		alerts   []store.Alert
	}
	var units []*unit
	groups := map[string]*unit{}
	for _, a := range batch {
		key := ""
		switch {
		case a.Kind == store.KindOps:
		case isFollowUp(a): // rendered when its turn comes, never grouped
			units = append(units, &unit{followUp: true, alerts: []store.Alert{a}})
			continue
		case a.Digest != "":
			key = "d\x00" + a.Digest
		case burst:
			key = "burst"
		}
		if key == "" {
			units = append(units, &unit{alerts: []store.Alert{a}})
			continue
		}
		u := groups[key]
		if u == nil {
			u = &unit{digest: a.Digest != "", group: true}
			groups[key] = u
			units = append(units, u)
		}
		u.alerts = append(u.alerts, a)
	}

	// The channel cap: top-level item messages (singles and burst groups)
	// beyond the budget left this hour go into one summary, which takes the
	// last message the budget allows (or waits for one, if none is left).
	counted := func(u *unit) bool {
		return !u.digest && !u.followUp && u.alerts[0].Kind != store.KindOps
	}
	if n.o.ChannelCap > 0 {
		var idx []int
		for i, u := range units {
			if counted(u) {
				idx = append(idx, i)
			}
		}
		if budget := n.capBudget(ctx, ch, n.o.Now()); len(idx) > budget {
			keep := max(budget-1, 0)
			sum := &unit{group: true}
			drop := map[int]bool{}
			for _, i := range idx[keep:] {
				sum.alerts = append(sum.alerts, units[i].alerts...)
				drop[i] = true
			}
			merged := units[:0:0]
			for i, u := range units {
				switch {
				case i == idx[keep]:
					merged = append(merged, sum)
				case !drop[i]:
					merged = append(merged, u)
				}
			}
			units = merged
		}
	}

	var out []*message
	for _, u := range units {
		if u.followUp {
			a := u.alerts[0]
			out = append(out, &message{channel: ch, alerts: u.alerts, ids: []string{a.ID}, followUp: true})
			continue
		}
		if !u.group {
			a := u.alerts[0]
			text, blocks := Render(a)
			out = append(out, &message{channel: ch, text: text, blocks: blocks, alerts: u.alerts, ids: []string{a.ID}, capped: counted(u)})
			continue
		}
		rest := u.alerts
		for len(rest) > 0 {
			text, blocks, k := RenderGroup(u.digest, rest)
			m := &message{channel: ch, text: text, blocks: blocks, alerts: rest[:k], capped: counted(u)}
			for _, a := range rest[:k] {
				m.ids = append(m.ids, a.ID)
			}
			out = append(out, m)
			rest = rest[k:]
		}
	}
	return out
}
