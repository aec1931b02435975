package monitor

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// An item matching two grouped rules of one channel is one report: both
// alerts are in one story, even when one rule has a cooldown (a story
// index of its own), and a later report matched only by that rule joins
// the same story. The alerts carry their channel's breaking threshold.
func TestItemOfTwoRulesIsOneStory(t *testing.T) {
	var wires []*wire
	var feeds []Feed
	for i := range 2 {
		w := &wire{}
		srv := httptest.NewServer(w)
		defer srv.Close()
		wires = append(wires, w)
		feeds = append(feeds, Feed{Key: fmt.Sprint("f", i), Name: fmt.Sprint("Feed ", i), URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour})
	}
	h := newHarness(t, feeds, map[string]string{"Strikes": `strike AND Afghanistan`, "Talks": `talks AND fail*`}, nil)
	rs := *h.mon.rules.Load()
	rs.Routes = map[string]Route{
		"Strikes": {Channels: []string{"#desk"}, Group: true},
		"Talks":   {Channels: []string{"#desk", "#diplomacy"}, Group: true, Window: 6 * time.Hour},
	}
	rs.Breaking = func(rule, channel string) store.Breaking {
		if channel == "#diplomacy" {
			return store.Breaking{} // off
		}
		return store.Breaking{Outlets: 3, Within: time.Hour, EscalateTo: "#breaking"}
	}
	h.mon.SetRules(&rs)
	tribune := storyItems[2] // strikes and talks
	wires[0].add(tribune.guid, tribune.title, tribune.lead, h.clock.Now())
	h.pollAll()
	h.clock.Advance(10 * time.Minute)
	wires[1].add("geo-talks", "Istanbul talks between Pakistan and Afghanistan fail, Asif says strikes deep into Afghanistan possible",
		"Khawaja Asif said the talks in Istanbul failed and Pakistan would strike deep into Afghanistan if attacks came from Afghan soil.", h.clock.Now())
	h.pollAll()

	var desk []store.Alert
	for _, a := range h.alerts() {
		switch a.Channel {
		case "#desk":
			desk = append(desk, a)
			if a.Breaking == nil || *a.Breaking != (store.Breaking{Outlets: 3, Within: time.Hour, EscalateTo: "#breaking"}) {
				t.Errorf("alert %s/%s in #desk has breaking threshold %+v", a.ItemID, a.Rule, a.Breaking)
			}
		case "#diplomacy":
			if a.Breaking != nil {
				t.Errorf("alert in #diplomacy carries a breaking threshold, though it is off there: %+v", a.Breaking)
			}
		}
	}
	if len(desk) != 4 {
		t.Fatalf("%d alerts in #desk, want 4 (2 items x 2 rules)", len(desk))
	}
	story := ""
	for _, a := range desk {
		if a.ItemID == tribune.guid && a.StoryID == a.ID {
			story = a.ID
		}
	}
	if story == "" {
		t.Fatal("the first item opened no story")
	}
	for _, a := range desk {
		if a.StoryID != story {
			t.Errorf("alert %s/%s is in story %q, want the first item's %q", a.ItemID, a.Rule, a.StoryID, story)
		}
	}
}
