// Package monitor owns the polling of feeds: when each feed is due, fetching
// and parsing it (through monitor/fetch and monitor/parse), deciding which
// items are new, matching them against the rules, and committing the poll —
// items seen, alerts queued, feed state — to the store in one transaction
// (a document of more than 1,000 items a batch at a time, see newItems,
// and big documents within a memory budget, see budget.go).
// It never talks to Slack: the notifier reads the outbox.
//
// Item identity is the feed key plus parse.Item.ID (GUID, else canonical
// link, else a hash of title and content). Alert identity is the item plus
// the rule name plus the channel (store.AlertID).
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// DefaultDocumentBudget is Options.DocumentBudget's default.
const DefaultDocumentBudget = 32 << 20

// Feed is one feed to poll, as the monitor needs it.
type Feed struct {
	Key      string // stable identity (store key)
	Name     string // shown in alerts
	URL      string
	Every    time.Duration // interval; ignored when Schedule is set
	Schedule cron.Schedule // cron schedule, or nil
	Channels []string      // extra channels for every alert of this feed
	Backfill time.Duration // on the first poll, items older than this are not alerted
	// MinEvery and MaxEvery, when both set, make polling adaptive: after a
	// poll that found new items the interval halves, after one that found
	// none it grows by half, always within [MinEvery, MaxEvery].
	MinEvery, MaxEvery time.Duration
	// MuteUntil: no alerts from this feed before then; its items are still
	// recorded as seen, so nothing floods in when the mute ends.
	MuteUntil time.Time
}

// Route says where a rule's matches go.
type Route struct {
	Channels []string
	// Digest, when set, holds the rule's alerts until the schedule's next
	// time; DigestSpec is its text, stored with each alert to group them.
	Digest     cron.Schedule
	DigestSpec string
	// MuteUntil: no alerts from this rule before then.
	MuteUntil time.Time
	// Group threads later reports of an alerted story under its first
	// alert; Window is how long a story stays open for that (zero: the
	// monitor's StoryWindow).
	Group  bool
	Window time.Duration
}

// RuleSet is an immutable set of compiled rules and their routes. The
// monitor swaps it atomically (SetRules), so a reload never disturbs a poll
// in progress.
type RuleSet struct {
	Index  *rules.Index
	Routes map[string]Route // by rule name
	// Breaking is the breaking-story threshold of a rule's stories in a
	// channel (config.Config.BreakingFor); nil, or Outlets 0: none.
	Breaking func(rule, channel string) store.Breaking
}

// breaking is the threshold the alerts of rule's stories in channel carry.
func (rs *RuleSet) breaking(rule, channel string) *store.Breaking {
	if rs.Breaking == nil {
		return nil
	}
	b := rs.Breaking(rule, channel)
	if b.Outlets <= 0 {
		return nil
	}
	return &b
}

// Store is what the monitor needs of the state (store.Store has it): the
// feeds it polls and their leases, the items it has seen, the commits of
// its polls, the pruning of old alerts, and the story heads (stories.go).
type Store interface {
	SyncFeeds(ctx context.Context, feeds []store.FeedDef) error
	Feed(ctx context.Context, key string) (store.FeedState, error)
	ClaimDueFeeds(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.FeedState, error)
	ExtendFeedLease(ctx context.Context, key, owner string, now time.Time, lease time.Duration) error
	UnseenItems(ctx context.Context, feedKey string, ids []string) ([]string, error)
	CommitPoll(ctx context.Context, p store.Poll) (queued int, err error)
	PruneAlerts(ctx context.Context, before time.Time) (int, error)
	PruneTexts(ctx context.Context, before time.Time) (int, error)
	storyHeads
}

// Options configure a Monitor. Store, Fetcher and Rules are required.
type Options struct {
	Store   Store
	Fetcher *fetch.Fetcher
	Feeds   []Feed
	Rules   *RuleSet

	// Owner identifies this process in feed leases.
	Owner string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Concurrency bounds how many feeds are polled at once (default 16).
	Concurrency int
	// Lease is how long a claimed feed stays ours (default 1m; keep it above
	// the fetch timeout); a poll in progress extends it every third of it,
	// so a process that dies mid-poll loses its claim within this, and the
	// feed is polled again.
	Lease time.Duration
	// MaxBackoff caps the delay after repeated failures (default 6h).
	MaxBackoff time.Duration
	// MaxInterval caps how far feed hints (<ttl>, sy:updatePeriod,
	// Cache-Control max-age) may stretch a feed's interval (default 1h); a
	// feed configured with a longer interval keeps it.
	MaxInterval time.Duration
	// HealthAfter is how long a feed must fail before one health alert goes
	// to OpsChannel (default 1h). No health alerts without OpsChannel.
	HealthAfter time.Duration
	OpsChannel  string
	// SnippetRunes is the snippet length stored with each alert (default 300).
	SnippetRunes int
	// Grace is how long Run lets polls in flight finish after its context
	// is cancelled (default 10s).
	Grace time.Duration
	// Metrics, if set, counts fetches, items, matches and scheduler lag.
	Metrics *metrics.Set
	// StoryWindow is how long an alerted story collects later reports of
	// the same story in its channel (default 24h); a rule's Window
	// (cooldown) overrides it.
	StoryWindow time.Duration
	// Retention (0: keep everything) is how long the store keeps what it
	// no longer needs: a seen item is forgotten once it has left its feed
	// and was first seen longer ago than this, and a sent or failed alert
	// once it finished longer ago (pruned hourly by Run; see pruneEvery). An item published
	// longer ago than this is old news: it is recorded but raises no alert,
	// so a forgotten item that a feed lists again stays quiet.
	Retention time.Duration
	// DocumentBudget bounds the bytes of big feed documents (1 MB and
	// more) parsed and decided about at once (default 32 MB: three
	// documents of the default 10 MB cap). A poll of a big document waits,
	// holding its fetched body, until its size is free; a document bigger
	// than the budget waits until it is alone. Smaller documents never wait.
	DocumentBudget int64
	// KeepText (0: none) is how long the text of each new item that is
	// matched is kept in the store, for backtests ([store] keep_text):
	// written with the poll (an itemtext record), deleted hourly by Run
	// once first seen longer ago. Items recorded without being matched (a
	// feed's archive on its first poll, old news) keep no text.
	KeepText time.Duration

	Logger *slog.Logger
}

// Monitor polls feeds. It is safe for concurrent use.
type Monitor struct {
	o       Options
	feeds   atomic.Pointer[[]Feed]
	rules   atomic.Pointer[RuleSet]
	stories *stories
	docs    *docBudget
	// analyzer remembers the word forms of the news it has read, so that
	// each item's analysis stems only words it has not met before.
	analyzer *rules.Analyzer
	log      *slog.Logger
	// claimLog and storyLog quiet the repeats of their errors while the
	// store is unavailable.
	claimLog, storyLog store.Repeats
	// leaseCheck is how often (real time) a poll in progress checks
	// whether its feed's lease needs extending.
	leaseCheck time.Duration
}

// New checks the options and returns a Monitor.
func New(o Options) (*Monitor, error) {
	if o.Store == nil || o.Fetcher == nil || o.Rules == nil || o.Rules.Index == nil {
		return nil, errors.New("monitor: Store, Fetcher and Rules are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 6 * time.Hour
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = time.Hour
	}
	if o.HealthAfter <= 0 {
		o.HealthAfter = time.Hour
	}
	if o.SnippetRunes <= 0 {
		o.SnippetRunes = 300
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.StoryWindow <= 0 {
		o.StoryWindow = 24 * time.Hour
	}
	if o.Owner == "" {
		o.Owner = "monitor"
	}
	if o.DocumentBudget <= 0 {
		o.DocumentBudget = DefaultDocumentBudget
	}
	m := &Monitor{o: o, log: o.Logger, stories: newStories(o.StoryWindow), analyzer: rules.NewAnalyzer(), docs: newDocBudget(o.DocumentBudget),
		leaseCheck: min(o.Lease/6, 5*time.Second)}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.SetFeeds(o.Feeds)
	m.SetRules(o.Rules)
	return m, nil
}

// SetRules swaps the rule set; polls that already started finish with the
// old one.
func (m *Monitor) SetRules(rs *RuleSet) { m.rules.Store(rs) }

// SetFeeds swaps the feed list. Call Sync afterwards to register new feeds
// in the store.
func (m *Monitor) SetFeeds(feeds []Feed) {
	cp := append([]Feed(nil), feeds...)
	m.feeds.Store(&cp)
}

func (m *Monitor) feedList() []Feed { return *m.feeds.Load() }

// Sync registers the configured feeds in the store. A feed the store has
// not seen gets a random first due time, so that many new feeds with the
// same interval do not all fire in the same second: spread over about 100 ms
// per feed (10 feeds a second), but never more than half the feed's
// interval. A handful of new feeds are polled at once; 5,000 are spread
// over minutes.
func (m *Monitor) Sync(ctx context.Context) error {
	now := m.o.Now()
	feeds := m.feedList()
	window := time.Duration(len(feeds)) * 100 * time.Millisecond
	defs := make([]store.FeedDef, 0, len(feeds))
	for _, f := range feeds {
		w := window
		if f.Every > 0 {
			w = min(w, f.Every/2)
		}
		defs = append(defs, store.FeedDef{Key: f.Key, URL: f.URL, Due: now.Add(spread(w, 1))})
	}
	if err := m.o.Store.SyncFeeds(ctx, defs); err != nil {
		return fmt.Errorf("monitor: registering feeds: %w", err)
	}
	return nil
}

// spread returns a random duration in [0, frac*d).
func spread(d time.Duration, frac float64) time.Duration {
	n := int64(float64(d) * frac)
	if n <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(n))
}

// Result is what one poll of one feed did.
type Result struct {
	Feed        string
	NotModified bool
	Items       int // items in the feed document
	New         int // items not seen before
	// Why new items raised no alert without matching: Backfilled were
	// published before the backfill window (or undated) on the feed's
	// first poll; Old before the retention period (old news). Both are
	// recorded as seen, not matched. Muted matched only muted rules (or
	// the feed is muted).
	Backfilled, Old, Muted int
	// Alerts are, in a dry run, the alerts that would have been queued;
	// a recorded poll leaves them in the outbox (and nil here).
	Alerts []store.Alert
	// Queued is how many alerts were newly queued in the outbox; in a dry
	// run, how many would have been (len(Alerts)).
	Queued int
	DryRun bool
	Err    error
}

// PollAll polls every configured feed once, now, whatever its due time,
// with bounded concurrency. With dryRun nothing is recorded: the results
// carry the alerts that would be queued. One feed's failure never stops the
// others; it is reported in its Result.
func (m *Monitor) PollAll(ctx context.Context, dryRun bool) []Result {
	m.refreshStories(ctx)
	feeds := m.feedList()
	results := make([]Result, len(feeds))
	sem := make(chan struct{}, m.o.Concurrency)
	var wg sync.WaitGroup
	for i, f := range feeds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = m.pollSafe(ctx, f, nil, "", dryRun)
		}()
	}
	wg.Wait()
	return results
}

// Run polls feeds as they fall due until ctx is cancelled. Due times live in
// the store, so a restart resumes where the last process stopped, and
// several replicas share the work through feed leases.
//
// When ctx is cancelled Run stops claiming feeds and lets the polls in
// flight finish for up to Options.Grace; polls still running then are
// cancelled and their feeds handed back (their leases released, their state
// untouched), so another process polls them at once.
func (m *Monitor) Run(ctx context.Context) error {
	if err := m.Sync(ctx); err != nil {
		return err
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	sem := make(chan struct{}, m.o.Concurrency)
	// wake is signalled when a poll ends, so that a backlog of due feeds is
	// claimed as fast as slots free up rather than once a second.
	wake := make(chan struct{}, 1)
	saturated := false // the last claim filled every free slot: more may be due
	var wg sync.WaitGroup
	// polling holds the feeds being polled: one feed never takes two slots,
	// even if its lease lapsed and this process claimed it again.
	var pollingMu sync.Mutex
	polling := map[string]bool{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var pruned time.Time
	for {
		m.refreshStories(ctx)
		if now := m.o.Now(); now.Sub(pruned) >= m.pruneEvery() {
			pruned = now
			if m.o.Retention > 0 {
				m.pruneAlerts(ctx, now)
			}
			m.pruneTexts(ctx, now)
		}
		if free := cap(sem) - len(sem); free > 0 {
			claimed := m.o.Now()
			due, err := m.o.Store.ClaimDueFeeds(ctx, m.o.Owner, claimed, m.o.Lease, free)
			if ctx.Err() == nil {
				if lvl := m.claimLog.Level(err, slog.LevelError); err != nil {
					m.log.Log(ctx, lvl, "claiming due feeds", "err", err)
				}
			}
			saturated = len(due) == free
			if len(due) > 0 {
				byKey := make(map[string]Feed, len(m.feedList()))
				for _, f := range m.feedList() {
					byKey[f.Key] = f
				}
				for _, st := range due {
					f, ok := byKey[st.Key]
					if !ok {
						continue // removed from the config since the claim
					}
					pollingMu.Lock()
					busy := polling[st.Key]
					polling[st.Key] = true
					pollingMu.Unlock()
					if busy {
						continue // still polling it: the poll in progress commits
					}
					m.o.Metrics.SchedulerLag(claimed.Sub(st.NextDue))
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer func() {
							pollingMu.Lock()
							delete(polling, st.Key)
							pollingMu.Unlock()
							<-sem
							wg.Done()
							select {
							case wake <- struct{}{}:
							default:
							}
						}()
						m.pollSafe(work, f, &st, m.o.Owner, false)
					}()
				}
			}
		}
		select {
		case <-ctx.Done():
			return m.drain(&wg, cancelWork)
		case <-tick.C:
		case <-wake:
			if !saturated {
				// Nothing else was due at the last claim: wait for the tick.
				select {
				case <-ctx.Done():
					return m.drain(&wg, cancelWork)
				case <-tick.C:
				}
			}
		}
	}
}

// pruneEvery is how often Run prunes finished alerts and kept texts:
// hourly, or a tenth of the shorter period (at least a minute) when that is
// under ten hours, so that short periods (soak tests) stay bounded.
func (m *Monitor) pruneEvery() time.Duration {
	every := time.Hour
	for _, p := range []time.Duration{m.o.Retention, m.o.KeepText} {
		if p > 0 && p/10 < every {
			every = max(p/10, time.Minute)
		}
	}
	return every
}

// pruneAlerts deletes the alerts that finished longer ago than the
// retention period.
func (m *Monitor) pruneAlerts(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := m.o.Store.PruneAlerts(ctx, now.Add(-m.o.Retention))
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("pruning old alerts", "err", err)
		}
		return
	}
	if n > 0 {
		m.log.Info("pruned old alerts", "alerts", n, "retention", m.o.Retention.String())
	}
}

// pruneTexts deletes the item texts first seen longer ago than KeepText
// (all of them when texts are not kept, so turning keep_text off frees
// their space).
func (m *Monitor) pruneTexts(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := m.o.Store.PruneTexts(ctx, now.Add(-m.o.KeepText))
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("pruning old item texts", "err", err)
		}
		return
	}
	if n > 0 {
		m.log.Info("pruned old item texts", "texts", n, "keep_text", m.o.KeepText.String())
	}
}

// refreshStories brings the story indexes up to date with the store (other
// replicas' alerts, or this process's history after a restart).
func (m *Monitor) refreshStories(ctx context.Context) {
	err := m.stories.refresh(ctx, m.o.Store, m.rules.Load().Routes, m.o.Now())
	if lvl := m.storyLog.Level(err, slog.LevelWarn); err != nil && ctx.Err() == nil {
		m.log.Log(ctx, lvl, "reading recent stories", "err", err)
	}
}

// drain waits for the polls in flight, for at most Grace.
func (m *Monitor) drain(wg *sync.WaitGroup, cancelWork context.CancelFunc) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(m.o.Grace):
		m.log.Warn("shutdown: grace period over, handing back the feeds still being polled", "grace", m.o.Grace)
		cancelWork()
		<-done
		return nil
	}
}

// pollSafe polls one feed and turns a panic into an error, so that a feed
// that trips a bug never takes the process down.
func (m *Monitor) pollSafe(ctx context.Context, f Feed, claimed *store.FeedState, owner string, dryRun bool) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Error("panic while polling feed", "feed", f.Name, "panic", r, "stack", string(debug.Stack()))
			res = Result{Feed: f.Name, Err: fmt.Errorf("feed %q: internal error: %v", f.Name, r)}
		}
	}()
	res = m.poll(ctx, f, claimed, owner, dryRun)
	switch {
	case res.Err != nil:
		m.log.Warn("feed poll failed", "feed", f.Name, "url", redact.URL(f.URL), "err", res.Err)
	case dryRun:
		// What the dry run prints: the alerts that would have been queued.
		m.log.Info("dry run: feed polled, nothing recorded", "feed", f.Name, "items", res.Items, "new", res.New,
			"backfilled", res.Backfilled, "old", res.Old, "muted", res.Muted, "queued", res.Queued, "not_modified", res.NotModified)
	default:
		m.log.Info("feed polled", "feed", f.Name, "items", res.Items, "new", res.New,
			"backfilled", res.Backfilled, "old", res.Old, "muted", res.Muted, "queued", res.Queued, "not_modified", res.NotModified)
	}
	return res
}

// poll fetches one feed, decides which items are new, matches them and
// commits the outcome (unless dryRun). claimed is the feed's state as
// claimed, when the caller has it (nil: read it from the store).
func (m *Monitor) poll(ctx context.Context, f Feed, claimed *store.FeedState, owner string, dryRun bool) Result {
	res := Result{Feed: f.Name, DryRun: dryRun}
	lease := m.keepLease(ctx, f, owner)
	defer lease.stop()
	var st store.FeedState
	if claimed != nil {
		st = *claimed
	} else {
		var err error
		st, err = m.o.Store.Feed(ctx, f.Key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			st = store.FeedState{Key: f.Key, URL: f.URL, ConfigURL: f.URL}
		case err != nil:
			res.Err = fmt.Errorf("feed %q: reading state: %w", f.Name, err)
			return res
		}
	}
	// before is what the batches of a big poll record as the feed's
	// state until the poll's own commit (see newItems).
	before := st
	if st.URL == "" || st.ConfigURL != f.URL {
		st.URL, st.ConfigURL = f.URL, f.URL
		st.ETag, st.LastModified = "", ""
	}
	now := m.o.Now()

	started := time.Now()
	fr, err := m.o.Fetcher.Fetch(ctx, fetch.Request{URL: st.URL, ETag: st.ETag, LastModified: st.LastModified})
	took := time.Since(started)
	var doc *parse.Feed
	switch {
	case err != nil:
		result := metrics.ResultError
		var fe *fetch.Error
		if errors.As(err, &fe) {
			result = fe.Kind.Label()
		}
		m.o.Metrics.FetchDone(result, took)
	case fr.NotModified:
		m.o.Metrics.FetchDone(metrics.ResultNotModified, took)
	default:
		var release func()
		release, err = m.docs.take(ctx, len(fr.Body))
		if err != nil {
			break // shutting down while waiting: handed back below
		}
		defer release()
		doc, err = parse.Parse(fr.Body, fr.ContentType, fr.URL)
		fr.Body = nil // the items hold what is needed of it
		if err != nil {
			m.o.Metrics.FetchDone(metrics.ResultParseError, took)
		} else {
			cleanItems(doc.Items)
			m.o.Metrics.FetchDone(metrics.ResultOK, took)
			m.o.Metrics.ItemsParsed(len(doc.Items))
			if doc.Truncated {
				m.log.Warn("feed document was cut off; its complete items were read", "feed", f.Name)
			}
		}
	}
	if err != nil {
		res.Err = fmt.Errorf("feed %q: %w", f.Name, err)
		if dryRun {
			return res
		}
		if ctx.Err() != nil {
			// Our own shutdown, not the feed's fault: hand the feed back
			// unchanged (lease released, due now) instead of recording a
			// failure.
			lease.stop()
			m.handBack(f, owner)
			return res
		}
		ops := m.failed(&st, f, now, err)
		q, cerr := m.commit(ctx, f, lease, store.Poll{Owner: owner, Feed: st, Alerts: ops})
		if cerr != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("feed %q: recording failure: %w", f.Name, cerr))
		}
		m.o.Metrics.AlertQueued(q)
		return res
	}

	var ops []store.Alert
	if st.HealthAlerted {
		ops = append(ops, m.opsAlert(f, now, fmt.Sprintf("Feed %s is back: fetched successfully after %d failed polls since %s.", f.Name, st.ErrorStreak, st.FailingSince.UTC().Format(time.RFC3339))))
	}
	st.Polls++
	st.LastSuccess = now
	st.LastError, st.ErrorStreak, st.FailingSince, st.HealthAlerted = "", 0, time.Time{}, false
	if fr.MovedTo != "" && fr.MovedTo != st.URL {
		m.log.Info("feed moved permanently", "feed", f.Name, "from", redact.URL(st.URL), "to", redact.URL(fr.MovedTo))
		st.URL = fr.MovedTo
	}
	var hint time.Duration
	if fr.NotModified {
		st.NotModified++
		res.NotModified = true
		hint = fr.MaxAge
	} else {
		st.ETag, st.LastModified = fr.ETag, fr.LastModified
		hint = max(fr.MaxAge, doc.TTL)
	}
	prevInterval := st.NextDue.Sub(st.LastPoll)
	st.LastPoll = now

	var ni newItems
	if doc != nil {
		res.Items = len(doc.Items)
		ni, err = m.newItems(ctx, f, &st, before, doc, now, dryRun, &res)
		doc = nil
		if err != nil {
			res.Err = fmt.Errorf("feed %q: %w", f.Name, err)
			return res
		}
		st.Initialized = true
	}
	res.New = ni.new
	st.NextDue = m.nextDue(f, now, hint, prevInterval, ni.new)
	if dryRun {
		res.Alerts = append(res.Alerts, ni.alerts...)
		res.Queued = len(res.Alerts)
		return res
	}
	p := store.Poll{Owner: owner, Feed: st, Items: ni.items, Alerts: append(ni.alerts, ops...)}
	if ni.ids != nil && m.o.Retention > 0 {
		p.ForgetBefore = now.Add(-m.o.Retention)
		p.Present = ni.ids
	}
	q, skipped, err := m.commitItems(ctx, f, lease, p)
	if err != nil {
		res.Err = fmt.Errorf("feed %q: recording poll: %w", f.Name, err)
		return res
	}
	res.New -= ni.skipped + skipped
	res.Queued = ni.queued + q - len(ops)
	m.o.Metrics.ItemsSeen(len(ni.items) - skipped)
	m.o.Metrics.AlertQueued(q)
	return res
}

// leaseKeeper extends the lease of a feed while its poll runs (see
// keepLease). Its mutex orders the extensions before the poll's commit,
// which releases the lease: an extension never runs after it.
type leaseKeeper struct {
	mu        sync.Mutex
	committed bool
	cancel    context.CancelFunc
	done      chan struct{}
}

// keepLease extends owner's lease on f every third of the lease (by the
// monitor's clock) while the poll runs, so that neither another replica
// nor this process claims the feed again meanwhile: a 40,000-item poll
// used to outlive its lease and fill every slot (issue 18.1). Without an
// owner (PollAll) there is no lease to keep.
func (m *Monitor) keepLease(ctx context.Context, f Feed, owner string) *leaseKeeper {
	ctx, cancel := context.WithCancel(ctx)
	lk := &leaseKeeper{cancel: cancel, done: make(chan struct{})}
	if owner == "" {
		close(lk.done)
		return lk
	}
	go func() {
		defer close(lk.done)
		t := time.NewTicker(m.leaseCheck)
		defer t.Stop()
		last := m.o.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := m.o.Now()
			if now.Sub(last) < m.o.Lease/3 {
				continue
			}
			lk.mu.Lock()
			if lk.committed {
				lk.mu.Unlock()
				return
			}
			err := m.o.Store.ExtendFeedLease(ctx, f.Key, owner, now, m.o.Lease)
			lk.mu.Unlock()
			switch {
			case err == nil:
				last = now
			case ctx.Err() != nil:
				return
			case errors.Is(err, store.ErrLeaseLost), errors.Is(err, store.ErrNotFound):
				m.log.Warn("a feed poll outlived its lease: another process may poll the feed too", "feed", f.Name, "lease", m.o.Lease.String())
				return
			default:
				m.log.Warn("extending the lease of a feed being polled", "feed", f.Name, "err", err)
			}
		}
	}()
	return lk
}

// stop ends the extensions and waits for the last one. It may be called
// more than once.
func (lk *leaseKeeper) stop() {
	lk.cancel()
	<-lk.done
}

// commit records p. No lease extension runs during or after it.
func (m *Monitor) commit(ctx context.Context, f Feed, lk *leaseKeeper, p store.Poll) (int, error) {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	lk.committed = true
	return m.o.Store.CommitPoll(ctx, p)
}

// commitItems records a successful poll. If the store refuses it, not for
// being unavailable (store.ErrUnavailable: full, down), and the store
// still records the feed's state alone, the refusal is an item's:
// the poll is then recorded without the items the store refuses, found by
// halving (a few dozen commits for 40,000 items). Each is logged with the
// feed and the item and counted in wirewatch_items_skipped_total, and the
// feed stays healthy: one bad item never stops its feed (issue 17.2). A
// skipped item is not recorded, so a later poll tries it again.
//
// The partial commits carry the state the feed had before this poll and
// no owner, so until the final commit nothing of this poll's progress
// (validators, due time) is recorded without all of its good items.
func (m *Monitor) commitItems(ctx context.Context, f Feed, lk *leaseKeeper, p store.Poll) (queued, skipped int, err error) {
	q, err := m.commit(ctx, f, lk, p)
	if err == nil || len(p.Items) == 0 || ctx.Err() != nil || errors.Is(err, store.ErrUnavailable) {
		// A store that is full or down refuses every write, or takes
		// only the small ones: no item is at fault, and none is skipped.
		return q, 0, err
	}
	before, ferr := m.o.Store.Feed(ctx, f.Key)
	if ferr != nil {
		return 0, 0, err
	}
	queued, refused, others, byItem, err := m.recordEach(ctx, f, before, p.Items, p.Alerts, err)
	if err != nil {
		return 0, 0, err
	}
	final := p
	final.Items = nil
	final.Alerts = others
	for _, it := range p.Items {
		if !refused[it.ID] {
			final.Items = append(final.Items, it)
			final.Alerts = append(final.Alerts, byItem[it.ID]...)
		}
	}
	n, err := m.commit(ctx, f, lk, final)
	if err != nil {
		return 0, 0, err
	}
	return queued + n, len(refused), nil
}

// recordBatch records a batch of a big poll's new items and their alerts
// before the poll's own commit, with before (the state the feed had
// before this poll) and no owner, so that the feed's progress (validators,
// due time, lease) waits for that commit: a crash in between polls the
// feed again, and the items recorded are not new then. An item the store
// refuses is skipped as in commitItems.
func (m *Monitor) recordBatch(ctx context.Context, f Feed, before store.FeedState, items []store.Item, alerts []store.Alert) (queued, skipped int, err error) {
	q, err := m.o.Store.CommitPoll(ctx, store.Poll{Feed: before, Items: items, Alerts: alerts})
	if err == nil || ctx.Err() != nil {
		return q, 0, err
	}
	queued, refused, others, _, err := m.recordEach(ctx, f, before, items, alerts, err)
	if err != nil {
		return 0, 0, err
	}
	if len(others) > 0 {
		n, err := m.o.Store.CommitPoll(ctx, store.Poll{Feed: before, Alerts: others})
		if err != nil {
			return 0, 0, err
		}
		queued += n
	}
	return queued, len(refused), nil
}

// recordEach records items (and their alerts) after the store refused
// them together with failure: if it records the feed's state before
// alone, the refusal is an item's, and the items are recorded by halving,
// the ones it refuses one by one skipped (logged, counted). It returns
// what it queued, the ids it skipped, the alerts of no item (others, not
// recorded) and the item alerts by item id.
func (m *Monitor) recordEach(ctx context.Context, f Feed, before store.FeedState, items []store.Item, alerts []store.Alert, failure error) (
	queued int, refused map[string]bool, others []store.Alert, byItem map[string][]store.Alert, err error) {
	base := store.Poll{Feed: before}
	if _, perr := m.o.Store.CommitPoll(ctx, base); perr != nil {
		return 0, nil, nil, nil, failure // the store refuses any write: not an item's fault
	}
	byItem = map[string][]store.Alert{}
	for _, a := range alerts {
		if a.Kind == store.KindItem && a.ItemID != "" {
			byItem[a.ItemID] = append(byItem[a.ItemID], a)
		} else {
			others = append(others, a)
		}
	}
	refused = map[string]bool{}
	var record func(items []store.Item) error
	record = func(items []store.Item) error {
		part := base
		part.Items = items
		for _, it := range items {
			part.Alerts = append(part.Alerts, byItem[it.ID]...)
		}
		n, err := m.o.Store.CommitPoll(ctx, part)
		if err == nil {
			queued += n
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, store.ErrUnavailable) {
			return err // the store failed meanwhile: the poll fails, and is done again
		}
		if len(items) == 1 {
			it := items[0]
			refused[it.ID] = true
			m.log.Warn("skipping an item the store refuses; the feed's other items are recorded",
				"feed", f.Name, "item", it.ID, "title", it.Title, "err", err)
			m.o.Metrics.ItemSkipped(metrics.SkipStoreRefused)
			return nil
		}
		mid := len(items) / 2
		if err := record(items[:mid]); err != nil {
			return err
		}
		return record(items[mid:])
	}
	if err := record(items); err != nil {
		return 0, nil, nil, nil, err
	}
	return queued, refused, others, byItem, nil
}

// handBack releases owner's lease on a feed whose poll was cancelled, with
// its stored state unchanged but due now, so that the next process (or
// replica) polls it at once.
func (m *Monitor) handBack(f Feed, owner string) {
	if owner == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := m.o.Store.Feed(ctx, f.Key)
	if err != nil {
		m.log.Warn("handing back feed", "feed", f.Name, "err", err)
		return
	}
	st.NextDue = m.o.Now()
	if _, err := m.o.Store.CommitPoll(ctx, store.Poll{Owner: owner, Feed: st}); err != nil {
		m.log.Warn("handing back feed", "feed", f.Name, "err", err)
	}
}

// pollBatch is how many of a document's items a poll decides about,
// analyses, matches and records at a time (a variable for the tests).
// A 10 MB feed of 90,000 small items held them all at once, several times
// over, and eight at once took 1.9 GB (issue 18.8).
var pollBatch = 1000

// newItems is what newItems found: the last batch of new items and their
// alerts, which the poll commits with the feed's state; what the batches
// before it recorded; the ids of the document, for retention.
type newItems struct {
	items  []store.Item
	alerts []store.Alert
	// new counts the new items of every batch; queued and skipped what
	// the batches recorded before the last one queued and skipped.
	new, queued, skipped int
	ids                  []string
}

// newItems decides which of the feed's items are new, and the alerts they
// raise, a batch of pollBatch items at a time: every batch but the last
// is recorded at once (recordBatch, with the state before the poll), and
// its parsed items dropped, so that a big feed's poll holds one batch of
// analysed items, store items and alerts, not the whole feed's (a feed of
// at most pollBatch items is recorded in one transaction with its state,
// as always). With dryRun nothing is recorded and res.Alerts collects
// the alerts of every batch but the last.
//
// On a feed's first poll, items older than the backfill window (or
// undated) are recorded without alerts so that adding a feed does not
// flood a channel with its archive. It counts in res the new items that
// raise no alert, by reason, and logs each at debug level.
func (m *Monitor) newItems(ctx context.Context, f Feed, st *store.FeedState, before store.FeedState, doc *parse.Feed, now time.Time, dryRun bool, res *Result) (newItems, error) {
	var out newItems
	out.ids = make([]string, 0, len(doc.Items))
	pos := make([]int, 0, len(doc.Items)) // of the first item of each id
	seen := make(map[string]struct{}, len(doc.Items))
	for i := range doc.Items {
		id := doc.Items[i].ID
		if _, dup := seen[id]; dup {
			continue // the same item twice in one document
		}
		seen[id] = struct{}{}
		out.ids = append(out.ids, id)
		pos = append(pos, i)
	}
	seen = nil
	rs := m.rules.Load()
	for start := 0; start < len(pos); start += pollBatch {
		end := min(start+pollBatch, len(pos))
		unseen, err := m.o.Store.UnseenItems(ctx, f.Key, out.ids[start:end])
		if err != nil {
			return out, fmt.Errorf("checking seen items: %w", err)
		}
		byID := make(map[string]*parse.Item, len(unseen))
		for _, i := range pos[start:end] {
			byID[doc.Items[i].ID] = &doc.Items[i]
		}
		items, alerts := m.decide(rs, f, st, byID, unseen, now, dryRun, res)
		out.new += len(items)
		for _, i := range pos[start:end] {
			doc.Items[i] = parse.Item{} // done with: its text is garbage now
		}
		if end == len(pos) {
			out.items, out.alerts = items, alerts
			break
		}
		if dryRun {
			res.Alerts = append(res.Alerts, alerts...)
			continue
		}
		if len(items) == 0 && len(alerts) == 0 {
			continue
		}
		q, skipped, err := m.recordBatch(ctx, f, before, items, alerts)
		if err != nil {
			return out, fmt.Errorf("recording new items: %w", err)
		}
		out.queued += q
		out.skipped += skipped
		m.o.Metrics.ItemsSeen(len(items) - skipped)
		m.o.Metrics.AlertQueued(q)
	}
	return out, nil
}

// decide returns the store items of the unseen ids (byID holds their
// parsed items) and the alerts they raise: each analysed once, matched,
// its text kept; or recorded without matching (backfill, old news).
func (m *Monitor) decide(rs *RuleSet, f Feed, st *store.FeedState, byID map[string]*parse.Item, unseen []string, now time.Time, dryRun bool, res *Result) ([]store.Item, []store.Alert) {
	items := make([]store.Item, 0, len(unseen))
	var alerts []store.Alert
	for _, id := range unseen {
		it := byID[id]
		items = append(items, store.Item{FeedKey: f.Key, ID: id, Title: it.Title, Link: it.Link, Published: it.Published, FirstSeen: now})
		item := &items[len(items)-1]
		if !st.Initialized && (it.Published.IsZero() || it.Published.Before(now.Add(-f.Backfill))) {
			item.Outcome = store.OutcomeBackfilled
			res.Backfilled++
			why := "published before the backfill window of the feed's first poll"
			if it.Published.IsZero() {
				why = "undated, on the feed's first poll"
			}
			m.log.Debug("item recorded without matching: "+why, "feed", f.Name, "item", id, "title", it.Title,
				"published", it.Published, "backfill", f.Backfill.String())
			continue
		}
		if m.o.Retention > 0 && !it.Published.IsZero() && it.Published.Before(now.Add(-m.o.Retention)) {
			// Older than anything the store remembers: old news.
			item.Outcome = store.OutcomeOld
			res.Old++
			m.log.Debug("item recorded without matching: published before the retention period (old news)", "feed", f.Name, "item", id,
				"title", it.Title, "published", it.Published, "retention", m.o.Retention.String())
			continue
		}
		// Analysed once: matched, and its text kept with the words'
		// sketch for backtests.
		a := m.analyzer.Analyze(Document(f, it))
		as, matches := m.match(rs, f, it, a, now, dryRun)
		if m.o.KeepText > 0 && !dryRun {
			item.Text = itemtext.Encode(itemtext.Text{Title: it.Title, Summary: it.Summary, Content: it.Content,
				Feed: f.Name, Author: it.Author, Link: it.Link, Categories: it.Categories, Published: it.Published}, a)
		}
		a.Release()
		item.Matches = matches
		switch {
		case len(matches) == 0:
			item.Outcome = store.OutcomeNoMatch
		case len(as) == 0:
			item.Outcome = store.OutcomeMuted
			res.Muted++
		default:
			item.Outcome = store.OutcomeAlerted
		}
		alerts = append(alerts, as...)
	}
	return items, alerts
}

// match runs the rules over one item and builds one alert per (rule,
// channel) it matched. For a rule that groups stories, each alert either
// opens a story in its channel or joins the one it reports. matches are
// the rules it matched, each with the mute that kept it from alerting
// (the feed's or the rule's mute_until; logged at debug level), if one
// did.
// a is the item analysed (the caller releases it).
func (m *Monitor) match(rs *RuleSet, f Feed, it *parse.Item, a *rules.Analyzed, now time.Time, dryRun bool) (out []store.Alert, matches []store.ItemMatch) {
	var sig story.Signature
	signed := false
	// An item is one report however many rules it matches: in each
	// channel, the first grouped alert decides its story and the item's
	// other grouped alerts there join the same story (the notifier sends
	// them as one message).
	type grouped struct {
		story  string
		window time.Duration
	}
	itemStory := map[string]grouped{}
	for _, mt := range rs.Index.Match(a) {
		name := mt.Rule.Name()
		m.o.Metrics.RuleMatched(name)
		route := rs.Routes[name]
		if why := muted(f, route, now); why != "" {
			// Muted: the item is recorded, nobody is alerted.
			matches = append(matches, store.ItemMatch{Rule: name, Muted: why})
			m.log.Debug("match muted: no alert", "feed", f.Name, "item", it.ID, "title", it.Title, "rule", name, "muted", why)
			continue
		}
		matches = append(matches, store.ItemMatch{Rule: name})
		snippet, marks := rules.Snippet(a, mt.Spans, m.o.SnippetRunes)
		words := rules.MatchedWords(a, mt.Spans)
		published := it.Published
		if published.IsZero() {
			published = now
		}
		group := route.Group && route.Digest == nil
		if group && !signed {
			sig, signed = story.SignAnalyzed(a), true
		}
		for _, ch := range unionChannels(route.Channels, f.Channels) {
			al := store.Alert{
				ID:          store.AlertID(f.Key, it.ID, name, ch),
				Kind:        store.KindItem,
				Channel:     ch,
				FeedKey:     f.Key,
				FeedName:    f.Name,
				ItemID:      it.ID,
				GUID:        it.GUID,
				Rule:        name,
				Title:       it.Title,
				Link:        it.Link,
				Published:   published,
				Snippet:     snippet,
				Marks:       marks,
				Matched:     words,
				CreatedAt:   now,
				NextAttempt: now,
			}
			if route.Digest != nil {
				al.Digest = route.DigestSpec
				al.NextAttempt = route.Digest.Next(now)
			}
			if group {
				if g, ok := itemStory[ch]; ok {
					al.StoryID = g.story
					m.stories.also(route.Window, g.window, g.story, ch, sig, now, dryRun)
				} else {
					al.StoryID = m.stories.group(route.Window, al.ID, ch, sig, now, dryRun)
					itemStory[ch] = grouped{al.StoryID, route.Window}
				}
				if al.StoryID == al.ID {
					al.Signature, _ = sig.MarshalBinary()
				}
				al.Breaking = rs.breaking(name, ch)
			}
			out = append(out, al)
		}
	}
	return out, matches
}

// muted says why a match of route's rule on feed f raises no alert at
// now ("feed muted until …", "rule muted until …"), or "" if it does.
func muted(f Feed, route Route, now time.Time) string {
	switch {
	case now.Before(f.MuteUntil):
		return "feed muted until " + f.MuteUntil.UTC().Format(time.RFC3339)
	case now.Before(route.MuteUntil):
		return "rule muted until " + route.MuteUntil.UTC().Format(time.RFC3339)
	}
	return ""
}

// cleanItems makes each item's text what every store accepts (the rules
// and caps of store.CleanText) before anything reads it, so that the
// rules, the snippets and the store see the same text, and an item id a
// store would refuse gets a stable hash instead (issue 17.1: a NUL in a
// JSON Feed title failed every poll of its feed on PostgreSQL).
func cleanItems(items []parse.Item) {
	for i := range items {
		it := &items[i]
		it.ID = store.CleanID(it.ID)
		it.GUID = store.CleanText(it.GUID, store.MaxLink)
		it.Link = store.CleanText(it.Link, store.MaxLink)
		it.Title = store.CleanText(it.Title, store.MaxTitle)
		it.Summary = store.CleanText(it.Summary, store.MaxSummary)
		it.Content = store.CleanText(it.Content, store.MaxContent)
		it.Author = store.CleanText(it.Author, store.MaxAuthor)
		it.Categories = store.CleanList(it.Categories, store.MaxCategories, store.MaxCategory)
	}
}

// Document is the rules' view of a parsed item.
func Document(f Feed, it *parse.Item) rules.Document {
	return rules.Document{
		Title:      it.Title,
		Summary:    it.Summary,
		Content:    it.Content,
		Feed:       f.Name,
		Author:     it.Author,
		Link:       it.Link,
		Categories: it.Categories,
	}
}

func unionChannels(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	seen := map[string]bool{}
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// nextDue is the next poll time after a success: the cron schedule's next
// time, or now + interval, the interval raised by the feed's own hints
// (<ttl>, Cache-Control max-age) up to MaxInterval, plus up to 10% jitter.
// For an adaptive feed the interval follows what the last poll found.
func (m *Monitor) nextDue(f Feed, now time.Time, hint, prev time.Duration, newItems int) time.Time {
	if f.Schedule != nil {
		return f.Schedule.Next(now)
	}
	every := f.Every
	if f.MinEvery > 0 && f.MaxEvery > 0 {
		if prev <= 0 {
			prev = f.Every
		}
		if newItems > 0 {
			every = prev / 2
		} else {
			every = prev * 3 / 2
		}
		every = min(max(every, f.MinEvery), f.MaxEvery)
		return now.Add(every)
	}
	if hint > every {
		every = min(hint, max(m.o.MaxInterval, f.Every))
	}
	return now.Add(every + spread(every, 0.1))
}

// failed updates the state after a failed poll: the error streak grows, the
// next attempt backs off (see retryDelay: exponentially with jitter up to
// MaxBackoff, or for the server's Retry-After), and once the feed has
// failed for HealthAfter, one ops alert says so.
func (m *Monitor) failed(st *store.FeedState, f Feed, now time.Time, err error) []store.Alert {
	delay := retryDelay(*st, f.Every, m.o.MaxBackoff, err)
	if st.ErrorStreak == 0 {
		st.FailingSince = now
	}
	st.ErrorStreak++
	st.LastError = err.Error()
	st.LastPoll = now
	st.NextDue = now.Add(delay)
	if m.o.OpsChannel != "" && !st.HealthAlerted && now.Sub(st.FailingSince) >= m.o.HealthAfter {
		st.HealthAlerted = true
		return []store.Alert{m.opsAlert(f, now, fmt.Sprintf("Feed %s has been failing since %s (%d polls in a row). Last error: %s", f.Name, st.FailingSince.UTC().Format(time.RFC3339), st.ErrorStreak, err))}
	}
	return nil
}

func (m *Monitor) opsAlert(f Feed, now time.Time, text string) store.Alert {
	return store.Alert{
		ID:          store.AlertID(f.Key, "health", now.UTC().Format(time.RFC3339Nano), m.o.OpsChannel),
		Kind:        store.KindOps,
		Channel:     m.o.OpsChannel,
		FeedKey:     f.Key,
		FeedName:    f.Name,
		Text:        text,
		CreatedAt:   now,
		NextAttempt: now,
	}
}
