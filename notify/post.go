package notify

import "context"

// postStage posts m through the transport and keeps what Slack answered for
// recordStage. A post must end well before the lease does: past the lease
// another process may claim the channel, look in history, miss a message
// still in flight, and post it again.
func (n *Notifier) postStage(d *delivery, m *message) next {
	ctx, cancel := context.WithTimeout(d.ctx, n.o.Lease*3/4-n.o.Now().Sub(d.start))
	defer cancel()
	m.ts, m.err = n.tr.post(ctx, m)
	return proceed
}
