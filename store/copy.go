package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FeedRecord is a feed's whole stored state, for Copy: its FeedState and
// whether it is in the configuration (unconfigured feeds keep their history).
type FeedRecord struct {
	FeedState
	Configured bool
}

// Dumper is implemented by stores whose whole state can be read out (both
// backends). Each method calls fn for every row; an error from fn stops it.
type Dumper interface {
	// DumpFeeds reads every feed, configured or not, ordered by key.
	DumpFeeds(ctx context.Context, fn func(FeedRecord) error) error
	// DumpItems reads every seen item, ordered by feed key and item id.
	DumpItems(ctx context.Context, fn func(Item) error) error
	// DumpAlerts reads every alert with its delivery state, in delivery
	// order (oldest first).
	DumpAlerts(ctx context.Context, fn func(Alert) error) error
}

// Loader is implemented by stores that can take rows read by a Dumper
// (both backends). Each method is one transaction.
type Loader interface {
	// LoadFeeds writes feeds, replacing the state of keys already present
	// (their leases are dropped).
	LoadFeeds(ctx context.Context, feeds []FeedRecord) error
	// LoadItems records items; items already present are skipped.
	LoadItems(ctx context.Context, items []Item) error
	// LoadAlerts appends alerts, in order, keeping their delivery state;
	// alerts already present (by id) are skipped. An alert that was
	// "sending" becomes "queued" with Uncertain set: it may have been
	// posted, so the notifier looks for it before posting again.
	LoadAlerts(ctx context.Context, alerts []Alert) (loaded int, err error)
}

// CopyStats counts what Copy wrote: rows read from the source (rows the
// destination already had are counted too).
type CopyStats struct {
	Feeds, Items, Alerts int
	// Editorial state (editor.go): rule versions, mutes in force,
	// not-relevant marks, audit entries.
	RuleVersions, Mutes, Feedback, Audit int
}

// copyBatch is how many rows Copy writes per transaction.
const copyBatch = 1000

// Copy moves the whole state of from into to: feeds (configured or not, with
// their due times, validators and health), seen items and the outbox with
// every alert's delivery state, in delivery order. It is how an SQLite state
// file moves to PostgreSQL: stop Wirewatch, Copy, start the replicas on
// PostgreSQL. Leases are not copied. Copy migrates to first; from must be
// migrated already. Rows already in to are kept (items and alerts by key) or
// replaced (feeds), so an interrupted Copy can simply be run again.
func Copy(ctx context.Context, from, to Store) (CopyStats, error) {
	var st CopyStats
	d, ok := from.(Dumper)
	if !ok {
		return st, fmt.Errorf("store copy: source %T cannot be read out (no Dumper)", from)
	}
	l, ok := to.(Loader)
	if !ok {
		return st, fmt.Errorf("store copy: destination %T cannot be loaded (no Loader)", to)
	}
	if err := to.Migrate(ctx); err != nil {
		return st, fmt.Errorf("store copy: %w", err)
	}

	var err error
	if st.Feeds, err = copyRows(ctx, d.DumpFeeds, func(b []FeedRecord) error { return l.LoadFeeds(ctx, b) }); err != nil {
		return st, fmt.Errorf("store copy: feeds: %w", err)
	}
	if st.Items, err = copyRows(ctx, d.DumpItems, func(b []Item) error { return l.LoadItems(ctx, b) }); err != nil {
		return st, fmt.Errorf("store copy: items: %w", err)
	}
	load := func(b []Alert) error { _, err := l.LoadAlerts(ctx, b); return err }
	if st.Alerts, err = copyRows(ctx, d.DumpAlerts, load); err != nil {
		return st, fmt.Errorf("store copy: alerts: %w", err)
	}
	if err := copyEditorial(ctx, from, to, &st); err != nil {
		return st, fmt.Errorf("store copy: editorial state: %w", err)
	}
	return st, nil
}

// copyEditorial moves the editorial state (editor rules, mutes, feedback,
// audit) when both stores can.
func copyEditorial(ctx context.Context, from, to Store, st *CopyStats) error {
	d, ok := from.(EditorialCopier)
	if !ok {
		return nil
	}
	l, ok := to.(EditorialCopier)
	if !ok {
		return fmt.Errorf("destination %T cannot take it", to)
	}
	s, err := d.DumpEditorial(ctx, time.Now())
	if err != nil {
		return err
	}
	if err := l.LoadEditorial(ctx, s); err != nil {
		return err
	}
	st.RuleVersions, st.Mutes, st.Feedback, st.Audit = len(s.Rules), len(s.Mutes), len(s.Feedback), len(s.Audit)
	return nil
}

// copyRows reads every row with dump and writes them with load, copyBatch
// rows per call, and returns how many it wrote.
func copyRows[T any](ctx context.Context, dump func(context.Context, func(T) error) error, load func([]T) error) (int, error) {
	n := 0
	batch := make([]T, 0, copyBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := load(batch); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	err := dump(ctx, func(v T) error {
		batch = append(batch, v)
		if len(batch) == copyBatch {
			return flush()
		}
		return nil
	})
	return n, errors.Join(err, flush())
}
