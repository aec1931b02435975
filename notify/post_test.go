package notify

import (
	"context"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

// TestPostStageEndsBeforeTheLease: a post Slack does not answer is given
// up at three quarters of the lease (counted from the claim), so that no
// post is still in flight when another process may take the channel over;
// its outcome is unknown.
func TestPostStageEndsBeforeTheLease(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	fake.FaultFunc(func(slackfake.Call) *slackfake.Fault {
		f := slackfake.AcceptHang(10 * time.Second)
		return &f
	})
	const lease = 800 * time.Millisecond
	n := newNotifier(t, Options{Store: openStore(t), Token: "xoxb-test", APIURL: fake.APIURL(), Lease: lease})
	a := itemAlert("#desk", 1, t0)
	m := &message{channel: "#desk", text: a.Title, alerts: []store.Alert{a}, ids: []string{a.ID}}
	d := &delivery{ctx: context.Background(), ch: "#desk", start: time.Now().Add(-lease / 4)}
	begun := time.Now()
	if v := n.postStage(d, m); v != proceed {
		t.Errorf("verdict %v, want proceed (recordStage decides)", v)
	}
	if took := time.Since(begun); took > lease {
		t.Errorf("the post took %v, longer than the lease", took)
	}
	if o, _, _ := classify(m.err); o != outUncertain {
		t.Errorf("a post cut off by the lease: %v (%v), want an unknown outcome", o, m.err)
	}
}
