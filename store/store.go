// Package store owns Wirewatch's state: which feeds exist and when they are
// due, which items have been seen, and the outbox of alerts waiting for
// Slack. Everything that must survive a restart lives behind the Store
// interface, with two implementations that pass one contract test:
// embedded SQLite (the default, pure Go) and PostgreSQL (for replicas).
//
// Identity (see docs/architecture.md):
//   - an item is (feed key, item id); the monitor computes the item id;
//   - an alert is (item, rule, channel); AlertID derives its id;
//   - both are unique in the store, so recording twice is harmless.
//
// Exactly-once: CommitPoll writes the seen items and the alerts they raised
// in one transaction, and an alert becomes "sent" only through MarkSent,
// which the notifier calls after Slack accepted the message.
//
// Where things are:
//
//	store.go            the Store interface, its types, AlertID
//	text.go             the text every store accepts (Clean*), and its caps
//	copy.go             Copy: moving a whole state between stores
//	sqlite/, postgres/  the two backends, each split by entity
//	internal/backend    what both backends share: store.Store over a Driver
//	                    (cleaning, checks, error names, claim order, prune
//	                    batches), column lists, row loops
//	internal/payload    an alert's rendering fields as JSON
//	internal/migrate    reading the numbered migrations
//	storetest/          the contract suite, benchmarks and fuzz target both
//	                    backends run
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// ErrNotFound is returned when a row asked for by key does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrUnavailable is wrapped by the errors of a store that cannot take the
// request as a whole, whatever its data: a full disk, an I/O error, a
// read-only file or database, a database that is down, restarting or
// unreachable. Such a write is worth trying again later, unchanged; it says
// nothing about the items or alerts it carried (a refused item does not
// wrap it).
var ErrUnavailable = errors.New("store: unavailable")

// ErrLeaseLost is returned by ExtendFeedLease when the owner no longer
// holds the feed's lease.
var ErrLeaseLost = errors.New("store: lease lost")

// Alert states, in the only order an alert moves through them:
// queued -> sending (claimed, under a lease) -> sent | failed.
const (
	StateQueued  = "queued"
	StateSending = "sending"
	StateSent    = "sent"
	StateFailed  = "failed"
)

// Alert kinds.
const (
	KindItem = "item" // one matched item for one rule and channel
	KindOps  = "ops"  // a message for operators (feed health, delivery failures)
)

// PruneBatch is how many alerts PruneAlerts deletes per transaction.
const PruneBatch = 5000

// Store is the whole of Wirewatch's persistent state. Implementations are
// safe for concurrent use. Every method takes the current time from its
// arguments, never from the wall clock, so tests control time. Times are
// kept to the microsecond. A lease given until U is live while now < U.
// Implementations: store/sqlite and store/postgres; the contract both pass
// is store/storetest. Open does not migrate: call Migrate first.
type Store interface {
	// Migrate brings the schema to the current version. It is idempotent and
	// safe to call from several processes at once.
	Migrate(ctx context.Context) error

	// --- feeds ---

	// SyncFeeds makes the feed table match the configured feeds: new keys are
	// inserted with NextDue = the given due time, known keys keep their state
	// (their URL is updated only if the configured URL changed), keys no
	// longer configured are left alone (their history stays) but are not
	// returned by DueFeeds.
	SyncFeeds(ctx context.Context, feeds []FeedDef) error
	// Feed returns one feed's state, or ErrNotFound.
	Feed(ctx context.Context, key string) (FeedState, error)
	// Feeds returns the state of every configured feed, ordered by key.
	Feeds(ctx context.Context) ([]FeedState, error)
	// ClaimDueFeeds leases up to limit configured feeds whose NextDue <= now
	// and that no live lease holds, for owner until now+lease. A feed whose
	// owner died is claimable again once its lease expired.
	// Feeds come earliest due first; limit <= 0 means no limit.
	ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]FeedState, error)
	// ExtendFeedLease keeps owner's claim on a feed it is still polling:
	// the lease runs until now+lease. It returns ErrLeaseLost if owner no
	// longer holds the feed (another owner claimed it, or the poll was
	// committed), and ErrNotFound for an unknown key.
	ExtendFeedLease(ctx context.Context, key, owner string, now time.Time, lease time.Duration) error

	// --- items ---

	// UnseenItems returns, in input order, the ids from ids that are not yet
	// recorded for the feed.
	UnseenItems(ctx context.Context, feedKey string, ids []string) ([]string, error)

	// CommitPoll records one poll of one feed in a single transaction: the
	// feed's new state (releasing its lease), the items seen, and the alerts
	// they raised. Items and alerts already present are skipped, so
	// committing the same poll twice (or from two replicas) queues each
	// alert once. It returns how many alerts were newly queued.
	// The lease is released only if p.Owner holds it. If the configured URL
	// changed (SyncFeeds) since p.Feed was read, the new URL and its (empty)
	// validators are kept. An invalid item or alert fails the whole poll.
	// An item's FirstSeen defaults to Feed.LastPoll.
	// With p.ForgetBefore set, the same transaction deletes the feed's items
	// first seen before it whose ids are not in p.Present (see Poll).
	CommitPoll(ctx context.Context, p Poll) (queued int, err error)

	// --- outbox ---

	// Enqueue queues alerts outside a poll (ops messages). Duplicates by id
	// are skipped. It returns how many were newly queued.
	Enqueue(ctx context.Context, alerts []Alert) (queued int, err error)
	// ClaimChannel leases one channel that has queued alerts due at now
	// (NextAttempt <= now), is not leased by a live owner, and whose pacing
	// allows a post (ChannelState.NextSendAt <= now). It returns the
	// channel's oldest queued alerts in order (at most limit), all moved to
	// "sending". It returns ("", nil, nil) when nothing is claimable.
	// limit <= 0 means no limit. Among claimable channels, the one whose
	// first claimable alert is oldest is chosen. See Alert for the order
	// rules and for how an expired "sending" alert is recovered.
	ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (channel string, alerts []Alert, err error)
	// MarkSent records Slack's acceptance of an alert (ts is the message
	// timestamp, "" for webhooks and stdout). It returns ErrNotFound for an
	// unknown id; marking a sent alert again changes nothing.
	MarkSent(ctx context.Context, id string, ts string, now time.Time) error
	// Retry puts a claimed alert back to "queued" with its next attempt time,
	// attempt count, last error and whether the last outcome was unknown.
	// The store increments the attempt count. A sent or failed alert is left
	// unchanged (nil error); an unknown id is ErrNotFound.
	Retry(ctx context.Context, id string, next time.Time, lastErr string, uncertain bool) error
	// MarkFailed gives up on an alert for good. A sent alert stays sent; an
	// unknown id is ErrNotFound.
	MarkFailed(ctx context.Context, id string, reason string, now time.Time) error
	// ReleaseChannel ends owner's lease on channel and records when the next
	// message to it may be posted (per-channel pacing across replicas).
	// Alerts of the batch still "sending" go back to "queued".
	// If the lease already passed to another owner, that lease stays and
	// nextSendAt can only move the channel's pacing later.
	ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error
	// RecordPost records a top-level message posted to channel at at, for
	// the per-channel hourly cap, and forgets the channel's posts before
	// forgetBefore.
	RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error
	// Posts returns the times of the top-level messages posted to channel
	// at or after since, oldest first.
	Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error)
	// Alerts lists alerts, newest first, for status pages and tests.
	// Limit <= 0 means no limit.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// Alert returns one alert by id, or ErrNotFound.
	Alert(ctx context.Context, id string) (Alert, error)
	// StoryHeads returns the item alerts that opened a story (StoryID ==
	// ID) created at or after since, oldest first (by CreatedAt, then the
	// order the store received them), in any state. The monitor rebuilds
	// its story index from them; the query is indexed.
	StoryHeads(ctx context.Context, since time.Time) ([]Alert, error)
	// FindItems returns the recorded items, of any feed, whose id or link
	// is one of keys (a GUID, a canonical link, a link as its feed gives
	// it), oldest first. It reads the whole items table (no index serves a
	// lookup by link): it answers `wirewatch explain`, not the poll path.
	FindItems(ctx context.Context, keys []string) ([]Item, error)

	// PruneAlerts deletes the alerts that were sent or failed before
	// before, and returns how many. Queued and sending alerts are never
	// deleted, however old. It deletes PruneBatch alerts per transaction;
	// on an error, the batches before it stay deleted.
	PruneAlerts(ctx context.Context, before time.Time) (int, error)

	// --- item texts ([store] keep_text) ---

	// ItemTexts calls fn for each kept item text first seen at or after
	// since, oldest first: the feed key, the item id, when it was first
	// seen and the text as CommitPoll received it (an itemtext record; rec
	// is valid only during the call). "Oldest first" is the order the
	// texts were stored in, which is the order they were first seen except
	// between polls that committed out of the order they started. An
	// error from fn stops the walk and is returned; so is ctx's. It is
	// backtest.Source.
	ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error
	// PruneTexts deletes the item texts first seen before before, and
	// returns how many, PruneBatch per transaction.
	PruneTexts(ctx context.Context, before time.Time) (int, error)

	// Heartbeat records that owner could write at now: a one-row upsert in
	// a table of its own. Readiness calls it with a deadline, so that a
	// store that answers reads but cannot write (a full disk, a read-only
	// file or database) is not reported ready.
	Heartbeat(ctx context.Context, owner string, now time.Time) error

	// Editorial is what editors change from Slack: their rules, mutes,
	// feedback and the audit log (editor.go).
	Editorial

	Close() error
}

// SortByDue orders feeds as ClaimDueFeeds returns them: earliest due
// first, then by key.
func SortByDue(fs []FeedState) {
	slices.SortFunc(fs, func(a, b FeedState) int {
		if c := a.NextDue.Compare(b.NextDue); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// FeedDef is what the configuration says about a feed.
type FeedDef struct {
	Key string // stable identity of the feed (config id, else name)
	URL string
	Due time.Time // first due time for a feed the store has not seen
}

// FeedState is everything the store remembers about one feed.
type FeedState struct {
	Key string
	// URL is the URL to fetch: the configured one, or where a permanent
	// redirect moved it.
	URL string
	// ConfigURL is the URL in the configuration when the state was written;
	// a changed configured URL resets URL.
	ConfigURL string

	// HTTP validators from the last 200 response, for conditional GET.
	ETag         string
	LastModified string

	NextDue     time.Time
	LastPoll    time.Time
	LastSuccess time.Time
	LastError   string
	// ErrorStreak counts consecutive failed polls; 0 after a success.
	ErrorStreak int
	// FailingSince is when the current error streak began (zero if none).
	FailingSince time.Time
	// HealthAlerted is true once the ops channel was told the feed is down,
	// so it is told once, and told again when it recovers.
	HealthAlerted bool
	// Initialized is true after the first successful poll (backfill done).
	Initialized bool

	Polls       int64 // successful fetches, 200 or 304
	NotModified int64 // of which 304

	// LeaseOwner is the process polling the feed now and LeaseUntil the
	// end of its claim ("" and zero when nobody holds it; a lease whose
	// LeaseUntil passed is free). Feed, Feeds and ClaimDueFeeds fill them;
	// the dump leaves them out (leases are never copied) and CommitPoll
	// ignores them.
	LeaseOwner string
	LeaseUntil time.Time

	// ItemsLast24h is filled by Feeds: items first seen in the 24 hours
	// before the last poll.
	ItemsLast24h int
}

// Poll is the outcome of polling one feed, committed atomically.
type Poll struct {
	Owner  string // the lease holder; "" if the feed was not claimed
	Feed   FeedState
	Items  []Item
	Alerts []Alert

	// Retention: when ForgetBefore is set, the feed's recorded items first
	// seen before it are deleted unless their id is in Present, the ids of
	// the document just fetched. An item is forgotten only once it has left
	// the feed and is older than the retention period, so it cannot be
	// taken for a new one while the publisher still lists it.
	ForgetBefore time.Time
	Present      []string
}

// Item is a feed item as the store records it.
type Item struct {
	FeedKey   string
	ID        string // item id within the feed (GUID, canonical link or hash)
	Title     string
	Link      string
	Published time.Time
	FirstSeen time.Time
	// Outcome is what became of the item when it was first seen: one of
	// the Outcome constants; "" for an item recorded before Wirewatch
	// kept it. Matches are the rules it matched then, each with the mute
	// that kept it from alerting, if one did. `wirewatch explain` shows
	// both.
	Outcome string
	Matches []ItemMatch
	// Text, if not nil, is the item's text to keep for backtests: opaque
	// bytes (an itemtext record) that the store keeps beside the item,
	// first seen at FirstSeen, until PruneTexts; a text over MaxItemText
	// is not kept. A text for an item already recorded is ignored.
	Text []byte
}

// What became of a new item (Item.Outcome).
const (
	// OutcomeAlerted: it matched, and alerts were queued.
	OutcomeAlerted = "alerted"
	// OutcomeNoMatch: it matched no rule.
	OutcomeNoMatch = "no_match"
	// OutcomeMuted: it matched, but every match was muted (the feed's or
	// the rule's mute_until).
	OutcomeMuted = "muted"
	// OutcomeBackfilled: on its feed's first poll it was older than the
	// backfill window (or undated): recorded without matching, so that a
	// new feed does not flood a channel with its archive.
	OutcomeBackfilled = "backfilled"
	// OutcomeOld: it was published before the retention period (old
	// news): recorded without matching.
	OutcomeOld = "old"
)

// ItemMatch is a rule an item matched when it was first seen.
type ItemMatch struct {
	Rule string `json:"rule"`
	// Muted says why the match raised no alert ("feed muted until …",
	// "rule muted until …"); "" if it alerted.
	Muted string `json:"muted,omitempty"`
}

// MaxItemText bounds the item text the store keeps (an itemtext record of
// the longest fields the store accepts is well under it).
const MaxItemText = 1 << 20

// Alert is one message for one channel, with everything needed to render it
// so the notifier never has to look at the feed again.
//
// The store keeps the delivery state and the columns it queries (id, kind,
// channel, digest, story, state, times, lease) as columns and everything used only
// for rendering as a JSON payload, so rendering fields can be added here
// without a schema migration (add them to the payload encoding in
// store/internal/payload too).
//
// Delivery order: the alerts of one channel are delivered in the order the
// store received them (oldest first). A non-digest alert waiting for a later
// NextAttempt (a retry) holds back the later alerts of its channel, never
// those of other channels; a digest alert waiting for its schedule holds back
// nothing. Attempts counts the claims that ended in Retry, MarkSent or
// MarkFailed. An alert whose lease expired while "sending" (its sender died)
// is claimable again, with Uncertain set, since it may have been posted.
type Alert struct {
	ID      string // AlertID(FeedKey, ItemID, Rule, Channel) for item alerts
	Kind    string // KindItem or KindOps
	Channel string

	FeedKey   string
	FeedName  string
	ItemID    string
	GUID      string
	Rule      string
	Title     string
	Link      string
	Published time.Time
	// Snippet is plain text around the match; Marks are byte ranges of
	// Snippet to show in bold (the matched words).
	Snippet string
	Marks   [][2]int
	// Matched are the words and phrases the rule matched, each as
	// field:text ("title:Pakistan"; rules.MatchedWords), at most
	// MaxMatched of them.
	Matched []string
	// Text is the body of an ops message.
	Text string
	// Digest, if set, is the rule's digest schedule: the alert waits in the
	// outbox until NextAttempt and is sent in one summary with the others of
	// the same (Channel, Digest).
	Digest string

	// StoryID groups the alerts of one story in one channel: "" for an
	// alert that is not grouped; equal to ID for the alert that opened the
	// story (its message is the thread parent); otherwise the ID of that
	// parent alert (same channel), and this alert is a follow-up, posted
	// in the parent's thread.
	StoryID string
	// Signature is the story signature (opaque bytes of the story package)
	// of a story's parent, kept so the monitor can rebuild its index from
	// StoryHeads. Follow-ups may carry it too.
	Signature []byte

	// Breaking, on a story's alerts, is when the story counts as breaking
	// and where that is escalated; nil: never (see Breaking).
	Breaking *Breaking
	// Note is an extra line shown with the alert: for the message a
	// breaking story sends to its escalation channel, what happened
	// ("Breaking in #desk: 5 outlets in 38 min").
	Note string

	CreatedAt time.Time

	// Delivery state, owned by the store.
	State       string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	Uncertain   bool // the last post's outcome is unknown
	SlackTS     string
	SentAt      time.Time
	// FailedAt is when MarkFailed gave up on the alert (zero otherwise).
	FailedAt time.Time
}

// AlertFilter selects alerts for Alerts. Zero fields select everything.
type AlertFilter struct {
	State   string
	Channel string
	// StoryID selects the alerts of one story: its parent and follow-ups.
	StoryID string
	// SlackTS selects the alerts one Slack message carried (with Channel:
	// a ts is unique per channel only); a grouped message carries several.
	SlackTS string
	// FeedKey and ItemID, both set, select the item alerts of one item.
	FeedKey, ItemID string
	Limit           int
}

// AlertID is the identity of an item alert: the same (item, rule, channel)
// always gets the same id, whichever process computes it.
func AlertID(feedKey, itemID, rule, channel string) string {
	h := sha256.New()
	for _, s := range []string{feedKey, itemID, rule, channel} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Breaking is a story's breaking-news threshold: once at least Outlets
// distinct outlets (feeds, by name) reported it within Within, the story
// is breaking; its parent message says so and, with EscalateTo set, one
// message goes to that channel (an alert of its own, BreakingAlertID).
type Breaking struct {
	Outlets    int           `json:"n"`
	Within     time.Duration `json:"within"`
	EscalateTo string        `json:"to,omitempty"`
}

// BreakingAlertID is the identity of the escalation message of the story
// opened by parent to channel: one per story and channel, whichever process
// computes it, so the outbox queues it once.
func BreakingAlertID(parent Alert, channel string) string {
	return AlertID(parent.FeedKey, parent.ItemID, "\x00breaking\x00"+parent.ID, channel)
}
