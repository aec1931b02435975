package notify

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

func ids(as []store.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// TestDedupe: of the alerts whose last post had an unknown outcome, those
// in the channel's history are marked sent with the ts found there and
// leave the batch; the others, and alerts that were never uncertain, stay.
// A rate-limited history holds the channel for its Retry-After; a
// transport with no history (a webhook) posts again.
func TestDedupe(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	ctx := context.Background()
	a1, a2, a3 := itemAlert("#desk", 1, t0), itemAlert("#desk", 2, t0), itemAlert("#desk", 3, t0)
	enqueue(t, st, a1, a2, a3)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep})
	if _, err := n.tr.post(ctx, &message{channel: "#desk", text: a1.Title, alerts: []store.Alert{a1}, ids: []string{a1.ID}}); err != nil {
		t.Fatal(err)
	}
	a1.Uncertain, a2.Uncertain = true, true // both posts had an unknown outcome; only a1's got through
	batch := []store.Alert{a1, a2, a3}

	var hold holdInfo
	out, wait := n.dedupe(ctx, "#desk", batch, &hold)
	if wait || !slices.Equal(ids(out), []string{a2.ID, a3.ID}) {
		t.Fatalf("dedupe left %v (wait %v), want a2 and a3", ids(out), wait)
	}
	if got, err := st.Alert(ctx, a1.ID); err != nil || got.State != store.StateSent || got.SlackTS != fake.MessagesIn("desk")[0].TS {
		t.Errorf("a1 found in history: %+v %v, want sent with the message's ts", got, err)
	}
	if got, _ := st.Alert(ctx, a2.ID); got.State == store.StateSent {
		t.Errorf("a2 is not in Slack but was marked sent")
	}

	fake.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method != slackfake.MethodHistory {
			return nil
		}
		f := slackfake.RateLimited(7)
		return &f
	})
	out, wait = n.dedupe(ctx, "#desk", []store.Alert{a2, a3}, &hold)
	if !wait || out != nil || !hold.until.Equal(clk.Now().Add(7*time.Second)) {
		t.Errorf("history rate-limited: wait %v, left %v, hold until %v; want the channel held for the Retry-After", wait, ids(out), hold.until)
	}

	hook := newNotifier(t, Options{Store: st, WebhookURL: fake.WebhookURL(), Now: clk.Now, Sleep: clk.Sleep})
	out, wait = hook.dedupe(ctx, "#desk", []store.Alert{a2, a3}, &hold)
	if wait || !slices.Equal(ids(out), []string{a2.ID, a3.ID}) {
		t.Errorf("webhook: dedupe left %v (wait %v), want both posted again (at-least-once)", ids(out), wait)
	}
}
