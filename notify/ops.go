package notify

// Failures and ops messages: alerts Slack refuses for good are marked
// failed and reported once to Options.OpsChannel; refused credentials are
// reported once and hold the alerts instead (see record.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// opsID is the id of an ops message about key, stable for a day so that
// several processes (or restarts) report a problem once a day.
func opsID(now time.Time, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(now.UTC().Format("2006-01-02")))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "ops-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// reportOps queues an ops message (if an ops channel is set and the
// problem is not about the ops channel itself).
func (n *Notifier) reportOps(ctx context.Context, about string, text string, key ...string) {
	if n.o.OpsChannel == "" || sameChannel(about, n.o.OpsChannel) {
		return
	}
	now := n.o.Now()
	a := store.Alert{
		ID: opsID(now, key...), Kind: store.KindOps, Channel: n.o.OpsChannel,
		Text: text, CreatedAt: now, NextAttempt: now,
	}
	q, err := n.st.Enqueue(ctx, []store.Alert{a})
	if err != nil {
		n.log.Error("queueing ops message failed", "err", err, "channel", n.o.OpsChannel)
	}
	n.o.Metrics.AlertQueued(q)
}

func sameChannel(a, b string) bool { return channelArg(a) == channelArg(b) }

func allOps(as []store.Alert) bool {
	for _, a := range as {
		if a.Kind != store.KindOps {
			return false
		}
	}
	return true
}

// markFailed gives up on alerts for good, for reason, and counts them.
func (n *Notifier) markFailed(ctx context.Context, alerts []store.Alert, reason string, now time.Time) {
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
}

// fail marks alerts failed for a permanent Slack error and reports it once.
func (n *Notifier) fail(ctx context.Context, ch string, alerts []store.Alert, code string) {
	now := n.o.Now()
	meaning := permanentCodes[code]
	n.markFailed(ctx, alerts, "slack: "+code+" ("+meaning+")", now)
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
