package notify

import (
	"context"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// Store is what delivery needs of the store: the outbox's alerts and the
// channel cap's posts. store.Store has all of it (see store's documentation
// for each method's contract); tests and readers see here what delivery
// touches.
type Store interface {
	// Claiming a channel's due alerts and giving the channel back
	// (pipeline.go, notify.go, drain.go).
	ClaimChannel(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (channel string, alerts []store.Alert, err error)
	ReleaseChannel(ctx context.Context, channel, owner string, nextSendAt time.Time) error
	// Recording what became of an alert (record.go, retry.go, ops.go,
	// dedupe.go).
	MarkSent(ctx context.Context, id string, ts string, now time.Time) error
	Retry(ctx context.Context, id string, next time.Time, lastErr string, uncertain bool) error
	MarkFailed(ctx context.Context, id string, reason string, now time.Time) error
	// Queueing ops messages (ops.go).
	Enqueue(ctx context.Context, alerts []store.Alert) (queued int, err error)
	// Reading alerts: a story's parent and its reports (story.go, dedupe.go),
	// what Drain still waits for (drain.go).
	Alert(ctx context.Context, id string) (store.Alert, error)
	Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	// The channel cap's posts (cap.go).
	Posts(ctx context.Context, channel string, since time.Time) ([]time.Time, error)
	RecordPost(ctx context.Context, channel string, at, forgetBefore time.Time) error
}

// store.Store is a Store.
var _ Store = store.Store(nil)
