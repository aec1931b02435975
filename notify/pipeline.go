package notify

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// deliverChannel is the delivery pipeline, run over one claimed channel's
// batch (its due alerts, in order). The batch is deduplicated and planned
// into messages once; then every message passes the stages in order until
// one of them finishes it (sent, suppressed or failed: the next message
// follows) or stops the channel (it must wait: the rest of the batch goes
// back to the queue, and later alerts wait behind it, so the channel's
// order holds). Each stage lives in the file of its name.
//
//	claim     ClaimChannel leases the channel and its due alerts   notify.go, drain.go
//	dedupe    uncertain alerts found in history are marked sent    dedupe.go
//	mute      alerts of muted rules and stories: sent, not posted  mute.go
//	plan      digests, burst groups, the channel cap's summary     plan.go
//	then, per message, stages:
//	  lease   stop when shutting down or half the lease is gone    pipeline.go
//	  story   a follow-up replies in its story's thread, or waits  story.go
//	  cap     a top-level message waits for the channel cap        cap.go
//	  pace    about one message per second per channel             pace.go
//	  post    chat.postMessage, a webhook, or stdout               post.go
//	  record  sent, retried (retry.go) or failed (ops.go)          record.go
//	release   ReleaseChannel, with when the channel may go again   pipeline.go
func (n *Notifier) deliverChannel(ctx context.Context, owner, ch string, batch []store.Alert) {
	d := n.begin(ctx, owner, ch, batch)
	defer n.release(d)
	batch, wait := n.dedupe(d.ctx, d.ch, batch, &d.hold)
	if wait {
		return
	}
	batch = n.mute(d.ctx, d.ch, batch)
	d.msgs = n.plan(d.ctx, d.ch, batch)
	for d.i = 0; d.i < len(d.msgs); d.i++ {
		if n.pass(d, d.msgs[d.i]) == stop {
			return
		}
	}
}

// stages are what every planned message goes through, in order.
var stages = []stage{
	(*Notifier).leaseStage,
	(*Notifier).storyStage,
	(*Notifier).capStage,
	(*Notifier).paceStage,
	(*Notifier).postStage,
	(*Notifier).recordStage,
}

// A stage handles message m of d's batch and says what happens next.
type stage func(n *Notifier, d *delivery, m *message) next

// next is a stage's verdict on a message.
type next int

const (
	proceed next = iota // hand the message to the next stage
	done                // the message is finished: on to the batch's next message
	stop                // the channel must wait: the rest of the batch goes back to the queue
)

// pass runs m through the stages until one finishes it or stops the
// channel; it returns done or stop.
func (n *Notifier) pass(d *delivery, m *message) next {
	for _, s := range stages {
		if v := s(n, d, m); v != proceed {
			return v
		}
	}
	return done
}

// delivery is one claimed channel's batch on its way through the pipeline.
type delivery struct {
	// ctx bounds the batch by the lease but outlives the caller's context:
	// a post abandoned half-way on shutdown would only turn into an unknown
	// outcome, so the message in flight is finished. outer is the caller's.
	ctx, outer context.Context
	cancel     context.CancelFunc
	owner, ch  string
	start      time.Time  // when the batch was claimed
	msgs       []*message // the planned messages; msgs[i] is in the pipeline
	i          int
	// hold is why and until when the channel waits once released; the
	// stage that stops the channel sets it.
	hold holdInfo
}

// later returns the messages of the batch after the current one.
func (d *delivery) later() []*message { return d.msgs[d.i+1:] }

// message is one Slack message carrying one or more alerts.
type message struct {
	channel string
	text    string
	blocks  []slack.Block
	alerts  []store.Alert // in order; the first one for a single alert
	ids     []string

	// followUp: the one alert is a story follow-up, rendered only when its
	// turn comes (as a thread reply, a top-level alert, or suppressed),
	// since its parent may be posted just before it.
	followUp bool
	// also: alerts[1:] are the same item's alerts for other rules of the
	// channel (one message per item per channel): stdout prints the first
	// with their rules named.
	also bool
	// breaking: the story became breaking with this follow-up ("Breaking:
	// 5 outlets in 38 min"), said on stdout where no parent is updated.
	breaking string
	// threadTS, if set, posts the message as a reply in that thread.
	threadTS string
	// capped: a top-level item message, counted by Options.ChannelCap.
	capped bool

	// Set on the way through the stages: the story parent to update once
	// the reply is posted (story), and what the post returned (post).
	parent *store.Alert
	ts     string
	err    error
}

// begin starts the delivery of a claimed batch.
func (n *Notifier) begin(ctx context.Context, owner, ch string, batch []store.Alert) *delivery {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.o.Lease)
	d := &delivery{ctx: wctx, outer: ctx, cancel: cancel, owner: owner, ch: ch, start: n.o.Now()}
	n.noteDigests(batch, d.start)
	return d
}

// release gives the channel back, due again when its hold ends or its
// pacing allows the next message, whichever is later. Whatever was not
// decided goes back to the queue.
func (n *Notifier) release(d *delivery) {
	defer d.cancel()
	next := d.hold.until
	if n.tr.paced() {
		if r := n.pc.ready(d.ch, n.o.Now()); r.After(next) {
			next = r
			d.hold.until = r
		}
	}
	n.mu.Lock()
	n.hold[d.ch] = d.hold
	n.mu.Unlock()
	if err := n.st.ReleaseChannel(d.ctx, d.ch, d.owner, next); err != nil {
		n.log.Error("releasing channel failed", "channel", d.ch, "err", err)
	}
}

// leaseStage stops the batch when shutting down or when half the lease is
// gone: a batch that ran on could still be posting when another process
// takes the channel over.
func (n *Notifier) leaseStage(d *delivery, _ *message) next {
	if d.outer.Err() != nil || n.o.Now().Sub(d.start) > n.o.Lease/2 {
		return stop
	}
	return proceed
}
