package monitor

import (
	"context"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/story"
)

// storyHeads is what the story index reads of the store.
type storyHeads interface {
	StoryHeads(ctx context.Context, since time.Time) ([]store.Alert, error)
}

// stories decides which story an alert belongs to in its channel: the
// first alert of a story opens it (its thread parent in Slack), later
// reports of the same story within the window join it. The decision is
// made by the story package's in-memory indexes (one per window length, as
// a rule's cooldown is its own window), rebuilt and kept current from the
// store's story heads, so that a restart or another replica's alerts are
// taken into account.
type stories struct {
	def time.Duration

	mu       sync.Mutex
	byWindow map[time.Duration]*story.Index
	known    map[string]time.Time // alert ids already in an index, by when
	last     time.Time            // store read up to here
}

func newStories(def time.Duration) *stories {
	return &stories{def: def, byWindow: map[time.Duration]*story.Index{}, known: map[string]time.Time{}}
}

// index returns the index for a window (0: the default one).
func (s *stories) index(window time.Duration) *story.Index {
	if window <= 0 {
		window = s.def
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.byWindow[window]
	if ix == nil {
		ix = story.New(story.Options{Window: window})
		s.byWindow[window] = ix
	}
	return ix
}

// group returns the story alertID belongs to in channel, recording it (or,
// with dryRun, only looking).
func (s *stories) group(window time.Duration, alertID, channel string, sig story.Signature, now time.Time, dryRun bool) string {
	ix := s.index(window)
	if dryRun {
		if id, _, ok := ix.Match(channel, sig, now); ok {
			return id
		}
		return alertID
	}
	id, _, _ := ix.Group(alertID, channel, sig, now)
	s.mu.Lock()
	s.known[alertID] = now
	s.mu.Unlock()
	return id
}

// also records an item of story storyID that the first grouped rule of
// the same channel already grouped in window first, so that later reports
// under window find the story too (a rule with a cooldown has an index of
// its own).
func (s *stories) also(window, first time.Duration, storyID, channel string, sig story.Signature, now time.Time, dryRun bool) {
	if window <= 0 {
		window = s.def
	}
	if first <= 0 {
		first = s.def
	}
	if dryRun || window == first {
		return
	}
	s.index(window).Add(storyID, channel, sig, now)
}

// refresh adds the story heads the store holds that this process has not
// seen: all of them within the longest window at the first call, then
// those created since the last call (with a minute's overlap for clocks and
// commits in flight).
func (s *stories) refresh(ctx context.Context, st storyHeads, routes map[string]Route, now time.Time) error {
	s.mu.Lock()
	longest := s.def
	for _, r := range routes {
		longest = max(longest, r.Window)
	}
	since := now.Add(-longest)
	if !s.last.IsZero() && s.last.Add(-time.Minute).After(since) {
		since = s.last.Add(-time.Minute)
	}
	s.mu.Unlock()
	heads, err := st.StoryHeads(ctx, since)
	if err != nil {
		return err
	}
	for _, h := range heads {
		s.mu.Lock()
		_, seen := s.known[h.ID]
		s.mu.Unlock()
		if seen || len(h.Signature) == 0 {
			continue
		}
		var sig story.Signature
		if err := sig.UnmarshalBinary(h.Signature); err != nil {
			continue // another signature version: it simply opens no thread
		}
		window := routes[h.Rule].Window
		if window <= 0 {
			window = s.def
		}
		if now.Sub(h.CreatedAt) > window {
			continue
		}
		s.index(window).Add(h.StoryID, h.Channel, sig, h.CreatedAt)
		s.mu.Lock()
		s.known[h.ID] = h.CreatedAt
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.last = now
	for id, at := range s.known {
		if now.Sub(at) > longest {
			delete(s.known, id)
		}
	}
	indexes := make([]*story.Index, 0, len(s.byWindow))
	for _, ix := range s.byWindow {
		indexes = append(indexes, ix)
	}
	s.mu.Unlock()
	for _, ix := range indexes {
		ix.Expire(now)
	}
	return nil
}
