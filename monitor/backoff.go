package monitor

import (
	"errors"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/store"
)

// retryDelay is how long a feed waits after a failed poll, given its state
// before this failure (prev) and the error.
//
// Ordinary failures back off exponentially with "equal jitter": the
// nominal delay starts at the feed's interval (5m for a cron schedule) and
// doubles with each further failure in a row, up to ceiling (MaxBackoff);
// the feed waits between half the nominal delay and all of it.
//
// A rate-limited answer (429, or 503 with Retry-After) is the server saying
// when to come back, not a broken feed: it waits for the server's
// Retry-After (at most ceiling), never less than a first failure would,
// and does not move the backoff. An ordinary failure after it starts the
// doubling again from the interval: ten 429s then a 500 wait as one 500
// does. (It still counts in the error streak, so that a feed that is
// never let in shows as failing and reaches the ops channel.)
//
// The store keeps no separate count of ordinary failures, so the doubling
// is read from the feed's own schedule: the previous nominal delay is the
// step of the ladder the previous wait (NextDue - LastPoll) fell in, and
// whether that wait was a rate limit is read from the kind in the stored
// error text (fetch.Error names it, "failed (rate limited)").
func retryDelay(prev store.FeedState, interval, ceiling time.Duration, err error) time.Duration {
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	var fe *fetch.Error
	limited := errors.As(err, &fe) && fe.Kind == fetch.KindRateLimited
	nominal := interval
	if !limited && prev.ErrorStreak > 0 && !wasRateLimited(prev.LastError) {
		nominal = 2 * ladderStep(prev.NextDue.Sub(prev.LastPoll), interval, ceiling)
	}
	nominal = min(nominal, ceiling)
	d := nominal/2 + spread(nominal, 0.5)
	if limited {
		d = max(d, min(fe.RetryAfter, ceiling))
	}
	return d
}

// ladderStep returns the nominal delay a jittered wait d was drawn from:
// the smallest interval*2^k above d (waits fall in [nominal/2, nominal)),
// at most ceiling.
func ladderStep(d, interval, ceiling time.Duration) time.Duration {
	n := interval
	for n <= d && n < ceiling {
		n *= 2
	}
	return min(n, ceiling)
}

// wasRateLimited reports whether a stored error text is that of a
// rate-limited fetch.
func wasRateLimited(lastError string) bool {
	return strings.Contains(lastError, "failed ("+string(fetch.KindRateLimited)+")")
}
