package slackapp

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store"
)

// What the app needs from the rest of Wirewatch, each as the narrowest
// interface that serves it. The store implements the store parts; the
// command wires the others.

// The store's types of the editorial state, named here for short.
type (
	EditorRule = store.EditorRule
	Mute       = store.Mute
	Feedback   = store.Feedback
	Action     = store.Action
	RuleStats  = store.RuleStats
)

// Mute kinds.
const (
	MuteRule  = store.MuteRule
	MuteStory = store.MuteStory
)

// Audited actions.
const (
	ActNotRelevant = "alert.not_relevant"
	ActMuteStory   = "story.mute"
	ActMuteRule    = "rule.mute"
	ActUnmuteRule  = "rule.unmute"
	ActSaveRule    = "rule.save"
	ActRetireRule  = "rule.retire"
)

// Errors the store answers with.
var (
	// ErrDuplicate: an effect with this key was already recorded; nothing changed.
	ErrDuplicate = store.ErrDuplicate
	// ErrConflict: the rule changed since the version the editor started from.
	ErrConflict = store.ErrConflict
)

// Alerts finds the alert a click is about.
type Alerts interface {
	Alert(ctx context.Context, id string) (store.Alert, error)
}

// Rules are the editors' rules in the store, versioned.
type Rules interface {
	// EditorRules returns the current version of every rule not retired.
	EditorRules(ctx context.Context) ([]EditorRule, error)
	// EditorRule returns the current version of one rule (retired
	// included), or store.ErrNotFound.
	EditorRule(ctx context.Context, name string) (EditorRule, error)
	// SaveEditorRule writes r as version base+1 with the audit entry act,
	// in one transaction: ErrConflict if the current version is not base,
	// ErrDuplicate if act.Key was recorded before.
	SaveEditorRule(ctx context.Context, r EditorRule, base int, act Action) (EditorRule, error)
	// RuleStats counts each rule's alerts in the 24 h and 7 days before now.
	RuleStats(ctx context.Context, now time.Time) (map[string]RuleStats, error)
}

// Feedbacks are the not-relevant marks.
type Feedbacks interface {
	// AddFeedback records f with act (ErrDuplicate if act.Key is known).
	AddFeedback(ctx context.Context, f Feedback, act Action) error
	// FeedbackFor returns the mark on one alert, or store.ErrNotFound.
	FeedbackFor(ctx context.Context, alertID string) (Feedback, error)
	// Feedback returns a rule's marks, newest first, at most limit.
	Feedback(ctx context.Context, rule string, limit int) ([]Feedback, error)
}

// Mutes are the rule and story mutes.
type Mutes interface {
	// Mute records m with act, replacing a mute in force on the same
	// target (ErrDuplicate if act.Key is known).
	Mute(ctx context.Context, m Mute, act Action) error
	// Unmute ends the mute in force on (kind, target); false if none was.
	Unmute(ctx context.Context, kind, target string, act Action) (bool, error)
	// Mutes returns the mutes in force at now.
	Mutes(ctx context.Context, now time.Time) ([]Mute, error)
}

// Store is everything the app keeps in the store.
type Store interface {
	Alerts
	Rules
	Feedbacks
	Mutes
}

// ConfigRule is a rule of the config file: the operator's, read-only in Slack.
type ConfigRule struct {
	Name     string
	Query    string
	Channels []string
}

// TryMatch is one item a query matched.
type TryMatch struct {
	Title     string
	Link      string
	Feed      string
	Published time.Time
	Snippet   string
	Marks     [][2]int
}

// TryResult is what a query would have matched.
type TryResult struct {
	// Source says what was searched, e.g. "1,204 items stored in the last
	// 7 days" or "the 9 configured feeds as they are now".
	Source  string
	Matches []TryMatch // the first ones
	Total   int        // all matches
}

// Tryer runs a query over stored items (or the feeds as they are now).
type Tryer interface {
	Try(ctx context.Context, query string, limit int) (TryResult, error)
}

// FailingFeed is a feed whose last polls failed.
type FailingFeed struct {
	Name      string
	Since     time.Time
	Streak    int
	LastError string
}

// DeskStatus is what /wirewatch status shows besides the mutes.
type DeskStatus struct {
	Feeds   int
	Failing []FailingFeed
	Queued  int // alerts waiting for Slack
}

// Statuser reports the desk's status.
type Statuser interface {
	DeskStatus(ctx context.Context, now time.Time) (DeskStatus, error)
}

// Renderer draws an alert's message with its buttons and its state, as the
// notifier posts it (notify.RenderInteractive), for chat.update after a click.
type Renderer func(ctx context.Context, a store.Alert, s notify.AlertState) (text string, blocks []slack.Block)

// store.Store has all the app keeps in the store.
var _ Store = store.Store(nil)
