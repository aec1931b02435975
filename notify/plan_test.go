package notify

import (
	"context"
	"slices"
	"testing"

	"github.com/wirewatch/wirewatch/store"
)

// planned describes messages as the ids they carry, "+" marking a grouped
// (digest, burst or cap summary) message.
func planned(msgs []*message) []string {
	var out []string
	for _, m := range msgs {
		s := ""
		if len(m.ids) > 1 || (len(m.alerts) == 1 && m.alerts[0].Digest != "") {
			s = "+"
		}
		for _, id := range m.ids {
			s += id + " "
		}
		out = append(out, s)
	}
	return out
}

// TestPlan: ops and single alerts are one message each; the alerts of one
// digest one summary; more than BurstGroup plain alerts one grouped
// message in the place of the first; a story follow-up is never grouped;
// past the channel cap the rest becomes one summary; stdout never groups.
func TestPlan(t *testing.T) {
	alert := func(id string, mod func(*store.Alert)) store.Alert {
		a := itemAlert("#desk", 0, t0)
		a.ID = id
		if mod != nil {
			mod(&a)
		}
		return a
	}
	ops := func(a *store.Alert) { a.Kind = store.KindOps }
	digest := func(a *store.Alert) { a.Digest = "0 9 * * *" }
	followUp := func(a *store.Alert) { a.StoryID = "p" }
	slackOpts := Options{Token: "xoxb-test", APIURL: "http://127.0.0.1:1/api/"}
	for _, c := range []struct {
		name  string
		o     Options
		posts int // top-level posts already in the cap's hour
		batch []store.Alert
		want  []string
	}{
		{"singles", Options{BurstGroup: 5},
			0, []store.Alert{alert("a", nil), alert("o", ops), alert("b", nil)},
			[]string{"a ", "o ", "b "}},
		{"digest", Options{BurstGroup: 5},
			0, []store.Alert{alert("a", nil), alert("d1", digest), alert("b", nil), alert("d2", digest)},
			[]string{"a ", "+d1 d2 ", "b "}},
		{"burst", Options{BurstGroup: 2},
			0, []store.Alert{alert("o", ops), alert("a", nil), alert("b", nil), alert("f", followUp), alert("c", nil)},
			[]string{"o ", "+a b c ", "f "}},
		{"cap", Options{BurstGroup: -1, ChannelCap: 3},
			1, []store.Alert{alert("a", nil), alert("o", ops), alert("b", nil), alert("c", nil), alert("d", nil)},
			[]string{"a ", "o ", "+b c d "}},
		{"stdout", Options{Out: discardWriter{}, BurstGroup: 1},
			0, []store.Alert{alert("a", nil), alert("b", nil), alert("d1", digest), alert("d2", digest)},
			[]string{"a ", "b ", "+d1 ", "+d2 "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			o := c.o
			if o.Out == nil {
				o.Token, o.APIURL = slackOpts.Token, slackOpts.APIURL
			}
			o.Store, o.Now = openStore(t), clk.Now
			n := newNotifier(t, o)
			for range c.posts {
				n.capTake(context.Background(), "#desk", t0)
			}
			if got := planned(n.plan(context.Background(), "#desk", c.batch)); !slices.Equal(got, c.want) {
				t.Errorf("planned %q, want %q", got, c.want)
			}
		})
	}
}
