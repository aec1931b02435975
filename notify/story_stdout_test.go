package notify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wirewatch/wirewatch/store"
)

// On stdout, the parent's own item matched by a second rule of the same
// channel is "also matches rule", not "also reported by" its own source.
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
	if !strings.Contains(s, "[#desk] also matches rule Talks collapse: "+parent.Title+"\n") || strings.Contains(s, "also reported by Dawn") {
		t.Errorf("stdout:\n%s", s)
	}
	if !strings.Contains(s, "[#desk] also reported by Geo News: "+geo.Title+"\n") {
		t.Errorf("stdout lost the other source's report:\n%s", s)
	}
}
