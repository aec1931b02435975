package notify

import (
	"context"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// recordStage records what became of a post (see classify): accepted
// messages are marked sent (and counted by the pace and the cap, and a
// story's first message updated); a 429 waits its Retry-After, however
// often it comes; 5xx and network errors back off and retry (retry.go),
// uncertain ones looked up in history first (dedupe.go); refused
// credentials hold the alerts; a permanent error fails them (ops.go), and
// every later one of the batch when it concerns the whole channel.
func (n *Notifier) recordStage(d *delivery, m *message) next {
	now := n.o.Now()
	o, code, wait := classify(m.err)
	switch o {
	case outOK:
		n.pc.take(d.ch, now)
		n.credentialsWork()
		if m.capped {
			n.capTake(d.ctx, d.ch, now)
		}
		if err := n.markSent(d.ctx, m, m.ts, now); err != nil {
			return stop
		}
		if m.followUp {
			if m.threadTS != "" {
				n.o.Metrics.StoryFollowUp(metrics.FollowUpReply)
			} else {
				n.o.Metrics.StoryFollowUp(metrics.FollowUpTop)
			}
		}
		n.log.Debug("delivered", "channel", d.ch, "alerts", len(m.ids), "ts", m.ts, "thread_ts", m.threadTS)
		if m.parent != nil {
			n.updateParent(d.ctx, d.ch, *m.parent)
		}
	case outRateLimited:
		n.pc.block(d.ch, now.Add(wait))
		n.log.Warn("slack rate limit; waiting Retry-After", "channel", d.ch, "retry_after", wait, "alerts", len(m.ids))
		d.hold = holdInfo{until: n.retry(d.ctx, d.ch, m.alerts, false, "slack rate limited (429)", wait)}
		return stop
	case outTransient, outUncertain:
		n.pc.take(d.ch, now)
		uncertain := o == outUncertain
		msg := errText(m.err, code)
		n.log.Warn("slack post failed; will retry", "channel", d.ch, "err", msg, "uncertain", uncertain, "alerts", len(m.ids))
		d.hold = holdInfo{until: n.retry(d.ctx, d.ch, m.alerts, uncertain, msg, 0), backoff: true}
		return stop
	case outRefused:
		n.pc.take(d.ch, now)
		msg := errText(m.err, code)
		n.credentialsRefused(d.ctx, code)
		d.hold = holdInfo{until: n.retry(d.ctx, d.ch, m.alerts, false, msg, 0), backoff: true}
		return stop
	case outPermanent:
		if !channelWide(code) {
			n.fail(d.ctx, d.ch, m.alerts, code)
			return done
		}
		// Every undecided alert of the batch would fail the same way.
		var failed []store.Alert
		for _, later := range d.msgs[d.i:] {
			failed = append(failed, later.alerts...)
		}
		n.fail(d.ctx, d.ch, failed, code)
		return stop
	}
	return done
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

func errText(err error, code string) string {
	if code != "" && !strings.Contains(err.Error(), code) {
		return code + ": " + err.Error()
	}
	return err.Error()
}
