package liverules

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "w.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// applied records the rule sets a Live hands over.
type applied struct {
	mu   sync.Mutex
	sets []*monitor.RuleSet
	ch   chan struct{}
}

func (a *applied) apply(rs *monitor.RuleSet) {
	a.mu.Lock()
	a.sets = append(a.sets, rs)
	a.mu.Unlock()
	select {
	case a.ch <- struct{}{}:
	default:
	}
}

func (a *applied) last() *monitor.RuleSet {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sets[len(a.sets)-1]
}

func names(rs *monitor.RuleSet) []string {
	var out []string
	for n := range rs.Routes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func configPart(t *testing.T) Config {
	r, err := rules.Compile("Strikes", `strike* AND Afghanistan`)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Rules: []*rules.Rule{r}, Routes: map[string]monitor.Route{"Strikes": {Channels: []string{"#desk"}, Group: true}}, DefaultChannel: "#news"}
}

func act(key string) store.Action {
	return store.Action{Key: key, User: "U1", At: t0, Action: "test"}
}

func TestMergesEditorRulesAndMutes(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ap := &applied{ch: make(chan struct{}, 1)}
	now := t0
	l := New(Options{Source: st, Apply: ap.apply, Now: func() time.Time { return now }}, configPart(t))
	if _, err := l.Refresh(ctx, true); err != nil {
		t.Fatal(err)
	}
	if got := names(ap.last()); !slices.Equal(got, []string{"Strikes"}) {
		t.Fatalf("rules %v", got)
	}
	// An editor's rule, one that does not compile, and one with a config rule's name.
	for i, r := range []store.EditorRule{
		{Name: "Floods", Query: "flood* AND Sindh", Author: "U1"},
		{Name: "Broken", Query: `"unbalanced`, Author: "U1"},
		{Name: "Strikes", Query: "other", Author: "U1"},
	} {
		if _, err := st.SaveEditorRule(ctx, r, 0, act(string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if did, err := l.Refresh(ctx, false); err != nil || !did {
		t.Fatalf("refresh after a change: %v %v", did, err)
	}
	rs := ap.last()
	if got := names(rs); !slices.Equal(got, []string{"Floods", "Strikes"}) {
		t.Fatalf("rules %v", got)
	}
	if rt := rs.Routes["Floods"]; !slices.Equal(rt.Channels, []string{"#news"}) || !rt.Group {
		t.Fatalf("an editor's rule without channels: %+v", rt)
	}
	if rt := rs.Routes["Strikes"]; !slices.Equal(rt.Channels, []string{"#desk"}) {
		t.Fatalf("the config rule lost to an editor's rule of its name: %+v", rt)
	}
	a := rules.Analyze(rules.Document{Title: "Floods in Sindh"})
	if ms := rs.Index.Match(a); len(ms) != 1 || ms[0].Rule.Name() != "Floods" {
		t.Fatalf("the editor's rule does not match: %v", ms)
	}
	// Nothing changed: no new rule set.
	if did, _ := l.Refresh(ctx, false); did {
		t.Fatal("a refresh without a change applied a rule set")
	}

	// A rule mute reaches the route; a story mute holds back follow-ups.
	if err := st.Mute(ctx, store.Mute{Kind: store.MuteRule, Target: "Floods", Until: t0.Add(time.Hour), By: "U2", At: t0}, act("m1")); err != nil {
		t.Fatal(err)
	}
	if err := st.Mute(ctx, store.Mute{Kind: store.MuteStory, Target: "story1", Forever: true, By: "U3", At: t0}, act("m2")); err != nil {
		t.Fatal(err)
	}
	if did, err := l.Refresh(ctx, false); !did || err != nil {
		t.Fatalf("refresh after mutes: %v %v", did, err)
	}
	if got := ap.last().Routes["Floods"].MuteUntil; !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("rule mute: MuteUntil %v", got)
	}
	for _, c := range []struct {
		a     store.Alert
		muted bool
	}{
		{store.Alert{ID: "x1", Kind: store.KindItem, Rule: "Floods"}, true},
		{store.Alert{ID: "x2", Kind: store.KindItem, Rule: "Strikes", StoryID: "story1"}, true},
		{store.Alert{ID: "story1", Kind: store.KindItem, Rule: "Strikes", StoryID: "story1"}, false}, // the story's own message
		{store.Alert{ID: "x3", Kind: store.KindItem, Rule: "Strikes"}, false},
		{store.Alert{ID: "x4", Kind: store.KindOps, Rule: "Floods"}, false},
	} {
		if _, got := l.Muted(c.a, t0.Add(time.Minute)); got != c.muted {
			t.Errorf("Muted(%+v) = %v", c.a, got)
		}
	}
	if _, got := l.Muted(store.Alert{ID: "x1", Kind: store.KindItem, Rule: "Floods"}, t0.Add(2*time.Hour)); got {
		t.Error("a mute of one hour still holds after two")
	}
	if !l.StoryMuted("story1", t0) || l.StoryMuted("story2", t0) {
		t.Error("StoryMuted")
	}
	stt, err := l.AlertState(ctx, store.Alert{ID: "x2", Kind: store.KindItem, Rule: "Floods", StoryID: "story1"})
	if err != nil || stt.StoryMutedBy != "U3" || stt.RuleMutedBy != "U2" || !stt.RuleMutedUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("state %+v %v", stt, err)
	}

	// Retiring removes the rule.
	cur, _ := st.EditorRule(ctx, "Floods")
	cur.Deleted = true
	if _, err := st.SaveEditorRule(ctx, cur, cur.Version, act("r1")); err != nil {
		t.Fatal(err)
	}
	l.Refresh(ctx, false)
	if got := names(ap.last()); !slices.Equal(got, []string{"Strikes"}) {
		t.Fatalf("after retiring: %v", got)
	}
}

func TestRunFollowsTheStore(t *testing.T) {
	st := openStore(t)
	ap := &applied{ch: make(chan struct{}, 1)}
	l := New(Options{Source: st, Apply: ap.apply, Interval: 20 * time.Millisecond}, configPart(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-ap.ch // the first read
	if _, err := st.SaveEditorRule(context.Background(), store.EditorRule{Name: "Floods", Query: "flood", Author: "U1"}, 0, act("a")); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for !slices.Contains(names(ap.last()), "Floods") {
		select {
		case <-ap.ch:
		case <-deadline:
			t.Fatal("a saved rule was not picked up")
		}
	}
	// SetConfig (a reload) keeps the editors' rules.
	cfg := configPart(t)
	delete(cfg.Routes, "Strikes")
	cfg.Rules = nil
	l.SetConfig(cfg)
	if got := names(ap.last()); !slices.Equal(got, []string{"Floods"}) {
		t.Fatalf("after a reload: %v", got)
	}
}
