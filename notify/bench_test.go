package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

// discardTransport stands in for Slack when measuring the pipeline's own
// cost: it serialises the blocks as a post would and accepts everything.
type discardTransport struct{ n int }

func (d *discardTransport) paced() bool   { return false }
func (d *discardTransport) kind() string  { return "discard" }
func (d *discardTransport) threads() bool { return false }
func (d *discardTransport) history(context.Context, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (d *discardTransport) replies(context.Context, string, string, []string) (map[string]string, error) {
	return nil, errNoHistory
}
func (d *discardTransport) update(context.Context, string, string, *message) error {
	return errNoUpdate
}

func (d *discardTransport) post(_ context.Context, m *message) (string, error) {
	if _, err := json.Marshal(m.blocks); err != nil {
		return "", err
	}
	d.n++
	return fmt.Sprintf("1700000000.%06d", d.n), nil
}

func benchAlerts(i, k int, now time.Time) []store.Alert {
	out := make([]store.Alert, k)
	for j := range out {
		out[j] = itemAlert(fmt.Sprintf("#desk-%d", (i+j)%4), i+j, now)
		out[j].ItemID = fmt.Sprint("bench-", i+j)
		out[j].ID = store.AlertID("dawn", out[j].ItemID, "strikes", out[j].Channel)
	}
	return out
}

// runPipelineBench enqueues alerts 10 at a time (one poll's worth), and
// drains them: outbox write, claim, render, post (to tr), mark sent. One op
// is one alert.
func runPipelineBench(b *testing.B, o Options, tr transport) {
	st := openStore(b)
	clk := newClock()
	o.Store, o.Now, o.Sleep, o.BurstGroup = st, clk.Now, clk.Sleep, -1
	o.Interval, o.Burst = time.Nanosecond, 1<<30 // exclude Slack's rate limit
	n := newNotifier(b, o)
	if tr != nil {
		n.tr = tr
	}
	ctx := context.Background()
	const perPoll = 10
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perPoll {
		if _, err := st.Enqueue(ctx, benchAlerts(i, min(perPoll, b.N-i), clk.Now())); err != nil {
			b.Fatal(err)
		}
		if err := n.Drain(ctx); err != nil {
			b.Fatal(err)
		}
		clk.Advance(time.Millisecond)
	}
	b.StopTimer()
	sent, err := st.Alerts(ctx, store.AlertFilter{State: store.StateSent})
	if err != nil || len(sent) != b.N {
		b.Fatalf("sent %d of %d: %v", len(sent), b.N, err)
	}
}

// BenchmarkPipeline is the pipeline's own overhead per alert against the
// real SQLite store, with a transport that only serialises the message.
func BenchmarkPipeline(b *testing.B) {
	runPipelineBench(b, Options{Token: "xoxb-bench"}, &discardTransport{})
}

// BenchmarkPipelineFakeSlack adds a real HTTP round trip per alert to the
// recording fake on loopback (pacing off).
func BenchmarkPipelineFakeSlack(b *testing.B) {
	fake := slackfake.New()
	defer fake.Close()
	runPipelineBench(b, Options{Token: "xoxb-bench", APIURL: fake.APIURL()}, nil)
}

func BenchmarkRender(b *testing.B) {
	a := itemAlert("#desk", 1, t0)
	a.Title = "Pakistan & India exchange fire across the Line of Control <!channel>"
	a.Snippet = "Troops exchanged fire along the Line of Control on Tuesday, officials said, in the latest cross-border strikes."
	a.Marks = [][2]int{{7, 21}, {89, 109}}
	b.ReportAllocs()
	for b.Loop() {
		_, blocks := Render(a)
		if len(blocks) == 0 {
			b.Fatal("no blocks")
		}
	}
}
