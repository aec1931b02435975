package notify

// Retries: when a failed alert is tried again (a backoff with jitter, or a
// wait Slack asked for), and when retrying ends (Options.RetryFor, counted
// for a digest from when it first came due).

import (
	"context"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

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
		n.markFailed(ctx, expired, fmt.Sprintf("gave up after %s: %s", n.o.RetryFor, why), now)
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
