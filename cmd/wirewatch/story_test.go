package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// storyRule is the example "Cross-border strikes" rule, routed to #desk.
func storyRule(t *testing.T) string {
	t.Helper()
	for _, block := range strings.Split(exampleRules(t), "\n[[rules]]\n") {
		if strings.Contains(block, `name = "Cross-border strikes"`) {
			block = strings.TrimPrefix(block, "\n[[rules]]\n")
			lines := strings.Split(block, "\n")
			for i, l := range lines {
				if strings.HasPrefix(l, "channels = ") {
					lines[i] = `channels = ["#desk"]`
				}
			}
			return "\n[[rules]]\n" + strings.Join(lines, "\n")
		}
	}
	t.Fatal("no Cross-border strikes rule in config.example.toml")
	return ""
}

// TestStoryThreadsEndToEnd is issue 8's acceptance test: three loopback
// feeds publish the same story in different words, and one of them a
// different story on the same topic. Slack gets two top-level alerts; the
// first has the two other reports as thread replies and says three sources.
func TestStoryThreadsEndToEnd(t *testing.T) {
	dawn, _ := feedServer(t, "story-dawn.rss")
	geo, _ := feedServer(t, "story-geo.rss")
	tribune, _ := feedServer(t, "story-tribune.rss")
	slack := slackfake.New()
	defer slack.Close()
	dir := t.TempDir()
	var feeds strings.Builder
	for _, f := range []struct{ name, url string }{{"Dawn", dawn.URL}, {"Geo News", geo.URL}, {"The Express Tribune", tribune.URL}} {
		fmt.Fprintf(&feeds, "\n[[feeds]]\nname = %q\nurl = %q\n", f.name, f.url)
	}
	cfgPath := writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[slack]\ntoken = \"xoxb-story\"\napi_url = %q\ninterval = \"20ms\"\n[fetch]\nallow_private = true\n",
		filepath.Join(dir, "state.db"), slack.APIURL())+feeds.String()+storyRule(t))

	for range 2 { // the second run must add nothing
		if _, stderr, code := wirewatch(t, nil, "once", "-config", cfgPath); code != 0 {
			t.Fatalf("once: exit %d\n%s", code, stderr)
		}
	}
	var top, replies []slackfake.Message
	for _, m := range slack.MessagesIn("desk") {
		if m.ThreadTS == "" {
			top = append(top, m)
		} else {
			replies = append(replies, m)
		}
	}
	if len(top) != 2 {
		t.Fatalf("%d top-level alerts, want 2 (the Asif story and the Paktika story):\n%v", len(top), sentMessages(slack))
	}
	var asif slackfake.Message
	for _, m := range top {
		if strings.Contains(m.Text+string(m.Blocks), "Asif") || strings.Contains(m.Text+string(m.Blocks), "Defence minister") {
			asif = m
		}
	}
	if asif.TS == "" {
		t.Fatalf("no top-level alert for the Asif story: %v", sentMessages(slack))
	}
	if len(replies) != 2 {
		t.Fatalf("%d thread replies, want 2", len(replies))
	}
	for _, r := range replies {
		if r.ThreadTS != asif.TS {
			t.Errorf("reply %q is in thread %s, want the Asif story's %s", r.Text, r.ThreadTS, asif.TS)
		}
		if !strings.Contains(r.Text+string(r.Blocks), "Also reported by") {
			t.Errorf("reply does not say who else reported it: %q", r.Text)
		}
	}
	updated := slack.MessagesIn("desk")
	for _, m := range updated {
		if m.TS == asif.TS && m.Updates == 0 {
			t.Errorf("the first alert was not updated with its sources")
		}
		if m.TS == asif.TS && !strings.Contains(m.Text+string(m.Blocks), "3 outlets since ") {
			t.Errorf("the first alert does not say 3 outlets since when: %s", m.Blocks)
		}
	}
}

// TestTryShowsStories: try lists the groups it would form over several
// feeds, and explains each: which report is the alert, the similarity that
// joined each other report, in text and in -json.
func TestTryShowsStories(t *testing.T) {
	srcs := []string{filepath.Join("testdata", "story-dawn.rss"), filepath.Join("testdata", "story-geo.rss"), filepath.Join("testdata", "story-tribune.rss")}
	stdout, stderr, code := wirewatch(t, nil, append([]string{"try", "-query", "strike AND Afghanistan"}, srcs...)...)
	if code != 0 {
		t.Fatalf("try: exit %d: %s", code, stderr)
	}
	i := strings.Index(stdout, "STORIES")
	if i < 0 || !strings.Contains(stdout[i:], "3 reports") || strings.Contains(stdout[i:], "Paktika") {
		t.Errorf("try does not show the three reports as one story (and the Paktika story apart):\n%s", stdout)
	}
	// The story lists its alert and two reports joined at a similarity.
	joined := regexp.MustCompile(`\): joined at (0\.\d\d|1\.00)\n`).FindAllString(stdout[i:], -1)
	if !strings.Contains(stdout[i:], "): the alert\n") || len(joined) != 2 {
		t.Errorf("the story does not show its alert and the similarity of its two other reports:\n%s", stdout[i:])
	}
	// Each match says whether it opens a story or joins one, and at what
	// similarity: two alerts (the Asif and Paktika stories), two replies.
	if n := strings.Count(stdout, "  story: new (an alert)\n"); n != 2 {
		t.Errorf("%d matches open a story, want 2:\n%s", n, stdout)
	}
	if n := len(regexp.MustCompile(`  story: joins "[^"]+" at similarity 0\.\d\d \(a reply in its thread\)\n`).FindAllString(stdout, -1)); n != 2 {
		t.Errorf("%d matches join a story with their similarity, want 2:\n%s", n, stdout)
	}

	stdout, _, _ = wirewatch(t, nil, append([]string{"try", "-json", "-query", "strike AND Afghanistan"}, srcs...)...)
	stories := map[string]int{}
	firsts, joins := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m tryMatch
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if !strings.Contains(line, `"story_similarity":`) {
			t.Errorf("no story_similarity in %s", line)
		}
		stories[m.Story]++
		switch {
		case m.StorySimilarity == 0:
			firsts++
		case m.StorySimilarity > 0 && m.StorySimilarity <= 1:
			joins++
		default:
			t.Errorf("story_similarity %v out of range: %s", m.StorySimilarity, line)
		}
	}
	if len(stories) != 2 || firsts != 2 || joins != 2 {
		t.Errorf("try -json: %d stories (want 2), %d first reports (want 2), %d joined with a similarity (want 2): %v", len(stories), firsts, joins, stories)
	}
}

// TestTryExplainsStoriesOnARealFeed runs try over a real topic feed (BBC
// News Urdu's page on US aid to Pakistan, five months of reports about the
// same people): it must not make one story of the topic. Only a report
// published within the story window of an earlier one may join it, and
// each join shows its similarity.
func TestTryExplainsStoriesOnARealFeed(t *testing.T) {
	stdout, stderr, code := wirewatch(t, nil, "try", "-json", "-query", "پاکستان OR امریکہ", filepath.Join("testdata", "bbc-urdu_miniflux.xml"))
	if code != 0 {
		t.Fatalf("try: exit %d: %s", code, stderr)
	}
	type report struct {
		seen time.Time
		sim  float64
	}
	byStory := map[string][]report{}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m tryMatch
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		n++
		byStory[m.Story] = append(byStory[m.Story], report{m.Seen, m.StorySimilarity})
	}
	if n < 20 {
		t.Fatalf("%d matches, want the feed's 20 or more reports", n)
	}
	if len(byStory) < n*3/4 {
		t.Errorf("%d reports make only %d stories: a topic page is not one story", n, len(byStory))
	}
	joined := 0
	for id, rs := range byStory {
		first := rs[0]
		for _, r := range rs[1:] {
			if r.sim <= 0 || r.sim > 1 {
				t.Errorf("story %s: a report joined at similarity %v", id, r.sim)
			}
			if d := r.seen.Sub(first.seen).Abs(); d >= 24*time.Hour {
				t.Errorf("story %s: a report %v from its first joined it, beyond the 24h window", id, d)
			}
			joined++
		}
	}
	t.Logf("%d reports, %d stories, %d joined", n, len(byStory), joined)
}
