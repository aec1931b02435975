package store

import (
	"errors"
	"log/slog"
	"sync/atomic"
)

// Repeats quiets the logs of a loop that meets an unavailable store (see
// ErrUnavailable) on every turn: the first failure of a run is logged at
// its level, the repeats at DEBUG until a turn succeeds, since one outage
// is reported once (package storewatch). Other errors keep their level.
// The zero value is ready; it is safe for concurrent use.
type Repeats struct{ on atomic.Bool }

// Level returns the level at which to log err, normally lvl. Call it with
// nil after a turn that worked.
func (r *Repeats) Level(err error, lvl slog.Level) slog.Level {
	if !errors.Is(err, ErrUnavailable) {
		r.on.Store(false)
		return lvl
	}
	if r.on.Swap(true) {
		return slog.LevelDebug
	}
	return lvl
}
