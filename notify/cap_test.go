package notify

import (
	"context"
	"testing"
	"time"
)

// TestCapStage: the cap counts top-level posts in the store over a rolling
// hour; a capped message waits until the oldest of the window ages out,
// and messages the cap does not count pass. Another Notifier on the same
// store (a replica, or the process after a restart) sees the same count.
func TestCapStage(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	o := Options{Store: st, Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/", Now: clk.Now, ChannelCap: 3}
	n := newNotifier(t, o)
	ctx := context.Background()
	for i := range 3 {
		n.capTake(ctx, "#desk", t0.Add(time.Duration(i)*10*time.Minute))
	}
	clk.Advance(30 * time.Minute)

	replica := newNotifier(t, o)
	if got := replica.capBudget(ctx, "#desk", clk.Now()); got != 0 {
		t.Errorf("budget after 3 posts in the hour: %d, want 0", got)
	}
	if got := replica.capBudget(ctx, "#other", clk.Now()); got != 3 {
		t.Errorf("another channel's budget: %d, want 3", got)
	}
	d := &delivery{ctx: ctx, ch: "#desk"}
	if v := replica.capStage(d, &message{capped: true}); v != stop || !d.hold.until.Equal(t0.Add(time.Hour)) {
		t.Errorf("capped message: %v, held until %v; want stop until the first post ages out (%v)", v, d.hold.until, t0.Add(time.Hour))
	}
	if v := replica.capStage(&delivery{ctx: ctx, ch: "#desk"}, &message{}); v != proceed {
		t.Errorf("a message the cap does not count (reply, ops, digest) waits")
	}

	clk.Advance(30*time.Minute + time.Microsecond) // the first post has aged out
	if got := replica.capBudget(ctx, "#desk", clk.Now()); got != 1 {
		t.Errorf("budget once the first post aged out: %d, want 1", got)
	}
	if v := replica.capStage(&delivery{ctx: ctx, ch: "#desk"}, &message{capped: true}); v != proceed {
		t.Errorf("capped message once the cap allows one: %v, want proceed", v)
	}
}
