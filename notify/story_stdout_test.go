package notify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/store"
)

// On stdout, the parent's own item matched by a second rule of the same
// channel is one alert that says "Also matches rule", not "also reported
// by" its own source; another outlet's report names its rule and how many
// outlets have the story since when.
func TestStdoutOtherRuleOfTheSameItem(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	parent := storyParent("#desk", "dawn", "Dawn", 1, clk.Now())
	other := parent
	other.Rule = "Talks collapse"
	other.ID = store.AlertID(parent.FeedKey, parent.ItemID, other.Rule, parent.Channel)
	other.StoryID, other.Signature = parent.ID, nil
	geo := storyFollowUp(parent, "geo", "Geo News", 2, clk.Now())
	enqueue(t, st, parent, other, geo)
	var out bytes.Buffer
	drain(t, newNotifier(t, Options{Store: st, Now: clk.Now, Sleep: clk.Sleep, Out: &out}))
	s := out.String()
	// One item, two rules: one block naming both.
	if strings.Count(s, parent.Title) != 1 || !strings.Contains(s, "  "+parent.Title+"\n  Also matches rule Talks collapse\n") || strings.Contains(s, "also reported by Dawn") {
		t.Errorf("stdout:\n%s", s)
	}
	if !strings.Contains(s, "[#desk] also reported by Geo News (rule: strikes): "+geo.Title+" — 2 outlets since 09:00 UTC\n") {
		t.Errorf("stdout lost the other source's report:\n%s", s)
	}
}
