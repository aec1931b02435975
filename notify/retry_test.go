package notify

import (
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// TestBackoff: 2s doubling to at most 10 minutes, each with jitter in
// [d/2, d].
func TestBackoff(t *testing.T) {
	n := newNotifier(t, Options{Store: openStore(t)})
	for _, c := range []struct {
		attempts int
		max      time.Duration
	}{{0, 2 * time.Second}, {1, 4 * time.Second}, {3, 16 * time.Second}, {9, 10 * time.Minute}, {40, 10 * time.Minute}, {-1, 2 * time.Second}} {
		for range 50 {
			if d := n.backoff(c.attempts); d < c.max/2 || d > c.max {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", c.attempts, d, c.max/2, c.max)
			}
		}
	}
}

// TestDeadline: an alert is retried for RetryFor from its creation; a
// digest alert from when it first came due (it waits for its schedule by
// design), however long after its creation that was.
func TestDeadline(t *testing.T) {
	clk := newClock()
	n := newNotifier(t, Options{Store: openStore(t), Now: clk.Now, RetryFor: time.Hour})
	item := itemAlert("#desk", 1, t0)
	dig := itemAlert("#desk", 2, t0)
	dig.Digest, dig.NextAttempt = "0 9 * * *", t0.Add(20*time.Hour)
	n.noteDigests([]store.Alert{item, dig}, t0.Add(20*time.Hour+time.Minute))
	if got := n.deadline(item, clk.Now()); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("item alert's deadline %v, want its creation + RetryFor", got)
	}
	if got := n.deadline(dig, clk.Now()); !got.Equal(t0.Add(21 * time.Hour)) {
		t.Errorf("digest alert's deadline %v, want when it came due + RetryFor", got)
	}
	n.forget([]string{dig.ID})
	if got := n.deadline(dig, clk.Now()); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("a forgotten digest alert's deadline %v, want its creation + RetryFor", got)
	}
}
