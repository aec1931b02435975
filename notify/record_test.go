package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// TestRecordStage: what each answer to a post does to the message's alert,
// to the next message of the batch, and to the channel.
func TestRecordStage(t *testing.T) {
	for _, c := range []struct {
		name      string
		err       error
		want      next
		state     string        // of the posted alert afterwards
		uncertain bool          // of the posted alert afterwards
		wait      time.Duration // until its next attempt (0: not retried)
		laterFail bool          // the batch's next alert failed with it
	}{
		{"accepted", nil, done, store.StateSent, false, 0, false},
		{"429", &slack.RateLimitedError{RetryAfter: 30 * time.Second}, stop, store.StateQueued, false, 30 * time.Second, false},
		{"5xx", slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}, stop, store.StateQueued, true, -1, false},
		{"slack error", slack.SlackErrorResponse{Err: "internal_error"}, stop, store.StateQueued, false, -1, false},
		{"refused token", slack.SlackErrorResponse{Err: "invalid_auth"}, stop, store.StateQueued, false, -1, false},
		{"bad message", slack.SlackErrorResponse{Err: "msg_too_long"}, done, store.StateFailed, false, 0, false},
		{"channel gone", slack.SlackErrorResponse{Err: "channel_not_found"}, stop, store.StateFailed, false, 0, true},
		{"connection lost", errors.New("read: connection reset by peer"), stop, store.StateQueued, true, -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			st := openStore(t)
			ctx := context.Background()
			a1, a2 := itemAlert("#desk", 1, t0), itemAlert("#desk", 2, t0)
			enqueue(t, st, a1, a2)
			n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/", Now: clk.Now, Sleep: clk.Sleep, Burst: 1})
			if _, batch, err := st.ClaimChannel(ctx, "test-owner", clk.Now(), time.Minute, 0); err != nil || len(batch) != 2 {
				t.Fatalf("claim: %d %v", len(batch), err)
			}
			m1 := &message{channel: "#desk", alerts: []store.Alert{a1}, ids: []string{a1.ID}, ts: "1700000000.000100", err: c.err}
			m2 := &message{channel: "#desk", alerts: []store.Alert{a2}, ids: []string{a2.ID}}
			d := &delivery{ctx: ctx, outer: ctx, ch: "#desk", start: clk.Now(), msgs: []*message{m1, m2}}

			if v := n.recordStage(d, m1); v != c.want {
				t.Errorf("verdict %v, want %v", v, c.want)
			}
			got, err := st.Alert(ctx, a1.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.state || got.Uncertain != c.uncertain {
				t.Errorf("alert %s, uncertain %v; want %s, uncertain %v", got.State, got.Uncertain, c.state, c.uncertain)
			}
			if c.state == store.StateSent && got.SlackTS != m1.ts {
				t.Errorf("sent with ts %q, want %q", got.SlackTS, m1.ts)
			}
			switch wait := got.NextAttempt.Sub(clk.Now()); {
			case c.wait > 0 && wait != c.wait:
				t.Errorf("next attempt in %v, want %v (Retry-After)", wait, c.wait)
			case c.wait < 0 && (wait < time.Second || wait > 2*time.Second):
				t.Errorf("next attempt in %v, want a first backoff of 1-2s", wait)
			}
			if c.want == stop && c.state == store.StateQueued && !d.hold.until.Truncate(time.Microsecond).Equal(got.NextAttempt) { // the store keeps microseconds
				t.Errorf("channel held until %v, want the alert's next attempt %v", d.hold.until, got.NextAttempt)
			}
			later, _ := st.Alert(ctx, a2.ID)
			if (later.State == store.StateFailed) != c.laterFail {
				t.Errorf("the next alert of the batch is %s", later.State)
			}
			if c.err == nil && !n.pc.ready("#desk", clk.Now()).After(clk.Now()) {
				t.Errorf("an accepted post did not count against the channel's pace")
			}
		})
	}
}
