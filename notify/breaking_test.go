package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

func TestBreakingSpan(t *testing.T) {
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	b := store.Breaking{Outlets: 3, Within: time.Hour}
	for _, tc := range []struct {
		name    string
		reports []report
		outlets int
		span    time.Duration
		ok      bool
	}{
		{"too few outlets", []report{{"A", at(0)}, {"B", at(5)}}, 0, 0, false},
		{"one outlet three times is one outlet", []report{{"A", at(0)}, {"A", at(1)}, {"A", at(2)}, {"B", at(3)}}, 0, 0, false},
		{"three within the hour", []report{{"A", at(0)}, {"B", at(20)}, {"C", at(38)}}, 3, 38 * time.Minute, true},
		{"spread over two hours", []report{{"A", at(0)}, {"B", at(50)}, {"C", at(100)}}, 0, 0, false},
		{"a later window", []report{{"A", at(0)}, {"B", at(70)}, {"C", at(80)}, {"D", at(90)}}, 3, 20 * time.Minute, true},
		{"every outlet within the window counts", []report{{"A", at(0)}, {"B", at(1)}, {"C", at(2)}, {"D", at(59)}, {"E", at(61)}}, 4, 59 * time.Minute, true},
	} {
		n, span, ok := breakingSpan(tc.reports, b)
		if n != tc.outlets || span != tc.span || ok != tc.ok {
			t.Errorf("%s: (%d, %s, %v), want (%d, %s, %v)", tc.name, n, span, ok, tc.outlets, tc.span, tc.ok)
		}
	}
	if got := BreakingLine(5, 38*time.Minute); got != "Breaking: 5 outlets in 38 min" {
		t.Errorf("BreakingLine = %q", got)
	}
	if got := BreakingLine(4, 10*time.Second); got != "Breaking: 4 outlets within a minute" {
		t.Errorf("BreakingLine = %q", got)
	}
}

// A story reported by a fourth outlet within the hour is breaking: its
// parent says so and one message goes to the escalation channel, though
// the reply that crossed the threshold failed once and was delivered
// again, and though a later report is delivered by another process.
func TestBreakingEscalatesOnce(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	clk := newClock()
	st := openStore(t)
	b := &store.Breaking{Outlets: 4, Within: time.Hour, EscalateTo: "#breaking"}
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	parent.Breaking = b
	enqueue(t, st, parent)
	opts := Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), Now: clk.Now, Sleep: clk.Sleep}
	n := newNotifier(t, opts)
	drain(t, n)
	outlets := []struct{ key, name string }{{"geo", "Geo News"}, {"reuters", "Reuters"}, {"tribune", "The Express Tribune"}}
	for i, o := range outlets {
		clk.Advance(10 * time.Minute)
		f := storyFollowUp(parent, o.key, o.name, 2+i, clk.Now())
		f.Breaking = b
		enqueue(t, st, f)
		if i == 2 {
			// The reply that makes the story breaking fails once.
			fake.Inject(slackfake.Rule{Method: slackfake.MethodPostMessage, Channel: "desk"}, slackfake.HTTPError(500), 1)
		}
		drain(t, n)
		if i < 2 && len(fake.MessagesIn("breaking")) != 0 {
			t.Fatalf("escalated after %d outlets", i+2)
		}
	}
	top := fake.TopLevel("desk")
	if len(top) != 1 {
		t.Fatalf("%d top-level messages in #desk, want 1", len(top))
	}
	p, _ := fake.Message("desk", top[0].TS)
	if txt := slackfake.BlocksText(p.Blocks); !strings.Contains(txt, "Breaking: 4 outlets in 30 min") || !strings.HasPrefix(p.Text, "Breaking: 4 outlets in 30 min") {
		t.Errorf("parent not marked breaking:\n%s\n%s", p.Text, txt)
	}

	// Another process delivers a fifth report.
	clk.Advance(5 * time.Minute)
	f := storyFollowUp(parent, "aje", "Al Jazeera", 9, clk.Now())
	f.Breaking = b
	enqueue(t, st, f)
	opts.Owner = "other-replica"
	drain(t, newNotifier(t, opts))
	p, _ = fake.Message("desk", top[0].TS)
	if txt := slackfake.BlocksText(p.Blocks); !strings.Contains(txt, "Breaking: 5 outlets in 35 min") {
		t.Errorf("parent not updated with the fifth outlet:\n%s", txt)
	}

	esc := fake.MessagesIn("breaking")
	if len(esc) != 1 {
		t.Fatalf("%d messages in #breaking, want exactly 1", len(esc))
	}
	txt := slackfake.BlocksText(esc[0].Blocks)
	if !strings.Contains(txt, "Breaking in #desk: 4 outlets in 30 min (Dawn, Geo News, Reuters, The Express Tribune)") || !strings.Contains(txt, parent.Title) {
		t.Errorf("escalation message:\n%s", txt)
	}
	id := store.BreakingAlertID(parent, "#breaking")
	if a := sentAlert(t, st, id); a.Channel != "#breaking" || a.SlackTS != esc[0].TS {
		t.Errorf("escalation alert %+v", a)
	}
}

// Without an escalation channel the story is still marked breaking, and
// on standard output the report that crossed the threshold says so.
func TestBreakingStdout(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	b := &store.Breaking{Outlets: 2, Within: time.Hour}
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	parent.Breaking = b
	clk.Advance(3 * time.Minute)
	f := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	f.Breaking = b
	enqueue(t, st, parent, f)
	var out strings.Builder
	drain(t, newNotifier(t, Options{Store: st, Now: clk.Now, Sleep: clk.Sleep, Out: &out}))
	if s := out.String(); !strings.Contains(s, "[#desk] Breaking: 2 outlets in 3 min: "+parent.Title+"\n") {
		t.Errorf("stdout:\n%s", s)
	}
}
