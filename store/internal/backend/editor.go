package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// EditorDriver runs the SQL of the desk's editorial state (store.Editorial).
// Every write runs in one transaction that first records its audit entry:
// a key already present makes it return store.ErrDuplicate having changed
// nothing.
type EditorDriver interface {
	EditorRules(ctx context.Context) ([]store.EditorRule, error)
	EditorRule(ctx context.Context, name string) (store.EditorRule, error)
	RuleHistory(ctx context.Context, name string) ([]store.EditorRule, error)
	// SaveEditorRule writes r as version next if the current version is
	// accepted by ok (store.ErrConflict otherwise, and when next is taken).
	SaveEditorRule(ctx context.Context, r store.EditorRule, ok func(cur int, retired bool) bool, act store.Action) (store.EditorRule, error)
	Mute(ctx context.Context, m store.Mute, act store.Action) error
	Unmute(ctx context.Context, kind, target string, now time.Time, act store.Action) (bool, error)
	Mutes(ctx context.Context, now time.Time) ([]store.Mute, error)
	AddFeedback(ctx context.Context, f store.Feedback, act store.Action) error
	FeedbackFor(ctx context.Context, alertID string) (store.Feedback, error)
	Feedback(ctx context.Context, rule string, limit int) ([]store.Feedback, error)
	// RuleStats counts top-level item alerts created since d7 (and since
	// d1) and marks made since d7, per rule.
	RuleStats(ctx context.Context, d1, d7 time.Time) (map[string]store.RuleStats, error)
	Audit(ctx context.Context, f store.AuditFilter) ([]store.Action, error)
	Changes(ctx context.Context) (int64, error)
	// DumpEditorial reads every rule version (by name, then version),
	// the mutes in force at now, all feedback and the audit log (oldest
	// first); LoadEditorial writes them in one transaction, keeping what
	// is there, and moves the change marker.
	DumpEditorial(ctx context.Context, now time.Time) (store.EditorialState, error)
	LoadEditorial(ctx context.Context, s store.EditorialState) error
}

var _ store.EditorialCopier = (*Store)(nil)

// DumpEditorial implements store.EditorialCopier.
func (s *Store) DumpEditorial(ctx context.Context, now time.Time) (store.EditorialState, error) {
	es, err := s.d.DumpEditorial(ctx, now)
	return result(s, "dump editorial state", es, err)
}

// LoadEditorial implements store.EditorialCopier.
func (s *Store) LoadEditorial(ctx context.Context, es store.EditorialState) error {
	for i := range es.Rules {
		es.Rules[i] = store.CleanEditorRule(es.Rules[i])
	}
	for i := range es.Mutes {
		es.Mutes[i] = store.CleanMute(es.Mutes[i])
	}
	for i := range es.Feedback {
		es.Feedback[i] = store.CleanFeedback(es.Feedback[i])
	}
	for i := range es.Audit {
		es.Audit[i] = store.CleanAction(es.Audit[i])
	}
	return s.fail("load editorial state", s.d.LoadEditorial(ctx, es))
}

// checkAction refuses an audit entry without a key, user or action.
func checkAction(a store.Action) error {
	switch {
	case a.Key == "":
		return errors.New("audit entry without a key")
	case a.Action == "":
		return errors.New("audit entry without an action")
	case a.At.IsZero():
		return errors.New("audit entry without a time")
	}
	return nil
}

// EditorRules implements store.Editorial.
func (s *Store) EditorRules(ctx context.Context) ([]store.EditorRule, error) {
	rs, err := s.d.EditorRules(ctx)
	return result(s, "editor rules", rs, err)
}

// EditorRule implements store.Editorial.
func (s *Store) EditorRule(ctx context.Context, name string) (store.EditorRule, error) {
	name = store.CleanText(name, store.MaxName)
	r, err := s.d.EditorRule(ctx, name)
	return Found(r, err, s.d.NoRows(), s.d.Name(), fmt.Sprintf("editor rule %q", name))
}

// RuleHistory implements store.Editorial.
func (s *Store) RuleHistory(ctx context.Context, name string) ([]store.EditorRule, error) {
	name = store.CleanText(name, store.MaxName)
	rs, err := s.d.RuleHistory(ctx, name)
	return result(s, fmt.Sprintf("history of rule %q", name), rs, err)
}

// SaveEditorRule implements store.Editorial.
func (s *Store) SaveEditorRule(ctx context.Context, r store.EditorRule, base int, act store.Action) (store.EditorRule, error) {
	r, act = store.CleanEditorRule(r), store.CleanAction(act)
	what := fmt.Sprintf("save rule %q", r.Name)
	switch {
	case r.Name == "":
		return r, s.fail("save rule", errors.New("a rule without a name"))
	case !r.Deleted && r.Query == "":
		return r, s.fail(what, errors.New("a rule without a query"))
	case base < 0:
		return r, s.fail(what, fmt.Errorf("base version %d", base))
	}
	if err := checkAction(act); err != nil {
		return r, s.fail(what, err)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = act.At
	}
	saved, err := s.d.SaveEditorRule(ctx, r, func(cur int, retired bool) bool {
		return cur == base || base == 0 && retired
	}, act)
	if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) {
		return saved, fmt.Errorf("%s: %w", what, err)
	}
	return result(s, what, saved, err)
}

// Mute implements store.Editorial.
func (s *Store) Mute(ctx context.Context, m store.Mute, act store.Action) error {
	m, act = store.CleanMute(m), store.CleanAction(act)
	what := fmt.Sprintf("mute %s %q", m.Kind, m.Target)
	switch {
	case m.Kind != store.MuteRule && m.Kind != store.MuteStory:
		return s.fail("mute", fmt.Errorf("unknown kind %q", m.Kind))
	case m.Target == "":
		return s.fail(what, errors.New("nothing to mute"))
	case !m.Forever && m.Until.IsZero():
		return s.fail(what, errors.New("a mute with no end and not until unmuted"))
	}
	if m.Forever {
		m.Until = time.Time{}
	}
	if err := checkAction(act); err != nil {
		return s.fail(what, err)
	}
	if m.At.IsZero() {
		m.At = act.At
	}
	return s.named(what, s.d.Mute(ctx, m, act))
}

// named is fail that leaves store.ErrDuplicate as it is, named.
func (s *Store) named(what string, err error) error {
	if errors.Is(err, store.ErrDuplicate) || errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.fail(what, err)
}

// Unmute implements store.Editorial.
func (s *Store) Unmute(ctx context.Context, kind, target string, act store.Action) (bool, error) {
	m := store.CleanMute(store.Mute{Kind: kind, Target: target})
	act = store.CleanAction(act)
	what := fmt.Sprintf("unmute %s %q", m.Kind, m.Target)
	if err := checkAction(act); err != nil {
		return false, s.fail(what, err)
	}
	ok, err := s.d.Unmute(ctx, m.Kind, m.Target, act.At, act)
	return ok, s.named(what, err)
}

// Mutes implements store.Editorial.
func (s *Store) Mutes(ctx context.Context, now time.Time) ([]store.Mute, error) {
	ms, err := s.d.Mutes(ctx, now)
	return result(s, "mutes", ms, err)
}

// AddFeedback implements store.Editorial.
func (s *Store) AddFeedback(ctx context.Context, f store.Feedback, act store.Action) error {
	f, act = store.CleanFeedback(f), store.CleanAction(act)
	what := "feedback on alert " + f.AlertID
	if f.AlertID == "" || f.Rule == "" {
		return s.fail(what, errors.New("feedback without its alert or rule"))
	}
	if err := checkAction(act); err != nil {
		return s.fail(what, err)
	}
	if f.At.IsZero() {
		f.At = act.At
	}
	return s.named(what, s.d.AddFeedback(ctx, f, act))
}

// FeedbackFor implements store.Editorial.
func (s *Store) FeedbackFor(ctx context.Context, alertID string) (store.Feedback, error) {
	alertID = store.CleanID(alertID)
	f, err := s.d.FeedbackFor(ctx, alertID)
	return Found(f, err, s.d.NoRows(), s.d.Name(), "feedback on alert "+alertID)
}

// Feedback implements store.Editorial.
func (s *Store) Feedback(ctx context.Context, rule string, limit int) ([]store.Feedback, error) {
	rule = store.CleanText(rule, store.MaxName)
	fs, err := s.d.Feedback(ctx, rule, limit)
	return result(s, fmt.Sprintf("feedback on rule %q", rule), fs, err)
}

// RuleStats implements store.Editorial.
func (s *Store) RuleStats(ctx context.Context, now time.Time) (map[string]store.RuleStats, error) {
	st, err := s.d.RuleStats(ctx, now.Add(-24*time.Hour), now.Add(-7*24*time.Hour))
	return result(s, "rule stats", st, err)
}

// Audit implements store.Editorial.
func (s *Store) Audit(ctx context.Context, f store.AuditFilter) ([]store.Action, error) {
	as, err := s.d.Audit(ctx, f)
	return result(s, "audit", as, err)
}

// Changes implements store.Editorial.
func (s *Store) Changes(ctx context.Context) (int64, error) {
	n, err := s.d.Changes(ctx)
	return result(s, "change marker", n, err)
}
