package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Driver runs one backend's SQL. Store calls it with every argument
// already cleaned (store.Clean*) and checked, and names its errors: a
// Driver returns them bare, except those that wrap store.ErrNotFound or
// store.ErrLeaseLost.
type Driver interface {
	// Name is the backend's name in errors ("sqlite", "postgres").
	Name() string
	// NoRows is the driver's error for a read by key that found no row.
	NoRows() error
	// Unavailable says whether err means that the store as a whole cannot
	// take requests now (full, read-only, down), not that it refuses
	// this one's data; Store then wraps store.ErrUnavailable.
	Unavailable(err error) bool

	// Migrate applies the migrations up to version target (0: all).
	Migrate(ctx context.Context, target int) error
	Close() error

	SyncFeeds(ctx context.Context, feeds []store.FeedDef) error
	Feed(ctx context.Context, key string) (store.FeedState, error)
	Feeds(ctx context.Context) ([]store.FeedState, error)
	ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.FeedState, error)
	// ExtendFeedLease extends owner's lease if it holds it (held), and
	// says whether the feed exists.
	ExtendFeedLease(ctx context.Context, key, owner string, until time.Time) (held, exists bool, err error)

	// UnseenItems returns the positions in ids of those not recorded for
	// the feed.
	UnseenItems(ctx context.Context, feedKey string, ids []string) ([]int, error)
	// CommitPoll writes p, with rows[i] the row of p.Alerts[i], in one
	// transaction, and returns how many alerts were new.
	CommitPoll(ctx context.Context, p *store.Poll, rows []AlertRow) (int, error)

	// InsertAlerts writes alerts (rows[i] the row of alerts[i]) not yet
	// present in one transaction and returns how many were new.
	InsertAlerts(ctx context.Context, alerts []store.Alert, rows []AlertRow) (int, error)
	ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (string, []Claimed, error)
	// Mark moves one alert (see Mark) and returns how many rows changed.
	Mark(ctx context.Context, m Mark) (int64, error)
	AlertExists(ctx context.Context, id string) (bool, error)
	ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error
	RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error
	Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error)

	Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	Alert(ctx context.Context, id string) (store.Alert, error)
	StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error)
	// FindItems returns the items whose id is one of ids or whose link is
	// one of links, oldest first.
	FindItems(ctx context.Context, ids, links []string) ([]store.Item, error)
	// PruneBatch deletes at most batch alerts finished before before, in
	// a transaction of its own.
	PruneBatch(ctx context.Context, before time.Time, batch int) (int, error)
	// ItemTexts reads the texts kept since since, oldest first (see
	// store.Store); PruneTexts deletes at most batch texts first seen
	// before before, in a transaction of its own. CommitPoll writes the
	// texts of the items that have one (KeepsText).
	ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error
	PruneTexts(ctx context.Context, before time.Time, batch int) (int, error)
	Heartbeat(ctx context.Context, owner string, now time.Time) error

	DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error
	DumpItems(ctx context.Context, fn func(store.Item) error) error
	DumpAlerts(ctx context.Context, fn func(store.Alert) error) error
	LoadFeeds(ctx context.Context, feeds []store.FeedRecord) error
	LoadItems(ctx context.Context, items []store.Item) error

	EditorDriver
}

// Mark is an alert's move after a delivery attempt.
type Mark struct {
	Kind MarkKind
	ID   string
	// Text is the Slack ts (MarkSent), the last error (Retry) or the
	// reason (MarkFailed), cleaned.
	Text string
	// At is when it was sent or given up (MarkSent, MarkFailed), or the
	// next attempt (Retry).
	At        time.Time
	Uncertain bool // Retry only
}

// MarkKind says which of the alert moves a Mark is.
type MarkKind int

// The moves: sent (from any state but sent), back to queued for a retry
// (from queued or sending), failed (from queued or sending).
const (
	MarkSent MarkKind = iota
	MarkRetry
	MarkFailed
)

// Store is store.Store (and store.Dumper and store.Loader) over a Driver:
// what every method does before and after its SQL — cleaning the text,
// checking the arguments, naming errors, mapping "no row" to ErrNotFound,
// ordering results — is here once, for both backends.
type Store struct {
	d Driver
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Dumper = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

// New returns the Store over d.
func New(d Driver) *Store { return &Store{d: d} }

// fail names err (if any) with the backend and what failed; errors that
// wrap ErrNotFound or ErrLeaseLost already say what they are.
func (s *Store) fail(what string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	err = fmt.Errorf("%s store: %s: %w", s.d.Name(), what, err)
	if s.d.Unavailable(err) {
		return unavailable{err}
	}
	return err
}

// unavailable is an error that also matches store.ErrUnavailable; its
// text is its cause's.
type unavailable struct{ error }

func (u unavailable) Unwrap() error        { return u.error }
func (u unavailable) Is(target error) bool { return target == store.ErrUnavailable }

// result is fail for a method that returns a value too.
func result[T any](s *Store, what string, v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, s.fail(what, err)
	}
	return v, nil
}

// Migrate implements store.Store.
func (s *Store) Migrate(ctx context.Context) error { return s.fail("migrate", s.d.Migrate(ctx, 0)) }

// Close implements store.Store.
func (s *Store) Close() error { return s.d.Close() }

// SyncFeeds implements store.Store. A key given twice counts once (the
// first).
func (s *Store) SyncFeeds(ctx context.Context, feeds []store.FeedDef) error {
	feeds, err := CheckFeedDefs(store.CleanFeedDefs(feeds))
	if err != nil {
		return s.fail("sync feeds", err)
	}
	return s.fail("sync feeds", s.d.SyncFeeds(ctx, feeds))
}

// Feed implements store.Store.
func (s *Store) Feed(ctx context.Context, key string) (store.FeedState, error) {
	key = store.CleanID(key)
	f, err := s.d.Feed(ctx, key)
	return Found(f, err, s.d.NoRows(), s.d.Name(), fmt.Sprintf("feed %q", key))
}

// Feeds implements store.Store.
func (s *Store) Feeds(ctx context.Context) ([]store.FeedState, error) {
	fs, err := s.d.Feeds(ctx)
	return result(s, "feeds", fs, err)
}

// ClaimDueFeeds implements store.Store.
func (s *Store) ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.FeedState, error) {
	owner = store.CleanText(owner, store.MaxName)
	if err := CheckOwner(owner, "claim due feeds"); err != nil {
		return nil, s.fail("claim due feeds", err)
	}
	fs, err := s.d.ClaimDueFeeds(ctx, owner, now, lease, limit)
	store.SortByDue(fs)
	return result(s, "claim due feeds", fs, err)
}

// ExtendFeedLease implements store.Store.
func (s *Store) ExtendFeedLease(ctx context.Context, key, owner string, now time.Time, lease time.Duration) error {
	key, owner = store.CleanID(key), store.CleanText(owner, store.MaxName)
	if err := CheckOwner(owner, "extend feed lease"); err != nil {
		return s.fail("extend feed lease", err)
	}
	held, exists, err := s.d.ExtendFeedLease(ctx, key, owner, now.Add(lease))
	switch {
	case err != nil:
		return s.fail(fmt.Sprintf("extend lease of feed %q", key), err)
	case !exists:
		return fmt.Errorf("feed %q: %w", key, store.ErrNotFound)
	case !held:
		return fmt.Errorf("feed %q: %w", key, store.ErrLeaseLost)
	}
	return nil
}

// UnseenItems implements store.Store: the ids are looked up cleaned, and
// the caller's ids come back.
func (s *Store) UnseenItems(ctx context.Context, feedKey string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{}, nil
	}
	feedKey, clean := store.CleanID(feedKey), store.CleanIDs(ids)
	idx, err := s.d.UnseenItems(ctx, feedKey, clean)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("unseen items of %q", feedKey), err)
	}
	return Unseen(ids, clean, idx), nil
}

// CommitPoll implements store.Store.
func (s *Store) CommitPoll(ctx context.Context, p store.Poll) (int, error) {
	p = store.CleanPoll(p)
	if err := CheckPoll(&p); err != nil {
		return 0, s.fail("commit poll", err)
	}
	rows, err := alertRows(p.Alerts, false)
	if err != nil {
		return 0, s.fail("commit poll of "+p.Feed.Key, err)
	}
	n, err := s.d.CommitPoll(ctx, &p, rows)
	return result(s, "commit poll of "+p.Feed.Key, n, err)
}

// alertRows checks alerts and returns their rows.
func alertRows(alerts []store.Alert, keepState bool) ([]AlertRow, error) {
	rows := make([]AlertRow, len(alerts))
	for i := range alerts {
		r, err := NewAlertRow(&alerts[i], keepState)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// insert writes alerts cleaned; see NewAlertRow for keepState.
func (s *Store) insert(ctx context.Context, what string, alerts []store.Alert, keepState bool) (int, error) {
	alerts = store.CleanAlerts(alerts)
	rows, err := alertRows(alerts, keepState)
	if err != nil {
		return 0, s.fail(what, err)
	}
	if len(alerts) == 0 {
		return 0, nil
	}
	n, err := s.d.InsertAlerts(ctx, alerts, rows)
	return result(s, what, n, err)
}

// Enqueue implements store.Store.
func (s *Store) Enqueue(ctx context.Context, alerts []store.Alert) (int, error) {
	return s.insert(ctx, "enqueue", alerts, false)
}

// ClaimChannel implements store.Store.
func (s *Store) ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (string, []store.Alert, error) {
	owner = store.CleanText(owner, store.MaxName)
	if err := CheckOwner(owner, "claim channel"); err != nil {
		return "", nil, s.fail("claim channel", err)
	}
	ch, got, err := s.d.ClaimChannel(ctx, owner, now, lease, limit)
	if err != nil {
		return "", nil, s.fail("claim channel", err)
	}
	if ch == "" {
		return "", nil, nil
	}
	return ch, InOrder(got), nil
}

// mark moves alert m.ID; see Finish for an update that changed nothing.
func (s *Store) mark(ctx context.Context, what string, m Mark) error {
	m.ID = store.CleanID(m.ID)
	n, err := s.d.Mark(ctx, m)
	if err == nil {
		err = Finish(m.ID, n, func() (bool, error) { return s.d.AlertExists(ctx, m.ID) })
	}
	return s.fail(what+" "+m.ID, err)
}

// MarkSent implements store.Store.
func (s *Store) MarkSent(ctx context.Context, id string, ts string, now time.Time) error {
	return s.mark(ctx, "mark sent", Mark{Kind: MarkSent, ID: id, Text: store.CleanText(ts, store.MaxName), At: now})
}

// Retry implements store.Store.
func (s *Store) Retry(ctx context.Context, id string, next time.Time, lastErr string, uncertain bool) error {
	return s.mark(ctx, "retry", Mark{Kind: MarkRetry, ID: id, Text: store.CleanText(lastErr, store.MaxText), At: next, Uncertain: uncertain})
}

// MarkFailed implements store.Store.
func (s *Store) MarkFailed(ctx context.Context, id string, reason string, now time.Time) error {
	return s.mark(ctx, "mark failed", Mark{Kind: MarkFailed, ID: id, Text: store.CleanText(reason, store.MaxText), At: now})
}

// ReleaseChannel implements store.Store.
func (s *Store) ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error {
	channel, owner = store.CleanText(channel, store.MaxName), store.CleanText(owner, store.MaxName)
	return s.fail("release channel "+channel, s.d.ReleaseChannel(ctx, channel, owner, nextSendAt))
}

// RecordPost implements store.Store.
func (s *Store) RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error {
	channel = store.CleanText(channel, store.MaxName)
	return s.fail("record post to "+channel, s.d.RecordPost(ctx, channel, at, forgetBefore))
}

// Posts implements store.Store.
func (s *Store) Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error) {
	channel = store.CleanText(channel, store.MaxName)
	ts, err := s.d.Posts(ctx, channel, since)
	return result(s, "posts to "+channel, ts, err)
}

// Alerts implements store.Store.
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	as, err := s.d.Alerts(ctx, store.CleanFilter(f))
	return result(s, "alerts", as, err)
}

// Alert implements store.Store.
func (s *Store) Alert(ctx context.Context, id string) (store.Alert, error) {
	id = store.CleanID(id)
	a, err := s.d.Alert(ctx, id)
	return Found(a, err, s.d.NoRows(), s.d.Name(), "alert "+id)
}

// StoryHeads implements store.Store.
func (s *Store) StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error) {
	as, err := s.d.StoryHeads(ctx, since)
	return result(s, "story heads", as, err)
}

// FindItems implements store.Store.
func (s *Store) FindItems(ctx context.Context, keys []string) ([]store.Item, error) {
	ids, links := ItemKeys(keys)
	if len(ids) == 0 {
		return nil, nil
	}
	items, err := s.d.FindItems(ctx, ids, links)
	return result(s, "find items", items, err)
}

// PruneAlerts implements store.Store: PruneBatch alerts per transaction,
// so a large backlog never holds a lock for long and what was deleted
// stays deleted if ctx ends.
func (s *Store) PruneAlerts(ctx context.Context, before time.Time) (int, error) {
	return s.PruneInBatches(ctx, before, store.PruneBatch)
}

// ItemTexts implements store.Store.
func (s *Store) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	err := s.d.ItemTexts(ctx, since, fn)
	if err != nil && ctx.Err() != nil {
		return ctx.Err() // stopped by the caller, not a failing store
	}
	return s.fail("item texts", err)
}

// PruneTexts implements store.Store.
func (s *Store) PruneTexts(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		n, err := s.d.PruneTexts(ctx, before, store.PruneBatch)
		total += n
		if err != nil {
			return total, s.fail("prune item texts", err)
		}
		if n < store.PruneBatch {
			return total, nil
		}
	}
}

// KeepsText reports whether an item's text is to be written: it has one,
// within store.MaxItemText.
func KeepsText(it store.Item) bool { return len(it.Text) > 0 && len(it.Text) <= store.MaxItemText }

// PruneInBatches is PruneAlerts with another batch size (tests).
func (s *Store) PruneInBatches(ctx context.Context, before time.Time, batch int) (int, error) {
	total := 0
	for {
		n, err := s.d.PruneBatch(ctx, before, batch)
		total += n
		if err != nil {
			return total, s.fail("prune alerts", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

// Heartbeat implements store.Store.
func (s *Store) Heartbeat(ctx context.Context, owner string, now time.Time) error {
	return s.fail("heartbeat", s.d.Heartbeat(ctx, store.CleanText(owner, store.MaxName), now))
}

// DumpFeeds implements store.Dumper.
func (s *Store) DumpFeeds(ctx context.Context, fn func(store.FeedRecord) error) error {
	return s.fail("dump feeds", s.d.DumpFeeds(ctx, fn))
}

// DumpItems implements store.Dumper.
func (s *Store) DumpItems(ctx context.Context, fn func(store.Item) error) error {
	return s.fail("dump items", s.d.DumpItems(ctx, fn))
}

// DumpAlerts implements store.Dumper.
func (s *Store) DumpAlerts(ctx context.Context, fn func(store.Alert) error) error {
	return s.fail("dump alerts", s.d.DumpAlerts(ctx, fn))
}

// LoadFeeds implements store.Loader.
func (s *Store) LoadFeeds(ctx context.Context, feeds []store.FeedRecord) error {
	return s.fail("load feeds", s.d.LoadFeeds(ctx, store.CleanFeedRecords(feeds)))
}

// LoadItems implements store.Loader.
func (s *Store) LoadItems(ctx context.Context, items []store.Item) error {
	return s.fail("load items", s.d.LoadItems(ctx, store.CleanItems(items)))
}

// LoadAlerts implements store.Loader.
func (s *Store) LoadAlerts(ctx context.Context, alerts []store.Alert) (int, error) {
	return s.insert(ctx, "load alerts", alerts, true)
}
