package store

import (
	"context"
	"errors"
	"fmt"
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

// CopyStats counts what Copy wrote.
type CopyStats struct {
	Feeds, Items, Alerts int
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

	feeds := make([]FeedRecord, 0, copyBatch)
	flushFeeds := func() error {
		if len(feeds) == 0 {
			return nil
		}
		if err := l.LoadFeeds(ctx, feeds); err != nil {
			return err
		}
		st.Feeds += len(feeds)
		feeds = feeds[:0]
		return nil
	}
	err := d.DumpFeeds(ctx, func(f FeedRecord) error {
		feeds = append(feeds, f)
		if len(feeds) == copyBatch {
			return flushFeeds()
		}
		return nil
	})
	if err = errors.Join(err, flushFeeds()); err != nil {
		return st, fmt.Errorf("store copy: feeds: %w", err)
	}

	items := make([]Item, 0, copyBatch)
	flushItems := func() error {
		if len(items) == 0 {
			return nil
		}
		if err := l.LoadItems(ctx, items); err != nil {
			return err
		}
		st.Items += len(items)
		items = items[:0]
		return nil
	}
	err = d.DumpItems(ctx, func(it Item) error {
		items = append(items, it)
		if len(items) == copyBatch {
			return flushItems()
		}
		return nil
	})
	if err = errors.Join(err, flushItems()); err != nil {
		return st, fmt.Errorf("store copy: items: %w", err)
	}

	alerts := make([]Alert, 0, copyBatch)
	flushAlerts := func() error {
		if len(alerts) == 0 {
			return nil
		}
		if _, err := l.LoadAlerts(ctx, alerts); err != nil {
			return err
		}
		st.Alerts += len(alerts)
		alerts = alerts[:0]
		return nil
	}
	err = d.DumpAlerts(ctx, func(a Alert) error {
		alerts = append(alerts, a)
		if len(alerts) == copyBatch {
			return flushAlerts()
		}
		return nil
	})
	if err = errors.Join(err, flushAlerts()); err != nil {
		return st, fmt.Errorf("store copy: alerts: %w", err)
	}
	return st, nil
}
