package storewatch

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// failing is a real store whose writes the test can make fail, the way a
// full disk or a database that is down fails them.
type failing struct {
	store.Store
	down      atomic.Bool
	refuseOps atomic.Bool // Enqueue fails even while Heartbeat works
}

var errDown = errors.New("database or disk is full (13)")

func (f *failing) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Heartbeat(ctx, owner, now)
}

func (f *failing) Enqueue(ctx context.Context, as []store.Alert) (int, error) {
	if f.down.Load() || f.refuseOps.Load() {
		return 0, errDown
	}
	return f.Store.Enqueue(ctx, as)
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func opsMessages(t *testing.T, st store.Store) []store.Alert {
	t.Helper()
	as, err := st.Alerts(context.Background(), store.AlertFilter{Channel: "#ops"})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func newWatch(st Store, c *clock, owner string, m *metrics.Set) *Watch {
	return New(Options{Store: st, Owner: owner, What: "the SQLite store (test.db)", OpsChannel: "#ops", After: time.Minute, Every: 5 * time.Second, Now: c.Now, Metrics: m})
}

// run advances the clock by step and checks, n times.
func run(ctx context.Context, c *clock, step time.Duration, n int, ws ...*Watch) {
	for range n {
		c.now = c.now.Add(step)
		for _, w := range ws {
			w.Check(ctx)
		}
	}
}

func TestOneMessagePerOutage(t *testing.T) {
	ctx := context.Background()
	st := &failing{Store: storetest.OpenSQLite(t)}
	c := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	m := metrics.New()
	w := newWatch(st, c, "a", m)
	run(ctx, c, 5*time.Second, 3, w)

	// A blip shorter than After is no outage.
	st.down.Store(true)
	run(ctx, c, 5*time.Second, 6, w) // 30 s
	st.down.Store(false)
	run(ctx, c, 5*time.Second, 2, w)
	if got := opsMessages(t, st); len(got) != 0 {
		t.Fatalf("a 30 s blip sent %d ops messages: %q", len(got), got[0].Text)
	}

	// Five minutes of failures: one message, after the store works again.
	st.down.Store(true)
	began := c.now.Add(5 * time.Second)
	run(ctx, c, 5*time.Second, 60, w)
	if got := opsMessages(t, st); len(got) != 0 {
		t.Fatalf("a message was queued while the store was down: %q", got[0].Text)
	}
	st.down.Store(false)
	run(ctx, c, 5*time.Second, 20, w)
	got := opsMessages(t, st)
	if len(got) != 1 {
		t.Fatalf("%d ops messages after a 5 min outage, want 1", len(got))
	}
	text := got[0].Text
	for _, want := range []string{"Store outage", "the SQLite store (test.db)", began.Format("2006-01-02 15:04:05 UTC"), "(5m0s)", "database or disk is full"} {
		if !strings.Contains(text, want) {
			t.Errorf("ops message %q does not say %q", text, want)
		}
	}
	if got[0].Kind != store.KindOps {
		t.Errorf("message kind %q, want ops", got[0].Kind)
	}
}

// The store takes the heartbeat again before it takes the message: the
// message is queued at the next check that can.
func TestMessageWaitsForTheStore(t *testing.T) {
	ctx := context.Background()
	st := &failing{Store: storetest.OpenSQLite(t)}
	c := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	w := newWatch(st, c, "a", nil)
	st.down.Store(true)
	run(ctx, c, 5*time.Second, 20, w)
	st.down.Store(false)
	// The heartbeat works, the message does not go in yet.
	st.refuseOps.Store(true)
	run(ctx, c, 5*time.Second, 3, w)
	if w.pending == nil {
		t.Fatal("the message was dropped when the store refused it")
	}
	st.refuseOps.Store(false)
	st.down.Store(false)
	run(ctx, c, 5*time.Second, 1, w)
	if got := opsMessages(t, st); len(got) != 1 {
		t.Fatalf("%d ops messages, want 1", len(got))
	}
}

// Three replicas on one store see one outage: one message.
func TestReplicasReportOnce(t *testing.T) {
	ctx := context.Background()
	st := &failing{Store: storetest.OpenSQLite(t)}
	c := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	ws := []*Watch{newWatch(st, c, "a", nil), newWatch(st, c, "b", nil), newWatch(st, c, "c", nil)}
	run(ctx, c, time.Second, 3, ws...)
	st.down.Store(true)
	// They notice at different times.
	run(ctx, c, time.Second, 1, ws[0])
	run(ctx, c, time.Second, 1, ws[0], ws[1])
	run(ctx, c, 5*time.Second, 30, ws...)
	st.down.Store(false)
	// And see the store back at different times, across a minute.
	c.now = c.now.Truncate(time.Minute).Add(time.Minute - time.Second)
	run(ctx, c, time.Second, 1, ws[2])
	run(ctx, c, time.Second, 1, ws[0])
	run(ctx, c, 5*time.Second, 5, ws...)
	if got := opsMessages(t, st); len(got) != 1 {
		t.Fatalf("three replicas queued %d messages about one outage, want 1", len(got))
	}
	// A second outage later is a second message.
	st.down.Store(true)
	run(ctx, c, 5*time.Second, 30, ws...)
	st.down.Store(false)
	run(ctx, c, 5*time.Second, 5, ws...)
	if got := opsMessages(t, st); len(got) != 2 {
		t.Fatalf("%d messages after two outages, want 2", len(got))
	}
}

// Without an ops channel the outage is logged and counted only.
func TestNoOpsChannel(t *testing.T) {
	ctx := context.Background()
	st := &failing{Store: storetest.OpenSQLite(t)}
	c := &clock{now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	m := metrics.New()
	w := New(Options{Store: st, Owner: "a", After: time.Minute, Now: c.Now, Metrics: m})
	st.down.Store(true)
	run(ctx, c, 5*time.Second, 20, w)
	st.down.Store(false)
	run(ctx, c, 5*time.Second, 2, w)
	as, err := st.Alerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 0 {
		t.Fatalf("%d alerts queued without an ops channel", len(as))
	}
}
