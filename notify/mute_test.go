package notify

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

// fixedMutes mutes rules and stories by name, as liverules answers from
// the store.
type fixedMutes struct {
	mu      sync.Mutex
	rules   map[string]bool
	stories map[string]bool
}

func (f *fixedMutes) Muted(a store.Alert, now time.Time) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules[a.Rule] {
		return "rule " + a.Rule + " muted", true
	}
	if isFollowUp(a) && f.stories[a.StoryID] {
		return "story muted", true
	}
	return "", false
}

func (f *fixedMutes) StoryMuted(id string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stories[id]
}

// TestMutedAlertsAreNotPosted: alerts of a muted rule, and follow-ups of a
// muted story, are marked sent without reaching Slack, and a muted
// story's message is not updated; the rest goes out as ever.
func TestMutedAlertsAreNotPosted(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st := openStore(t)
	ctx := context.Background()
	parent := itemAlert("#desk", 1, t0)
	parent.StoryID = parent.ID
	mutes := &fixedMutes{rules: map[string]bool{}, stories: map[string]bool{}}
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), BurstGroup: -1, Interval: time.Millisecond, Mutes: mutes, Interactive: true})
	enqueue(t, st, parent)
	drain(t, n)

	mutes.stories[parent.ID] = true
	fu := itemAlert("#desk", 2, t0.Add(time.Minute))
	fu.StoryID, fu.FeedKey, fu.FeedName = parent.ID, "geo", "Geo"
	other := itemAlert("#desk", 3, t0.Add(time.Minute))
	other.Rule = "talks"
	other.ID = store.AlertID("dawn", other.ItemID, "talks", "#desk")
	mutedRule := itemAlert("#desk", 4, t0.Add(time.Minute))
	mutes.rules["strikes"] = true
	enqueue(t, st, fu, other, mutedRule)
	drain(t, n)

	if got := idsIn(fake, "desk"); !slices.Equal(got, []string{parent.ID, other.ID}) {
		t.Fatalf("Slack got %v, want the parent and the alert of the rule not muted", got)
	}
	for _, a := range []store.Alert{fu, mutedRule} {
		if got, _ := st.Alert(ctx, a.ID); got.State != store.StateSent || got.SlackTS != "" {
			t.Errorf("muted alert %s: %s ts %q, want sent without a message", a.ID, got.State, got.SlackTS)
		}
	}
	if m, _ := fake.Message("desk", fake.TopLevel("desk")[0].TS); m.Updates != 0 {
		t.Errorf("a muted story's message was updated %d times", m.Updates)
	}
	// Interactive alerts carry their buttons.
	if b := string(fake.TopLevel("desk")[1].Blocks); !strings.Contains(b, ActionNotRelevant) || !strings.Contains(b, AlertBlockPrefix+other.ID) {
		t.Errorf("interactive alert without its buttons: %s", b)
	}
}

type stateOf map[string]AlertState

func (s stateOf) AlertState(_ context.Context, a store.Alert) (AlertState, error) {
	return s[a.ID], nil
}

// TestStoryUpdateKeepsButtonsAndState: the update of a story's first
// message with more sources keeps its buttons and what readers did.
func TestStoryUpdateKeepsButtonsAndState(t *testing.T) {
	fake := slackfake.New()
	defer fake.Close()
	st := openStore(t)
	parent := itemAlert("#desk", 1, t0)
	parent.StoryID = parent.ID
	states := stateOf{parent.ID: {NotRelevantBy: "U0MARIA"}}
	n := newNotifier(t, Options{Store: st, Token: "xoxb-test", APIURL: fake.APIURL(), BurstGroup: -1, Interval: time.Millisecond, Interactive: true, States: states})
	enqueue(t, st, parent)
	drain(t, n)
	fu := itemAlert("#desk", 2, t0.Add(time.Minute))
	fu.StoryID, fu.FeedKey, fu.FeedName = parent.ID, "geo", "Geo"
	enqueue(t, st, fu)
	drain(t, n)
	m := fake.TopLevel("desk")[0]
	b := string(m.Blocks) + slackfake.BlocksText(m.Blocks)
	if m.Updates != 1 || !strings.Contains(b, "2 outlets since 09:00 UTC: also reported by Geo") || !strings.Contains(b, "Marked not relevant by <@U0MARIA>") ||
		strings.Contains(b, ActionNotRelevant) || !strings.Contains(b, ActionMuteStory) {
		t.Fatalf("updated story message (%d updates): %s", m.Updates, b)
	}
	// RenderMessage draws the same message, for the app's updates.
	text, blocks := n.RenderMessage(context.Background(), mustAlert(t, st, parent.ID), states[parent.ID])
	if !strings.Contains(text, "2 outlets since 09:00 UTC: also reported by Geo") || !strings.Contains(blockTexts(t, blocks), "Marked not relevant") {
		t.Fatalf("RenderMessage: %q %s", text, blockTexts(t, blocks))
	}
}

func mustAlert(t *testing.T, st store.Store, id string) store.Alert {
	t.Helper()
	a, err := st.Alert(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
