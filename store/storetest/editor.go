package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// The desk's editorial state: versioned editor rules, mutes, feedback, the
// audit log (one entry per effect, whatever is delivered twice) and the
// change marker replicas poll.

func act(key, action, target string, at time.Time) store.Action {
	return store.Action{Key: key, User: "U0EDITOR", At: at, Action: action, Target: target}
}

func changes(t *testing.T, s store.Store) int64 {
	t.Helper()
	n, err := s.Changes(ctxT(t))
	must(t, err)
	return n
}

func auditKeys(t *testing.T, s store.Store) []string {
	t.Helper()
	as, err := s.Audit(ctxT(t), store.AuditFilter{})
	must(t, err)
	var out []string
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func testEditorRuleVersions(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	if rs, err := s.EditorRules(ctx); err != nil || len(rs) != 0 {
		t.Fatalf("empty store: %v %v", rs, err)
	}
	if _, err := s.EditorRule(ctx, "Floods"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown rule: %v", err)
	}
	c0 := changes(t, s)
	v1 := store.EditorRule{Name: "Floods", Query: "flood* AND Sindh", Channels: []string{"#desk", "C0123"},
		Examples: []string{"Floods in Sindh"}, Counterexamples: []string{"Flood of tourists", "Floodlights"}, Author: "U1", CreatedAt: T0}
	got, err := s.SaveEditorRule(ctx, v1, 0, act("k1", "rule.save", "Floods", T0))
	must(t, err)
	if got.Version != 1 {
		t.Fatalf("first save is version %d", got.Version)
	}
	if changes(t, s) <= c0 {
		t.Fatal("a save did not move the change marker")
	}
	// A new rule of a taken name, or an edit from an old version, conflicts.
	if _, err := s.SaveEditorRule(ctx, v1, 0, act("k2", "rule.save", "Floods", T0)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("new rule with a taken name: %v", err)
	}
	v2 := v1
	v2.Query, v2.Author, v2.CreatedAt, v2.Examples = "flood* AND (Sindh OR Punjab)", "U2", T0.Add(time.Minute), nil
	got, err = s.SaveEditorRule(ctx, v2, 1, act("k3", "rule.save", "Floods", T0.Add(time.Minute)))
	must(t, err)
	if got.Version != 2 {
		t.Fatalf("second save is version %d", got.Version)
	}
	if _, err := s.SaveEditorRule(ctx, v2, 1, act("k4", "rule.save", "Floods", T0.Add(time.Minute))); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("edit from an old version: %v", err)
	}
	// The same key again is one effect: nothing changes, and it says so.
	c := changes(t, s)
	if _, err := s.SaveEditorRule(ctx, v2, 2, act("k3", "rule.save", "Floods", T0.Add(time.Minute))); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a save repeated under its key: %v", err)
	}
	if changes(t, s) != c {
		t.Fatal("a duplicate moved the change marker")
	}
	cur, err := s.EditorRule(ctx, "Floods")
	must(t, err)
	want := v2
	want.Version = 2
	if !equalRule(cur, want) {
		t.Fatalf("current version\n got %+v\nwant %+v", cur, want)
	}
	// Retire, then a new rule of the same name continues the history.
	retire := cur
	retire.Deleted, retire.Author, retire.CreatedAt = true, "U3", T0.Add(2*time.Minute)
	_, err = s.SaveEditorRule(ctx, retire, 2, act("k5", "rule.retire", "Floods", T0.Add(2*time.Minute)))
	must(t, err)
	if rs, _ := s.EditorRules(ctx); len(rs) != 0 {
		t.Fatalf("a retired rule is listed: %+v", rs)
	}
	if r, err := s.EditorRule(ctx, "Floods"); err != nil || !r.Deleted || r.Version != 3 {
		t.Fatalf("retired rule: %+v %v", r, err)
	}
	v4 := v1
	v4.CreatedAt = T0.Add(3 * time.Minute)
	got, err = s.SaveEditorRule(ctx, v4, 0, act("k6", "rule.save", "Floods", T0.Add(3*time.Minute)))
	must(t, err)
	if got.Version != 4 {
		t.Fatalf("a rule created again is version %d, want 4", got.Version)
	}
	h, err := s.RuleHistory(ctx, "Floods")
	must(t, err)
	if len(h) != 4 || h[0].Query != v1.Query || h[1].Author != "U2" || !h[2].Deleted || h[3].Deleted {
		t.Fatalf("history %+v", h)
	}
	// Lists by name; other rules do not disturb.
	_, err = s.SaveEditorRule(ctx, store.EditorRule{Name: "Avalanche", Query: "avalanche", Author: "U1", CreatedAt: T0}, 0, act("k7", "rule.save", "Avalanche", T0))
	must(t, err)
	rs, err := s.EditorRules(ctx)
	must(t, err)
	if len(rs) != 2 || rs[0].Name != "Avalanche" || rs[1].Name != "Floods" || rs[1].Version != 4 || rs[0].Channels != nil {
		t.Fatalf("rules %+v", rs)
	}
	if keys := auditKeys(t, s); !slices.Equal(keys, []string{"k6", "k5", "k3", "k7", "k1"}) {
		t.Fatalf("audit keys %v: one entry per effect, newest first", keys)
	}
	// Refused: no name, no query.
	if _, err := s.SaveEditorRule(ctx, store.EditorRule{Query: "x"}, 0, act("k8", "rule.save", "", T0)); err == nil {
		t.Fatal("a rule without a name saved")
	}
	if _, err := s.SaveEditorRule(ctx, store.EditorRule{Name: "x"}, 0, act("k9", "rule.save", "x", T0)); err == nil {
		t.Fatal("a rule without a query saved")
	}
	if _, err := s.SaveEditorRule(ctx, store.EditorRule{Name: "x", Query: "x"}, 0, store.Action{}); err == nil {
		t.Fatal("a rule saved without its audit entry")
	}
}

func equalRule(a, b store.EditorRule) bool {
	return a.Name == b.Name && a.Version == b.Version && a.Query == b.Query && slices.Equal(a.Channels, b.Channels) &&
		slices.Equal(a.Examples, b.Examples) && slices.Equal(a.Counterexamples, b.Counterexamples) &&
		a.Deleted == b.Deleted && a.Author == b.Author && a.CreatedAt.Equal(b.CreatedAt)
}

func testEditorRuleConcurrentSaves(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	_, err := s.SaveEditorRule(ctx, store.EditorRule{Name: "Talks", Query: "talks", Author: "U1", CreatedAt: T0}, 0, act("base", "rule.save", "Talks", T0))
	must(t, err)
	// Eight editors save from version 1 at once: one wins, the others
	// conflict; and eight deliveries of one save are one effect.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, dup := 0, 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("editor-%d", i)
			if i >= 8 {
				key = "same-envelope"
			}
			_, err := s.SaveEditorRule(ctx, store.EditorRule{Name: "Talks", Query: fmt.Sprintf("talks %d", i), Author: "U1", CreatedAt: T0}, 1, act(key, "rule.save", "Talks", T0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrDuplicate):
				dup++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("save %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	h, err := s.RuleHistory(ctx, "Talks")
	must(t, err)
	if won != 1 || len(h) != 2 {
		t.Fatalf("%d saves won, history has %d versions; want 1 and 2", won, len(h))
	}
	if dup > 7 {
		t.Fatalf("%d duplicates of one envelope", dup)
	}
	if n := len(auditKeys(t, s)); n != 2 {
		t.Fatalf("%d audit entries, want 2 (the first save and the winner)", n)
	}
}

func testMutes(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	c0 := changes(t, s)
	must(t, s.Mute(ctx, store.Mute{Kind: store.MuteRule, Target: "Floods", Until: T0.Add(time.Hour), By: "U1", At: T0}, act("m1", "rule.mute", "Floods", T0)))
	must(t, s.Mute(ctx, store.Mute{Kind: store.MuteStory, Target: "story-1", Channel: "#desk", Title: "Headline", Forever: true, By: "U2", At: T0}, act("m2", "story.mute", "story-1", T0)))
	if changes(t, s) < c0+2 {
		t.Fatal("mutes did not move the change marker")
	}
	if err := s.Mute(ctx, store.Mute{Kind: store.MuteStory, Target: "story-1", Forever: true, By: "U3", At: T0}, act("m2", "story.mute", "story-1", T0)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a mute repeated under its key: %v", err)
	}
	ms, err := s.Mutes(ctx, T0.Add(time.Minute))
	must(t, err)
	if len(ms) != 2 || ms[0].Kind != store.MuteRule || !ms[0].Until.Equal(T0.Add(time.Hour)) || ms[0].Forever ||
		ms[1].Target != "story-1" || !ms[1].Forever || ms[1].By != "U2" || ms[1].Title != "Headline" || ms[1].Channel != "#desk" {
		t.Fatalf("mutes %+v", ms)
	}
	// A timed mute ends by itself.
	if ms, _ := s.Mutes(ctx, T0.Add(time.Hour)); len(ms) != 1 || ms[0].Kind != store.MuteStory {
		t.Fatalf("after the hour: %+v", ms)
	}
	// Muting again replaces the mute in force.
	must(t, s.Mute(ctx, store.Mute{Kind: store.MuteRule, Target: "Floods", Forever: true, By: "U4", At: T0.Add(2 * time.Minute)}, act("m3", "rule.mute", "Floods", T0.Add(2*time.Minute))))
	ms, _ = s.Mutes(ctx, T0.Add(2*time.Hour))
	if len(ms) != 2 || ms[1].Target != "Floods" || !ms[1].Forever || ms[1].By != "U4" {
		t.Fatalf("after muting again: %+v", ms)
	}
	// Unmute ends it; unmuting what is not muted records nothing.
	c := changes(t, s)
	ok, err := s.Unmute(ctx, store.MuteRule, "Floods", act("u1", "rule.unmute", "Floods", T0.Add(3*time.Minute)))
	must(t, err)
	if !ok || changes(t, s) <= c {
		t.Fatalf("unmute: %v, marker %d → %d", ok, c, changes(t, s))
	}
	if _, err := s.Unmute(ctx, store.MuteRule, "Floods", act("u1", "rule.unmute", "Floods", T0.Add(3*time.Minute))); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("unmute repeated under its key: %v", err)
	}
	ok, err = s.Unmute(ctx, store.MuteRule, "Floods", act("u2", "rule.unmute", "Floods", T0.Add(4*time.Minute)))
	if err != nil || ok {
		t.Fatalf("unmute of an unmuted rule: %v %v", ok, err)
	}
	ms, _ = s.Mutes(ctx, T0.Add(5*time.Minute))
	if len(ms) != 1 || ms[0].Kind != store.MuteStory {
		t.Fatalf("after unmute: %+v", ms)
	}
	if keys := auditKeys(t, s); len(keys) != 4 || slices.Contains(keys, "u2") {
		t.Fatalf("audit keys %v", keys)
	}
	for _, bad := range []store.Mute{{Kind: "feed", Target: "x", Forever: true}, {Kind: store.MuteRule, Forever: true}, {Kind: store.MuteRule, Target: "x"}} {
		if err := s.Mute(ctx, bad, act("bad"+bad.Kind+bad.Target, "rule.mute", "x", T0)); err == nil {
			t.Errorf("mute %+v accepted", bad)
		}
	}
}

func testFeedbackAndStats(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	now := T0.Add(8 * 24 * time.Hour)
	// Alerts of two rules: old ones, ones of this week and of today,
	// a story follow-up (not counted) and an ops message.
	var as []store.Alert
	for i, at := range []time.Time{now.Add(-10 * 24 * time.Hour), now.Add(-3 * 24 * time.Hour), now.Add(-2 * time.Hour), now.Add(-time.Hour)} {
		a := itemAlert("f", fmt.Sprint("i", i), "Floods", "#desk", at)
		a.StoryID = a.ID
		as = append(as, a)
	}
	fu := itemAlert("f", "i9", "Floods", "#desk", now.Add(-time.Hour))
	fu.StoryID = as[3].ID
	as = append(as, fu, itemAlert("f", "j1", "Talks", "#desk", now.Add(-time.Minute)), opsAlert("ops1", "#ops", "x"))
	enqueue(t, s, as...)
	f := store.Feedback{AlertID: as[2].ID, Rule: "Floods", FeedKey: "f", ItemID: "i2", Title: "Flood of tourists", Text: "a flood of tourists", Link: "https://example.org/i2", By: "U5", At: now.Add(-time.Minute)}
	must(t, s.AddFeedback(ctx, f, act("nr:"+f.AlertID, "alert.not_relevant", "Floods", now.Add(-time.Minute))))
	f2 := f
	f2.By = "U6"
	if err := s.AddFeedback(ctx, f2, act("nr:"+f.AlertID, "alert.not_relevant", "Floods", now)); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a second mark under the same key: %v", err)
	}
	got, err := s.FeedbackFor(ctx, as[2].ID)
	must(t, err)
	if got != f {
		t.Fatalf("feedback\n got %+v\nwant %+v", got, f)
	}
	if _, err := s.FeedbackFor(ctx, as[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unmarked alert: %v", err)
	}
	old := store.Feedback{AlertID: as[0].ID, Rule: "Floods", Title: "Old", By: "U5", At: now.Add(-9 * 24 * time.Hour)}
	must(t, s.AddFeedback(ctx, old, act("nr:"+old.AlertID, "alert.not_relevant", "Floods", old.At)))
	fs, err := s.Feedback(ctx, "Floods", 0)
	must(t, err)
	if len(fs) != 2 || fs[0].AlertID != as[2].ID || fs[1].AlertID != as[0].ID {
		t.Fatalf("feedback of Floods: %+v", fs)
	}
	if fs, _ := s.Feedback(ctx, "Floods", 1); len(fs) != 1 {
		t.Fatalf("limit: %+v", fs)
	}
	st, err := s.RuleStats(ctx, now)
	must(t, err)
	if st["Floods"] != (store.RuleStats{Alerts24h: 2, Alerts7d: 3, NotRelevant7d: 1}) || st["Talks"] != (store.RuleStats{Alerts24h: 1, Alerts7d: 1}) || len(st) != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func testAuditFilter(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	for i := range 5 {
		at := T0.Add(time.Duration(i) * time.Hour)
		must(t, s.Mute(ctx, store.Mute{Kind: store.MuteRule, Target: "r", Forever: true, By: "U1", At: at},
			store.Action{Key: fmt.Sprint("a", i), User: "U1", At: at, Action: "rule.mute", Target: "r", Details: "until unmuted <!channel>"}))
	}
	as, err := s.Audit(ctx, store.AuditFilter{Since: T0.Add(2 * time.Hour), Limit: 2})
	must(t, err)
	if len(as) != 2 || as[0].Key != "a4" || as[1].Key != "a3" || as[0].User != "U1" || as[0].Action != "rule.mute" ||
		as[0].Target != "r" || as[0].Details != "until unmuted <!channel>" || !as[0].At.Equal(T0.Add(4*time.Hour)) {
		t.Fatalf("audit %+v", as)
	}
}

// seedEditorial gives s editorial state for the copy test.
func seedEditorial(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	_, err := s.SaveEditorRule(ctx, store.EditorRule{Name: "Floods", Query: "flood", Channels: []string{"#desk"}, Author: "U1", CreatedAt: T0}, 0, act("e1", "rule.save", "Floods", T0))
	must(t, err)
	_, err = s.SaveEditorRule(ctx, store.EditorRule{Name: "Floods", Query: "flood* NOT tourists", Examples: []string{"Floods in Sindh"}, Author: "U2", CreatedAt: T0.Add(time.Minute)}, 1, act("e2", "rule.save", "Floods", T0.Add(time.Minute)))
	must(t, err)
	_, err = s.SaveEditorRule(ctx, store.EditorRule{Name: "Old", Query: "old", Author: "U1", CreatedAt: T0}, 0, act("e3", "rule.save", "Old", T0))
	must(t, err)
	_, err = s.SaveEditorRule(ctx, store.EditorRule{Name: "Old", Query: "old", Deleted: true, Author: "U1", CreatedAt: T0.Add(time.Minute)}, 1, act("e4", "rule.retire", "Old", T0.Add(time.Minute)))
	must(t, err)
	must(t, s.Mute(ctx, store.Mute{Kind: store.MuteRule, Target: "Floods", Forever: true, By: "U1", At: T0}, act("e5", "rule.mute", "Floods", T0)))
	must(t, s.Mute(ctx, store.Mute{Kind: store.MuteStory, Target: "story-1", Channel: "#desk", Title: "Headline", Until: T0.Add(100 * 365 * 24 * time.Hour), By: "U3", At: T0}, act("e6", "story.mute", "story-1", T0)))
	must(t, s.AddFeedback(ctx, store.Feedback{AlertID: "alert-1", Rule: "Floods", Title: "Flood of tourists", By: "U4", At: T0}, act("e7", "alert.not_relevant", "Floods", T0)))
}

// checkEditorialCopy compares the editorial state of to with from's.
func checkEditorialCopy(t *testing.T, from, to store.Store) {
	t.Helper()
	ctx := ctxT(t)
	for _, name := range []string{"Floods", "Old"} {
		want, err := from.RuleHistory(ctx, name)
		must(t, err)
		got, err := to.RuleHistory(ctx, name)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("history of %s: %d versions, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !equalRule(got[i], want[i]) {
				t.Fatalf("copied version\n got %+v\nwant %+v", got[i], want[i])
			}
		}
	}
	wm, _ := from.Mutes(ctx, T0.Add(time.Hour))
	gm, err := to.Mutes(ctx, T0.Add(time.Hour))
	must(t, err)
	if len(gm) != len(wm) || len(gm) != 2 {
		t.Fatalf("copied mutes %+v, want %+v", gm, wm)
	}
	for i := range wm {
		if gm[i].Kind != wm[i].Kind || gm[i].Target != wm[i].Target || gm[i].Forever != wm[i].Forever || !gm[i].Until.Equal(wm[i].Until) || gm[i].By != wm[i].By {
			t.Fatalf("copied mute %+v, want %+v", gm[i], wm[i])
		}
	}
	if f, err := to.FeedbackFor(ctx, "alert-1"); err != nil || f.By != "U4" || f.Title != "Flood of tourists" {
		t.Fatalf("copied feedback %+v %v", f, err)
	}
	if wa, ga := auditKeys(t, from), auditKeys(t, to); !slices.Equal(ga, wa) {
		t.Fatalf("copied audit %v, want %v", ga, wa)
	}
	if n, _ := to.Changes(ctx); n == 0 {
		t.Fatal("the copy did not move the change marker")
	}
}
