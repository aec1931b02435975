package notify

import (
	"testing"
	"time"
)

// TestPacer: Burst messages may go at once, then one per Interval; a 429
// holds the channel until its Retry-After, then lets one message go; other
// channels are not affected.
func TestPacer(t *testing.T) {
	p := &pacer{interval: time.Second, burst: 3, tat: map[string]time.Time{}}
	now := t0
	for i := range 3 {
		if r := p.ready("#a", now); r.After(now) {
			t.Fatalf("message %d of the burst must go at once, not at %v", i+1, r)
		}
		p.take("#a", now)
	}
	if r := p.ready("#a", now); !r.Equal(now.Add(time.Second)) {
		t.Errorf("after the burst the next message goes at %v, want 1s later", r.Sub(now))
	}
	if r := p.ready("#b", now); r.After(now) {
		t.Errorf("another channel waits until %v", r)
	}

	later := now.Add(10 * time.Second) // the burst has refilled
	p.block("#a", later.Add(30*time.Second))
	if r := p.ready("#a", later); !r.Equal(later.Add(30 * time.Second)) {
		t.Errorf("after a 429 the channel may go at %v, want the Retry-After (30s)", r.Sub(later))
	}
	p.take("#a", later.Add(30*time.Second))
	if r := p.ready("#a", later.Add(30*time.Second)); !r.Equal(later.Add(31 * time.Second)) {
		t.Errorf("after the Retry-After one message goes, the next at %v, want 1s later", r.Sub(later.Add(30*time.Second)))
	}
}

// TestPaceStage: the stage stops the channel while the pacer says wait,
// and never paces stdout.
func TestPaceStage(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	for _, c := range []struct {
		name string
		o    Options
		want next
	}{
		{"slack", Options{Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/", Interval: time.Second, Burst: 1}, stop},
		{"stdout", Options{Out: &discardWriter{}, Interval: time.Second, Burst: 1}, proceed},
	} {
		c.o.Store, c.o.Now = st, clk.Now
		n := newNotifier(t, c.o)
		d := &delivery{ch: "#desk"}
		if v := n.paceStage(d, &message{}); v != proceed {
			t.Errorf("%s: the first message waits", c.name)
		}
		n.pc.take("#desk", clk.Now())
		if v := n.paceStage(d, &message{}); v != c.want {
			t.Errorf("%s: the second message at once: %v, want %v", c.name, v, c.want)
		}
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
