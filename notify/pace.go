package notify

// Pacing: about one message per second per channel (Options.Interval),
// with short bursts (Options.Burst), and a 429's Retry-After respected.
// Stdout is not paced.

import (
	"sync"
	"time"
)

// paceStage holds the channel until its pace allows the next message; the
// channel's release records when that is.
func (n *Notifier) paceStage(d *delivery, _ *message) next {
	if n.tr.paced() {
		if r := n.pc.ready(d.ch, n.o.Now()); r.After(n.o.Now()) {
			return stop
		}
	}
	return proceed
}

// pacer spaces messages per channel: Interval apart on average, with up to
// Burst at once (a generic cell-rate algorithm on a theoretical arrival
// time per channel).
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tat      map[string]time.Time
}

// ready is when the next message to ch may go.
func (p *pacer) ready(ch string, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	tat := p.tat[ch]
	if tat.Before(now) {
		tat = now
	}
	return tat.Add(-time.Duration(p.burst-1) * p.interval)
}

// take records a message sent to ch at now.
func (p *pacer) take(ch string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tat := p.tat[ch]
	if tat.Before(now) {
		tat = now
	}
	p.tat[ch] = tat.Add(p.interval)
}

// block holds ch until until (after a 429), then allows one message.
func (p *pacer) block(ch string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := until.Add(time.Duration(p.burst-1) * p.interval)
	if t.After(p.tat[ch]) {
		p.tat[ch] = t
	}
}
