// Package backend owns the logic the two SQL backends (store/sqlite and
// store/postgres) share, so that it is written once and they cannot
// drift. Store (store.go) implements store.Store over a Driver: it cleans
// every text argument, checks it, names errors, maps "no row" to
// ErrNotFound, orders claims and batches prunes; a Driver only runs its
// backend's SQL. This file has the pieces both drivers use: the column
// lists, the row loops (Each, Collect, QueryEach, QueryAll), the row an
// alert is inserted with, including the delivery state restored on load
// (NewAlertRow), how a read alert is completed (FinishAlert), the order
// of claimed alerts (InOrder), the channels of a batch (Channels), the
// conditions of an alert listing (AlertWhere) and the checks and
// mappings Store applies (CheckOwner, CheckPoll, CheckFeedDefs, Found,
// Finish, Unseen).
package backend

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/internal/payload"
)

// Columns both schemas name alike, in the order the backends scan them.
const (
	FeedCols = `key, url, config_url, etag, last_modified, next_due, last_poll, last_success,
	last_error, error_streak, failing_since, health_alerted, initialized, polls, not_modified`
	// LeaseCols follow FeedCols where a read shows who polls the feed.
	LeaseCols = `lease_owner, lease_until`
	AlertCols = `id, kind, channel, digest, state, created_at, next_attempt, attempts, last_error,
	uncertain, slack_ts, done_at, story_id, payload`
	ItemCols = `feed_key, item_id, title, link, published, first_seen, outcome, matches`

	// LoadFeedSet is the upsert of LoadFeeds: every column of the row
	// loaded, the lease columns left to the backend (dropped).
	LoadFeedSet = `url = excluded.url, config_url = excluded.config_url,
	etag = excluded.etag, last_modified = excluded.last_modified, next_due = excluded.next_due,
	last_poll = excluded.last_poll, last_success = excluded.last_success,
	last_error = excluded.last_error, error_streak = excluded.error_streak,
	failing_since = excluded.failing_since, health_alerted = excluded.health_alerted,
	initialized = excluded.initialized, polls = excluded.polls,
	not_modified = excluded.not_modified, configured = excluded.configured`
)

// ReadFeedSQL reads feeds with their lease and the number of their items
// first seen in the day before their last poll (index items_first_seen):
// dayBefore is the dialect's "feeds.last_poll minus a day", never its
// "no time".
func ReadFeedSQL(dayBefore, never string) string {
	return `SELECT ` + FeedCols + `, ` + LeaseCols + `,
	(SELECT count(*) FROM items i WHERE i.feed_key = feeds.key
		AND i.first_seen > ` + dayBefore + ` AND i.first_seen <= feeds.last_poll AND feeds.last_poll > ` + never + `)
	FROM feeds`
}

// Rows is what both drivers' result sets offer for a row loop; scanning
// is the caller's.
type Rows interface {
	Next() bool
	Err() error
}

// Query runs a driver's query: it returns the rows and how to close them.
type Query[R Rows] func() (rows R, close func(), err error)

// QueryEach runs q and calls fn with each row scan reads.
func QueryEach[R Rows, T any](q Query[R], scan func(R) (T, error), fn func(T) error) error {
	rows, closeRows, err := q()
	if err != nil {
		return err
	}
	defer closeRows()
	return Each(rows, func() (T, error) { return scan(rows) }, fn)
}

// QueryAll runs q and returns every row scan reads.
func QueryAll[R Rows, T any](q Query[R], scan func(R) (T, error)) ([]T, error) {
	var out []T
	err := QueryEach(q, scan, func(v T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// Found maps the error of a read by key: no row (errors.Is(err, noRows))
// is store.ErrNotFound, any other error names the backend; both name what
// was looked for.
func Found[T any](v T, err, noRows error, name, what string) (T, error) {
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, noRows):
		return v, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	default:
		return v, fmt.Errorf("%s store: %s: %w", name, what, err)
	}
}

// Each calls fn with every row scan reads from rows; an error from scan or
// fn stops it. The caller closes rows.
func Each[T any](rows Rows, scan func() (T, error), fn func(T) error) error {
	for rows.Next() {
		v, err := scan()
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Collect returns every row scan reads from rows. The caller closes rows.
func Collect[T any](rows Rows, scan func() (T, error)) ([]T, error) {
	var out []T
	err := Each(rows, scan, func(v T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// CheckOwner refuses an empty lease owner (after cleaning).
func CheckOwner(owner, what string) error {
	if owner == "" {
		return fmt.Errorf("%s: empty owner", what)
	}
	return nil
}

// CheckPoll checks a cleaned poll before it is written: a feed key, and
// items of that feed only.
func CheckPoll(p *store.Poll) error {
	if p.Feed.Key == "" {
		return errors.New("commit poll: empty feed key")
	}
	for _, it := range p.Items {
		if it.FeedKey != "" && it.FeedKey != p.Feed.Key {
			return fmt.Errorf("commit poll of %s: item %q belongs to feed %q", p.Feed.Key, it.ID, it.FeedKey)
		}
	}
	return nil
}

// FirstSeen is when an item of p was first seen: its own FirstSeen, else
// the poll's time.
func FirstSeen(it store.Item, p *store.Poll) time.Time {
	if it.FirstSeen.IsZero() {
		return p.Feed.LastPoll
	}
	return it.FirstSeen
}

// CheckFeedDefs refuses a feed without a key, and drops repeated keys (the
// first one counts).
func CheckFeedDefs(feeds []store.FeedDef) ([]store.FeedDef, error) {
	seen := make(map[string]bool, len(feeds))
	out := make([]store.FeedDef, 0, len(feeds))
	for _, d := range feeds {
		if d.Key == "" {
			return nil, fmt.Errorf("sync feeds: feed with URL %q has an empty key", d.URL)
		}
		if !seen[d.Key] {
			seen[d.Key] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// AlertRow is what an alert is inserted with besides its own fields.
type AlertRow struct {
	State     string
	Attempts  int
	LastError string
	Uncertain bool
	SlackTS   string
	Done      time.Time // SentAt or FailedAt
	Payload   []byte    // the rendering fields (store/internal/payload)
}

// NewAlertRow checks a (cleaned) alert and returns its row. Unless
// keepState, the alert starts "queued" with no attempts; with keepState
// (LoadAlerts) its delivery state is kept, except that "sending" becomes
// "queued" and uncertain: it may have been posted.
func NewAlertRow(a *store.Alert, keepState bool) (AlertRow, error) {
	switch {
	case a.ID == "":
		return AlertRow{}, fmt.Errorf("alert for channel %q with an empty id", a.Channel)
	case a.Channel == "":
		return AlertRow{}, fmt.Errorf("alert %s has no channel", a.ID)
	case a.Kind == "":
		return AlertRow{}, fmt.Errorf("alert %s has no kind", a.ID)
	}
	pl, err := payload.Encode(a)
	if err != nil {
		return AlertRow{}, err
	}
	r := AlertRow{State: store.StateQueued, Payload: pl}
	if !keepState {
		return r, nil
	}
	r.State, r.Attempts, r.LastError, r.Uncertain, r.SlackTS = a.State, a.Attempts, a.LastError, a.Uncertain, a.SlackTS
	switch a.State {
	case store.StateSending:
		r.State, r.Uncertain = store.StateQueued, true
	case store.StateSent:
		r.Done = a.SentAt
	case store.StateFailed:
		r.Done = a.FailedAt
	case store.StateQueued:
	default:
		return AlertRow{}, fmt.Errorf("alert %s: unknown state %q", a.ID, a.State)
	}
	return r, nil
}

// Channels returns the distinct channels of alerts, sorted, so that
// concurrent commits take the channels' rows in the same order.
func Channels(alerts []store.Alert) []string {
	var out []string
	for i := range alerts {
		if !slices.Contains(out, alerts[i].Channel) {
			out = append(out, alerts[i].Channel)
		}
	}
	slices.Sort(out)
	return out
}

// FinishAlert completes an alert read from its columns: done is SentAt
// or FailedAt by state, and the payload fills the rendering fields.
func FinishAlert(a *store.Alert, done time.Time, pl []byte) error {
	switch a.State {
	case store.StateSent:
		a.SentAt = done
	case store.StateFailed:
		a.FailedAt = done
	}
	return payload.Decode(pl, a)
}

// Claimed is an alert a claim returned, with its place in the outbox.
type Claimed struct {
	Seq   int64
	Alert store.Alert
}

// InOrder returns the claimed alerts in delivery order (an UPDATE ...
// RETURNING gives them in no particular order).
func InOrder(c []Claimed) []store.Alert {
	slices.SortFunc(c, func(a, b Claimed) int { return int(a.Seq - b.Seq) })
	out := make([]store.Alert, len(c))
	for i := range c {
		out[i] = c[i].Alert
	}
	return out
}

// Finish decides the outcome of an update of alert id that changed
// affected rows: nil if it changed one; else the alert must exist (else
// ErrNotFound) and was in a state the update leaves alone (nil).
func Finish(id string, affected int64, exists func() (bool, error)) error {
	if affected > 0 {
		return nil
	}
	ok, err := exists()
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// AlertWhere returns the conditions of an alert listing for f (its
// non-zero fields only, so each shape gets its own plan and index) and
// their arguments; arg returns the placeholder of the n-th argument, and
// payload the dialect's expression for a payload key as text (the index
// alerts_item is on the expressions of "feed" and "item").
func AlertWhere(f store.AlertFilter, arg func(n int) string, payload func(key string) string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", arg(len(args))))
	}
	if f.State != "" {
		add("state = ?", f.State)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if f.StoryID != "" {
		// The literal term lets the partial index alerts_story serve.
		add("story_id = ? AND story_id <> ''", f.StoryID)
	}
	if f.SlackTS != "" {
		add("slack_ts = ? AND slack_ts <> ''", f.SlackTS)
	}
	if f.FeedKey != "" || f.ItemID != "" {
		// The literal term lets the partial index alerts_item serve.
		add("kind = 'item' AND "+payload("feed")+" = ?", f.FeedKey)
		add(payload("item")+" = ?", f.ItemID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// EncodeMatches is an item's matches as its matches column holds them:
// "" for none, else a JSON array.
func EncodeMatches(ms []store.ItemMatch) (string, error) {
	if len(ms) == 0 {
		return "", nil
	}
	b, err := json.Marshal(ms)
	if err != nil {
		return "", fmt.Errorf("encoding an item's matches: %w", err)
	}
	return string(b), nil
}

// DecodeMatches reads an item's matches column.
func DecodeMatches(s string) ([]store.ItemMatch, error) {
	if s == "" {
		return nil, nil
	}
	var ms []store.ItemMatch
	if err := json.Unmarshal([]byte(s), &ms); err != nil {
		return nil, fmt.Errorf("decoding an item's matches: %w", err)
	}
	return ms, nil
}

// ItemKeys are the cleaned forms of the keys FindItems looks for: as item
// ids (CleanID) and as links (CleanText).
func ItemKeys(keys []string) (ids, links []string) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		ids = append(ids, store.CleanID(k))
		links = append(links, store.CleanText(k, store.MaxLink))
	}
	return ids, links
}

// Unseen returns, in input order and once each, the ids whose cleaned form
// (clean[i] is store.CleanID(ids[i])) a backend found unrecorded; idx are
// the positions in clean it reported.
func Unseen(ids, clean []string, idx []int) []string {
	out := make([]string, 0, len(idx))
	seen := make(map[string]bool, len(idx))
	for _, i := range idx {
		if i < 0 || i >= len(ids) || seen[clean[i]] {
			continue // a duplicate id in the input is reported once
		}
		seen[clean[i]] = true
		out = append(out, ids[i])
	}
	return out
}
