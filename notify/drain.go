package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Drain delivers everything due now and returns when nothing due is left:
// alerts due when it was called, alerts it retried since, and ops messages
// it queued. It waits through 429 Retry-After and pacing however long they
// take (ctx permitting), and through 5xx/network backoff up to DrainWait;
// alerts still failing after that stay queued for the next run and Drain
// returns an error wrapping ErrUndelivered. Used by `wirewatch once`.
func (n *Notifier) Drain(ctx context.Context) error {
	start := n.o.Now()
	touched := map[string]bool{}
	for {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			ch, batch, err := n.st.ClaimChannel(ctx, n.o.Owner, n.o.Now(), n.o.Lease, claimLimit)
			if err != nil {
				return fmt.Errorf("notify: drain: claim channel: %w", err)
			}
			if ch == "" {
				break
			}
			for _, a := range batch {
				touched[a.ID] = true
			}
			n.deliverChannel(ctx, n.o.Owner, ch, batch)
		}
		queued, err := n.st.Alerts(ctx, store.AlertFilter{State: store.StateQueued})
		if err != nil {
			return fmt.Errorf("notify: drain: listing queued alerts: %w", err)
		}
		now := n.o.Now()
		var (
			wake    time.Time
			waiting int
			left    int
			leftAt  time.Time
		)
		for _, a := range queued {
			due := !a.NextAttempt.After(start)
			if !due && !touched[a.ID] && !(a.Kind == store.KindOps && !a.CreatedAt.Before(start)) {
				continue // not ours to wait for (a digest later today, …)
			}
			t := a.NextAttempt
			n.mu.Lock()
			h := n.hold[a.Channel]
			n.mu.Unlock()
			if h.until.After(t) {
				t = h.until
			}
			if h.backoff && t.After(start.Add(n.o.DrainWait)) {
				left++
				if leftAt.IsZero() || t.Before(leftAt) {
					leftAt = t
				}
				continue
			}
			waiting++
			if !t.After(now) {
				t = now.Add(n.o.PollInterval) // leased elsewhere, or store pacing: look again soon
			}
			if wake.IsZero() || t.Before(wake) {
				wake = t
			}
		}
		if waiting == 0 {
			if left > 0 {
				return fmt.Errorf("notify: %d alerts could not be delivered yet (Slack kept failing; next attempt %s): %w",
					left, leftAt.UTC().Format(time.RFC3339), ErrUndelivered)
			}
			return nil
		}
		if err := n.o.Sleep(ctx, wake.Sub(now)); err != nil {
			return err
		}
	}
}
