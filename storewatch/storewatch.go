// Package storewatch owns noticing that the store as a whole fails (a full
// disk under SQLite, PostgreSQL restarting or unreachable) and saying so
// once per outage, not once per failed write.
//
// A Watch writes a heartbeat row every few seconds (the same one-row write
// that /readyz makes). A write that fails starts a possible outage; once
// every write has failed for Options.After it is an outage: logged once at
// ERROR and counted (wirewatch_store_outages_total, wirewatch_store_up 0).
// While the store takes no writes it cannot take an ops message either, so
// the message waits: when writes work again, one message goes to
// Options.OpsChannel saying when the outage began and ended, how long it
// lasted and its first error. Polling and delivery need nothing from here:
// they fail while the store does and resume by themselves (work that could
// not be recorded is done again; posts whose outcome could not be recorded
// are looked up in Slack first, see package notify).
//
// Replicas sharing a PostgreSQL store each see the outage; the first to
// queue the message after it ends reports it for all: a later one finds a
// store-outage message queued since its own outage began and stays quiet.
package storewatch

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// Store is what the watch needs of the store.
type Store interface {
	Heartbeat(ctx context.Context, owner string, now time.Time) error
	Enqueue(ctx context.Context, alerts []store.Alert) (int, error)
	Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
}

// DefaultAfter is how long every write must fail before it is an outage.
const DefaultAfter = time.Minute

// idPrefix begins the id of every store-outage ops message.
const idPrefix = "ops-store-outage-"

// Options configures a Watch. Store and Owner are required.
type Options struct {
	Store Store
	// Owner names this process's heartbeat row.
	Owner string
	// What names the store in messages, e.g. "the SQLite store
	// (/var/lib/wirewatch/state.db)"; default "the store".
	What string
	// OpsChannel receives the one message per outage; "" logs only.
	OpsChannel string
	// After is how long every write must fail before it is an outage
	// (default DefaultAfter); shorter failures are logged at INFO only.
	After time.Duration
	// Every is how often the heartbeat is written (default After/4,
	// between 250 ms and 5 s).
	Every   time.Duration
	Now     func() time.Time
	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Watch watches the store; see the package documentation.
type Watch struct {
	o   Options
	log *slog.Logger

	failing   bool
	began     time.Time // first failed write of the current failure
	firstErr  error
	lastErr   error
	fails     int
	announced bool // the failure lasted After: it is an outage

	pending *store.Alert // the outage message, queued once the store takes it
	since   time.Time    // began of the outage pending reports
}

// New returns a Watch; Run starts it.
func New(o Options) *Watch {
	if o.What == "" {
		o.What = "the store"
	}
	if o.After <= 0 {
		o.After = DefaultAfter
	}
	if o.Every <= 0 {
		o.Every = min(max(o.After/4, 250*time.Millisecond), 5*time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watch{o: o, log: log}
}

// Run writes the heartbeat every Options.Every until ctx is done.
func (w *Watch) Run(ctx context.Context) error {
	tick := time.NewTicker(w.o.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		w.Check(ctx)
	}
}

// Check writes the heartbeat once and moves the watch on by its outcome.
func (w *Watch) Check(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, max(w.o.Every, 2*time.Second))
	now := w.o.Now()
	err := w.o.Store.Heartbeat(pctx, w.o.Owner, now)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the failure is ours, not the store's
	}
	now = w.o.Now()
	if err != nil {
		w.failed(now, err)
		return
	}
	w.worked(ctx, now)
}

func (w *Watch) failed(now time.Time, err error) {
	w.lastErr = err
	w.fails++
	if !w.failing {
		w.failing, w.began, w.firstErr, w.fails, w.announced = true, now, err, 1, false
		w.o.Metrics.StoreUp(false)
		w.log.Warn("store write failed; polling and delivery wait until it works again", "store", w.o.What, "err", err)
		return
	}
	if !w.announced && now.Sub(w.began) >= w.o.After {
		w.announced = true
		w.o.Metrics.StoreOutage()
		w.log.Error("store outage: every write has failed since "+w.began.UTC().Format(time.RFC3339),
			"store", w.o.What, "for", now.Sub(w.began).Round(time.Second).String(), "err", err, "first_err", w.firstErr)
	}
}

func (w *Watch) worked(ctx context.Context, now time.Time) {
	if w.failing {
		w.failing = false
		w.o.Metrics.StoreUp(true)
		d := now.Sub(w.began).Round(time.Second)
		if !w.announced {
			w.log.Info("store writes work again", "store", w.o.What, "failed_for", d.String(), "err", w.firstErr)
		} else {
			w.log.Info("store outage over: writes work again", "store", w.o.What, "began", w.began.UTC().Format(time.RFC3339), "lasted", d.String(), "failed_writes", w.fails)
			if w.o.OpsChannel != "" {
				a := store.Alert{
					ID:   idPrefix + now.UTC().Truncate(time.Minute).Format("20060102T1504Z"),
					Kind: store.KindOps, Channel: w.o.OpsChannel,
					Text: fmt.Sprintf("Store outage: %s failed every write from %s to %s (%s). First error: %s. Polling and delivery waited and have resumed by themselves; alerts held meanwhile are being delivered now, each once.",
						w.o.What, w.began.UTC().Format("2006-01-02 15:04:05 UTC"), now.UTC().Format("15:04:05 UTC"), d, errText(w.firstErr)),
					CreatedAt: now, NextAttempt: now,
				}
				w.pending, w.since = &a, w.began
			}
		}
	}
	if w.pending != nil {
		w.report(ctx)
	}
}

// report queues the pending outage message unless another process already
// reported the same outage; if the store fails again first, the next
// successful heartbeat tries again.
func (w *Watch) report(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	recent, err := w.o.Store.Alerts(rctx, store.AlertFilter{Channel: w.o.OpsChannel, Limit: 50})
	if err != nil {
		w.log.Warn("store outage message: reading the ops channel's last messages failed; trying again", "err", err)
		return
	}
	for _, a := range recent {
		if strings.HasPrefix(a.ID, idPrefix) && !a.CreatedAt.Before(w.since) {
			w.log.Info("store outage already reported by another process", "alert", a.ID)
			w.pending = nil
			return
		}
	}
	n, err := w.o.Store.Enqueue(rctx, []store.Alert{*w.pending})
	if err != nil {
		w.log.Warn("store outage message: queueing it failed; trying again", "err", err)
		return
	}
	w.o.Metrics.AlertQueued(n)
	w.pending = nil
}

// errText is err's message on one line, capped.
func errText(err error) string {
	if err == nil {
		return "none"
	}
	s := strings.Join(strings.Fields(redact.Text(err.Error())), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}
