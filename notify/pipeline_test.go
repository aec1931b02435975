package notify

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

// TestPipelineStopsAtHalfTheLease: a batch stops posting once half the
// lease is gone; what it did not post goes back to the queue in order and
// goes out with the next claim.
func TestPipelineStopsAtHalfTheLease(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	fake.FaultFunc(func(c slackfake.Call) *slackfake.Fault {
		if c.Method == slackfake.MethodPostMessage {
			clk.Advance(6 * time.Second) // a slow Slack
		}
		return nil
	})
	st := openStore(t)
	ctx := context.Background()
	a1, a2, a3 := itemAlert("#desk", 1, t0), itemAlert("#desk", 2, t0), itemAlert("#desk", 3, t0)
	enqueue(t, st, a1, a2, a3)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep,
		Lease: 10 * time.Second, BurstGroup: -1})

	did, err := n.step(ctx, "test-owner")
	if err != nil || !did {
		t.Fatalf("step: %v %v", did, err)
	}
	if got := idsIn(fake, "desk"); !slices.Equal(got, []string{a1.ID}) {
		t.Fatalf("one batch posted %v, want only the first alert before half the lease (5s) was gone", got)
	}
	for _, a := range []store.Alert{a2, a3} {
		if got, _ := st.Alert(ctx, a.ID); got.State != store.StateQueued {
			t.Errorf("alert not posted is %s, want back in the queue", got.State)
		}
	}
	drain(t, n)
	if got := idsIn(fake, "desk"); !slices.Equal(got, []string{a1.ID, a2.ID, a3.ID}) {
		t.Errorf("Slack got %v, want each alert once, in order", got)
	}
}

// TestPassStopsAtTheStageThatHolds: a message held by a stage goes no
// further: a capped message held by the cap is never posted.
func TestPassStopsAtTheStageThatHolds(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/", Now: clk.Now, ChannelCap: 1})
	n.capTake(context.Background(), "#desk", t0)
	d := &delivery{ctx: context.Background(), outer: context.Background(), ch: "#desk", start: t0}
	m := &message{channel: "#desk", capped: true}
	if v := n.pass(d, m); v != stop || m.err != nil || m.ts != "" {
		t.Errorf("capped message: %v, post result %q %v; want stopped before the post", v, m.ts, m.err)
	}
}
