package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store"
)

// explanation is what `explain` says about one stored item; -json prints
// it as one object.
type explanation struct {
	Feed      string            `json:"feed"` // the feed's name in the config, else its key
	FeedKey   string            `json:"feed_key"`
	ID        string            `json:"id"`
	Title     string            `json:"title"`
	Link      string            `json:"link"`
	Published *time.Time        `json:"published,omitempty"`
	FirstSeen time.Time         `json:"first_seen"`
	Outcome   string            `json:"outcome"` // a store.Outcome constant, or "unknown"
	Why       string            `json:"why"`     // the outcome in words
	Matches   []store.ItemMatch `json:"matches"`
	Alerts    []explainedAlert  `json:"alerts"`
}

// explainedAlert is one alert of the item: where it went and what became
// of it.
type explainedAlert struct {
	ID          string     `json:"id"`
	Channel     string     `json:"channel"`
	Rule        string     `json:"rule"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	SlackTS     string     `json:"slack_ts,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"` // queued alerts
	Digest      string     `json:"digest,omitempty"`
	Matched     []string   `json:"matched,omitempty"`
	// StoryID is the story's first alert (the thread parent); Story says
	// in words how the alert was grouped.
	StoryID string `json:"story_id,omitempty"`
	Story   string `json:"story"`
	// Message says how it was posted: alone, or in one summary message
	// with others (a digest, a burst, the channel cap).
	Message string `json:"message,omitempty"`
}

// cmdExplain tells, for an item in the store (by its link or GUID), what
// Wirewatch did with it: the rules it matched, or why it raised no alert
// (backfilled, old, muted, no match), and each alert: its channel, its
// delivery state, Slack ts, attempts and last error, the story it opened
// or joined, and whether it went out in a summary message.
func cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", stderr)
	path := fs.String("config", "", "configuration file (TOML): its store is read")
	asJSON := fs.Bool("json", false, "print one JSON object per item")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	switch fs.NArg() {
	case 0:
		return usagef("give the link or GUID of one item")
	case 1:
	default:
		return usagef("unexpected argument %q: give one link or GUID (quote a link with & or ? in it)", fs.Arg(1))
	}
	key := strings.TrimSpace(fs.Arg(0))
	if err := requireConfig(*path); err != nil {
		return err
	}
	l, err := loadValid(*path, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, l.cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	keys := []string{key}
	if c := parse.CanonicalLink(key); c != key {
		keys = append(keys, c)
	}
	items, err := st.FindItems(ctx, keys)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("no stored item has the link or GUID %q. The store records every item of the configured feeds when it is first fetched and keeps it while its feed lists it (then for [store] retention); give the link as the feed has it, or its GUID", redact.URL(key))
	}
	names := map[string]string{}
	for _, f := range l.feeds {
		names[f.Key] = f.Name
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for i, it := range items {
		e, err := explainItem(ctx, st, l.cfg, names, it)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := enc.Encode(e); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printExplanation(stdout, e)
	}
	return nil
}

// explainItem gathers what the store knows about it.
func explainItem(ctx context.Context, st store.Store, cfg *config.Config, names map[string]string, it store.Item) (explanation, error) {
	e := explanation{Feed: names[it.FeedKey], FeedKey: it.FeedKey, ID: it.ID, Title: it.Title, Link: redact.URL(it.Link),
		FirstSeen: it.FirstSeen, Outcome: it.Outcome, Matches: it.Matches}
	if e.Feed == "" {
		e.Feed = it.FeedKey + " (no longer in the config)"
	}
	if !it.Published.IsZero() {
		p := it.Published
		e.Published = &p
	}
	alerts, err := st.Alerts(ctx, store.AlertFilter{FeedKey: it.FeedKey, ItemID: it.ID})
	if err != nil {
		return e, err
	}
	slices.Reverse(alerts) // oldest first, in the order they were queued
	for _, a := range alerts {
		x, err := explainAlert(ctx, st, cfg, a)
		if err != nil {
			return e, err
		}
		e.Alerts = append(e.Alerts, x)
	}
	e.Why = why(cfg, it, len(alerts))
	if e.Outcome == "" {
		e.Outcome = "unknown"
	}
	return e, nil
}

// why says an item's outcome in words.
func why(cfg *config.Config, it store.Item, alerts int) string {
	published := "undated"
	if !it.Published.IsZero() {
		published = "published " + notify.FormatTime(it.Published)
	}
	var muted, alerted []string
	for _, m := range it.Matches {
		if m.Muted != "" {
			muted = append(muted, fmt.Sprintf("%q (%s)", m.Rule, m.Muted))
		} else {
			alerted = append(alerted, fmt.Sprintf("%q", m.Rule))
		}
	}
	switch it.Outcome {
	case store.OutcomeAlerted:
		s := fmt.Sprintf("alerted: it matched %s", strings.Join(alerted, ", "))
		if len(muted) > 0 {
			s += "; muted: " + strings.Join(muted, ", ")
		}
		if alerts == 0 {
			s += ". Its alerts are no longer in the store: finished alerts are kept for [store] retention"
		}
		return s
	case store.OutcomeMuted:
		return "not alerted: muted. It matched " + strings.Join(muted, ", ") + "; the item was recorded, so it will not alert when the mute ends"
	case store.OutcomeNoMatch:
		return "not alerted: it matched no rule (the rules in force when it was first seen, " + notify.FormatTime(it.FirstSeen) + ")"
	case store.OutcomeBackfilled:
		return fmt.Sprintf("not alerted: backfilled. It was %s and first seen on its feed's first poll (%s), older than the backfill window then ([monitor] backfill or the feed's backfill; now %s): recorded without matching, so that a new feed does not flood a channel with its archive",
			published, notify.FormatTime(it.FirstSeen), backfillOf(cfg, it.FeedKey))
	case store.OutcomeOld:
		return fmt.Sprintf("not alerted: old news. It was %s, before the retention period when first seen (%s; [store] retention, now %s): recorded without matching",
			published, notify.FormatTime(it.FirstSeen), retentionOf(cfg))
	}
	if alerts > 0 {
		return "alerted (recorded before Wirewatch kept why an item alerted or not: its alerts below say where)"
	}
	return "no alert, and no reason kept: recorded before Wirewatch kept why (it was backfilled, old news, muted, or matched no rule)"
}

func backfillOf(cfg *config.Config, feedKey string) string {
	for _, f := range cfg.Feeds {
		if f.Key == feedKey {
			return config.FormatDuration(f.Backfill)
		}
	}
	return config.FormatDuration(cfg.Monitor.Backfill)
}

func retentionOf(cfg *config.Config) string {
	if cfg.Store.Retention == 0 {
		return "kept for ever"
	}
	return config.FormatDuration(cfg.Store.Retention)
}

// explainAlert says what became of one alert.
func explainAlert(ctx context.Context, st store.Store, cfg *config.Config, a store.Alert) (explainedAlert, error) {
	x := explainedAlert{ID: a.ID, Channel: a.Channel, Rule: a.Rule, State: a.State, Attempts: a.Attempts,
		LastError: redact.Text(a.LastError), SlackTS: a.SlackTS, Digest: a.Digest, Matched: a.Matched, StoryID: a.StoryID}
	switch a.State {
	case store.StateSent:
		t := a.SentAt
		x.SentAt = &t
	case store.StateFailed:
		t := a.FailedAt
		x.FailedAt = &t
	default:
		t := a.NextAttempt
		x.NextAttempt = &t
	}
	var err error
	if x.Story, err = storyOf(ctx, st, a); err != nil {
		return x, err
	}
	if a.State == store.StateSent && a.SlackTS != "" {
		same, err := st.Alerts(ctx, store.AlertFilter{Channel: a.Channel, SlackTS: a.SlackTS})
		if err != nil {
			return x, err
		}
		if n := len(same) - 1; n > 0 {
			switch {
			case a.Digest != "":
				x.Message = fmt.Sprintf("in its rule's digest (%s), one message with %d other alert(s)", a.Digest, n)
			case cfg.Slack.ChannelCap == 0:
				x.Message = fmt.Sprintf("summarised: one message with %d other alert(s) due at once for the channel (more than [slack] group_after)", n)
			case cfg.Slack.GroupAfter < 0:
				x.Message = fmt.Sprintf("capped: one summary message with %d other alert(s), the channel having had [slack] channel_cap (%d) messages in the hour", n, cfg.Slack.ChannelCap)
			default:
				x.Message = fmt.Sprintf("summarised: one message with %d other alert(s), either due at once (more than [slack] group_after) or beyond [slack] channel_cap (%d an hour)", n, cfg.Slack.ChannelCap)
			}
		}
	}
	return x, nil
}

// storyOf says how an alert was grouped into a story.
func storyOf(ctx context.Context, st store.Store, a store.Alert) (string, error) {
	switch a.StoryID {
	case "":
		if a.Digest != "" {
			return "not grouped: its rule sends a digest", nil
		}
		return "not grouped: its rule has group = false", nil
	case a.ID:
		members, err := st.Alerts(ctx, store.AlertFilter{StoryID: a.ID})
		if err != nil {
			return "", err
		}
		var others, rules []string
		for _, m := range members {
			switch {
			case m.ID == a.ID:
			case m.FeedKey == a.FeedKey && m.ItemID == a.ItemID:
				rules = append(rules, fmt.Sprintf("%q", m.Rule))
			default:
				others = append(others, fmt.Sprintf("%s: %q", cmpOr(m.FeedName, m.FeedKey), m.Title))
			}
		}
		what := "opened a story"
		if len(rules) > 0 {
			slices.Reverse(rules)
			what += fmt.Sprintf(" (the item matched rule %s of the channel too: one message names them all)", strings.Join(rules, ", "))
		}
		if len(others) == 0 {
			return what + "; its message is the thread for later reports; none has come", nil
		}
		slices.Reverse(others) // oldest first
		return fmt.Sprintf("%s; its message is the thread parent; in its thread, %d: %s", what, len(others), strings.Join(others, "; ")), nil
	}
	parent, err := st.Alert(ctx, a.StoryID)
	if errors.Is(err, store.ErrNotFound) {
		return "a later report of a story whose first alert is no longer in the store", nil
	}
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("a later report of the story opened by %q (%s, rule %q)", parent.Title, cmpOr(parent.FeedName, parent.FeedKey), parent.Rule)
	if parent.FeedKey == a.FeedKey && parent.ItemID == a.ItemID {
		what = fmt.Sprintf("the same item matched another rule of the channel: joined the story opened by its alert for rule %q", parent.Rule)
	}
	switch {
	case a.State != store.StateSent:
		return what, nil
	case parent.FeedKey == a.FeedKey && parent.ItemID == a.ItemID && a.SlackTS == parent.SlackTS:
		if a.SlackTS == "" {
			return what + "; in the same message, which names this rule too (printed to stdout or sent through a webhook)", nil
		}
		return what + "; in the same message, which names this rule too (ts " + parent.SlackTS + ")", nil
	case parent.State == store.StateFailed:
		return what + "; posted as its own message (the story's first alert failed)", nil
	case parent.SlackTS == "":
		return what + "; no thread to reply in (stdout prints one line for it, a webhook posts nothing): counted and logged", nil
	default:
		return what + "; a reply in its thread (ts " + parent.SlackTS + ")", nil
	}
}

func cmpOr(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// printExplanation writes e for a person.
func printExplanation(w io.Writer, e explanation) {
	fmt.Fprintf(w, "ITEM     %s\n", oneLineText(e.Title))
	fmt.Fprintf(w, "         feed %s · id %s\n", e.Feed, e.ID)
	if e.Link != "" {
		fmt.Fprintf(w, "         %s\n", e.Link)
	}
	when := "undated"
	if e.Published != nil {
		when = "published " + notify.FormatTime(*e.Published)
	}
	fmt.Fprintf(w, "         %s · first seen %s\n", when, notify.FormatTime(e.FirstSeen))
	fmt.Fprintf(w, "\nOUTCOME  %s\n", e.Why)
	if len(e.Alerts) == 0 {
		return
	}
	fmt.Fprintf(w, "\nALERTS   %d\n", len(e.Alerts))
	for _, a := range e.Alerts {
		fmt.Fprintf(w, "  %s · rule %q · %s\n", a.Channel, a.Rule, alertState(a))
		if len(a.Matched) > 0 {
			fmt.Fprintf(w, "      matched: %s\n", strings.Join(a.Matched, ", "))
		}
		fmt.Fprintf(w, "      story:   %s\n", a.Story)
		if a.Message != "" {
			fmt.Fprintf(w, "      message: %s\n", a.Message)
		}
		if a.LastError != "" {
			fmt.Fprintf(w, "      last error: %s\n", oneLineText(a.LastError))
		}
	}
}

// alertState is an alert's delivery state in words.
func alertState(a explainedAlert) string {
	attempts := fmt.Sprintf("%d attempt", a.Attempts)
	if a.Attempts != 1 {
		attempts += "s"
	}
	switch a.State {
	case store.StateSent:
		where := "no Slack ts: printed to stdout or sent through a webhook"
		if a.SlackTS != "" {
			where = "Slack ts " + a.SlackTS
		}
		return fmt.Sprintf("sent %s (%s), %s", notify.FormatTime(*a.SentAt), attempts, where)
	case store.StateFailed:
		return fmt.Sprintf("failed %s (%s): given up", notify.FormatTime(*a.FailedAt), attempts)
	case store.StateSending:
		return fmt.Sprintf("being sent now (%s)", attempts)
	default:
		if a.Digest != "" && a.Attempts == 0 {
			return fmt.Sprintf("queued for its digest at %s", notify.FormatTime(*a.NextAttempt))
		}
		if a.NextAttempt.After(time.Now()) {
			return fmt.Sprintf("queued, next attempt %s (%s)", notify.FormatTime(*a.NextAttempt), attempts)
		}
		return fmt.Sprintf("queued, due since %s (%s): waiting for a running Wirewatch to deliver it, at the channel's pace and within [slack] channel_cap", notify.FormatTime(*a.NextAttempt), attempts)
	}
}

// oneLineText flattens s to one line.
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }
