package store

import (
	"context"
	"errors"
	"time"
)

// The desk's editorial state: rules written by editors in Slack (each
// save a new version, the old ones kept), mutes of rules and stories,
// "not relevant" marks, and the audit log of who did what. Every change
// is recorded with its audit entry in one transaction, under a unique
// key: the same key twice (a redelivered Slack envelope, a double click)
// is one effect, and the second write answers ErrDuplicate having changed
// nothing. Rule and mute changes also move a change marker (Changes),
// which every replica polls to pick them up within seconds.

var (
	// ErrDuplicate: an effect with this audit key was recorded before;
	// nothing changed.
	ErrDuplicate = errors.New("store: already recorded")
	// ErrConflict: the rule's current version is not the one the change
	// started from (someone saved meanwhile, or the name is taken).
	ErrConflict = errors.New("store: changed meanwhile")
)

// EditorRule is one version of a rule written by editors in Slack.
type EditorRule struct {
	Name            string
	Version         int // from 1; every save adds one
	Query           string
	Channels        []string
	Examples        []string
	Counterexamples []string
	Deleted         bool   // this version retires the rule
	Author          string // Slack user id
	CreatedAt       time.Time
}

// Mute kinds.
const (
	MuteRule  = "rule"
	MuteStory = "story"
)

// Mute silences a rule (its alerts are not posted) or a story (no more
// follow-ups or updates of its message).
type Mute struct {
	Kind    string // MuteRule or MuteStory
	Target  string // the rule's name, or the story's id (its first alert's id)
	Channel string // a story's channel
	Title   string // a story's headline, for lists
	Until   time.Time
	Forever bool // until unmuted; Until is zero
	By      string
	At      time.Time
}

// InForce says whether the mute silences at now.
func (m Mute) InForce(now time.Time) bool { return m.Forever || now.Before(m.Until) }

// Feedback is an alert a reader marked not relevant: its item is a
// counterexample of its rule.
type Feedback struct {
	AlertID string
	Rule    string
	FeedKey string
	ItemID  string
	Title   string
	Text    string // the snippet the rule matched
	Link    string
	By      string
	At      time.Time
}

// Action is one audited effect. Key is unique in the store.
type Action struct {
	Key     string
	User    string
	At      time.Time
	Action  string
	Target  string
	Details string
}

// RuleStats counts a rule's alerts and the not-relevant marks among them.
type RuleStats struct {
	Alerts24h, Alerts7d int
	NotRelevant7d       int
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	Since time.Time
	Limit int // <= 0: no limit
}

// Editorial is the desk's editorial state; see the top of this file.
// Every write takes its audit entry (Action) and records both in one
// transaction, or neither.
type Editorial interface {
	// EditorRules returns the current version of every rule not retired,
	// by name.
	EditorRules(ctx context.Context) ([]EditorRule, error)
	// EditorRule returns the current version of one rule (a retired rule's
	// is its retiring version), or ErrNotFound.
	EditorRule(ctx context.Context, name string) (EditorRule, error)
	// RuleHistory returns every version of one rule, oldest first.
	RuleHistory(ctx context.Context, name string) ([]EditorRule, error)
	// SaveEditorRule writes r as the rule's next version (r.Version is
	// ignored). base is the version the change started from: the current
	// one, or 0 for a new rule (allowed also when the rule was retired).
	// Otherwise, or when another save took the next version first, it is
	// ErrConflict. It returns the rule as saved.
	SaveEditorRule(ctx context.Context, r EditorRule, base int, act Action) (EditorRule, error)
	// Mute records m, ending a mute of the same target still open.
	Mute(ctx context.Context, m Mute, act Action) error
	// Unmute ends the mute in force on (kind, target); false, with nothing
	// recorded, if none is.
	Unmute(ctx context.Context, kind, target string, act Action) (bool, error)
	// Mutes returns the mutes in force at now, oldest first.
	Mutes(ctx context.Context, now time.Time) ([]Mute, error)
	// AddFeedback records an alert marked not relevant (once per alert).
	AddFeedback(ctx context.Context, f Feedback, act Action) error
	// FeedbackFor returns the mark on one alert, or ErrNotFound.
	FeedbackFor(ctx context.Context, alertID string) (Feedback, error)
	// Feedback returns a rule's marks, newest first (limit <= 0: all).
	Feedback(ctx context.Context, rule string, limit int) ([]Feedback, error)
	// RuleStats counts, per rule, the top-level item alerts (story
	// follow-ups not counted) created in the 24 hours and 7 days before
	// now, and the marks made in those 7 days.
	RuleStats(ctx context.Context, now time.Time) (map[string]RuleStats, error)
	// Audit returns audit entries, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]Action, error)
	// Changes returns the change marker: a number that grows with every
	// rule save and every mute or unmute, in any process.
	Changes(ctx context.Context) (int64, error)
}

// Caps of the editorial state's lists.
const (
	MaxRuleChannels = 50
	MaxRuleExamples = 100
)

// CleanEditorRule returns r with clean text.
func CleanEditorRule(r EditorRule) EditorRule {
	r.Name = CleanText(r.Name, MaxName)
	r.Query = CleanText(r.Query, MaxText)
	r.Channels = CleanList(r.Channels, MaxRuleChannels, MaxName)
	r.Examples = CleanList(r.Examples, MaxRuleExamples, MaxTitle)
	r.Counterexamples = CleanList(r.Counterexamples, MaxRuleExamples, MaxTitle)
	r.Author = CleanText(r.Author, MaxName)
	return r
}

// CleanMute returns m with clean text.
func CleanMute(m Mute) Mute {
	m.Kind, m.Channel, m.By = CleanText(m.Kind, MaxName), CleanText(m.Channel, MaxName), CleanText(m.By, MaxName)
	m.Title = CleanText(m.Title, MaxTitle)
	if m.Kind == MuteStory {
		m.Target = CleanID(m.Target)
	} else {
		m.Target = CleanText(m.Target, MaxName)
	}
	return m
}

// CleanFeedback returns f with clean text.
func CleanFeedback(f Feedback) Feedback {
	f.AlertID, f.FeedKey, f.ItemID = CleanID(f.AlertID), CleanID(f.FeedKey), CleanID(f.ItemID)
	f.Rule, f.By = CleanText(f.Rule, MaxName), CleanText(f.By, MaxName)
	f.Title, f.Text, f.Link = CleanText(f.Title, MaxTitle), CleanText(f.Text, MaxSnippet), CleanText(f.Link, MaxLink)
	return f
}

// CleanAction returns a with clean text; a key too long is hashed.
func CleanAction(a Action) Action {
	a.Key = CleanID(a.Key)
	a.User, a.Action, a.Target = CleanText(a.User, MaxName), CleanText(a.Action, MaxName), CleanText(a.Target, MaxName)
	a.Details = CleanText(a.Details, MaxText)
	return a
}

// EditorialState is the whole editorial state, for Copy: every version of
// every rule, the mutes in force, the not-relevant marks and the audit log.
type EditorialState struct {
	Rules    []EditorRule
	Mutes    []Mute
	Feedback []Feedback
	Audit    []Action
}

// EditorialCopier is implemented by stores whose editorial state can be
// read out and taken in (both backends).
type EditorialCopier interface {
	// DumpEditorial reads the editorial state, with the mutes in force at now.
	DumpEditorial(ctx context.Context, now time.Time) (EditorialState, error)
	// LoadEditorial writes s in one transaction, keeping what is already
	// there (a rule version, a mark, an audit key; a mute on a target that
	// has one in force), so a Copy can be run again.
	LoadEditorial(ctx context.Context, s EditorialState) error
}

// StoryOf is the story an alert belongs to: its StoryID, or its own id for
// an alert that is not grouped.
func StoryOf(a Alert) string {
	if a.StoryID != "" {
		return a.StoryID
	}
	return a.ID
}
