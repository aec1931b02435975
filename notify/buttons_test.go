package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/store"
)

func buttonsAlert() store.Alert {
	return store.Alert{ID: "0123456789abcdef0123456789abcdef", Kind: store.KindItem, Channel: "#desk", FeedName: "Dawn",
		Rule: "Cross-border <strikes>", Title: "Pakistan warns", Link: "https://www.dawn.com/news/1", Snippet: "strike deep into Afghanistan",
		Marks: [][2]int{{0, 6}}}
}

func blocksJSON(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// blockTexts is every text of blocks, decoded, one per line.
func blockTexts(t *testing.T, blocks []slack.Block) string {
	t.Helper()
	return slackfake.BlocksText([]byte(blocksJSON(t, blocks)))
}

func TestRenderInteractiveHasTheButtons(t *testing.T) {
	a := buttonsAlert()
	_, blocks := RenderInteractive(a, AlertState{})
	last, ok := blocks[len(blocks)-1].(*slack.ActionBlock)
	if !ok || last.BlockID != AlertBlockPrefix+a.ID || len(last.Elements.ElementSet) != 4 {
		t.Fatalf("actions block: %s", blocksJSON(t, blocks))
	}
	js := blocksJSON(t, blocks)
	for _, want := range []string{`"action_id":"ww.open"`, `"url":"https://www.dawn.com/news/1"`,
		`"action_id":"ww.not_relevant","value":"` + a.ID, `"action_id":"ww.mute_story","value":"` + a.ID,
		`"action_id":"ww.mute_rule"`, `"value":"forever"`, `"text":"Until unmuted"`} {
		if !strings.Contains(js, want) {
			t.Errorf("blocks lack %s:\n%s", want, js)
		}
	}
	// Plain Render (no app token) keeps its one Open button.
	if js := blocksJSON(t, func() []slack.Block { _, b := Render(a); return b }()); strings.Contains(js, "ww.not_relevant") {
		t.Error("Render without the app has buttons")
	}
}

func TestRenderInteractiveShowsTheState(t *testing.T) {
	a := buttonsAlert()
	until := time.Date(2026, 6, 3, 18, 0, 0, 0, time.UTC)
	_, blocks := RenderInteractive(a, AlertState{NotRelevantBy: "U01MARIA", StoryMutedBy: "U> <!channel", RuleMutedBy: "W02OMAR", RuleMutedUntil: until})
	js := blockTexts(t, blocks)
	for _, want := range []string{"Marked not relevant by <@U01MARIA>", "Story muted by someone", "Rule *Cross-border &lt;strikes&gt;* muted until <!date^1780509600^{date_short_pretty} {time}|3 Jun 2026 18:00 UTC> by <@W02OMAR>"} {
		if !strings.Contains(js, want) {
			t.Errorf("blocks lack %q:\n%s", want, js)
		}
	}
	if strings.Contains(js, "!channel") {
		t.Error("a forged user id became a broadcast")
	}
	last := blocks[len(blocks)-1].(*slack.ActionBlock)
	if len(last.Elements.ElementSet) != 1 {
		t.Fatalf("used buttons stay: %s", js)
	}
}
