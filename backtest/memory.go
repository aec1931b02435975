package backtest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/rules"
)

// Memory is a Source held in memory: items added with Add are encoded as
// the store keeps them (itemtext records with their sketch). It serves
// tests, and tools that try rules on items that were never stored. It is
// safe for concurrent use.
type Memory struct {
	mu    sync.RWMutex
	items []memItem // ordered by seen, then insertion
	keys  map[[2]string]bool
	z     *rules.Analyzer
}

type memItem struct {
	feedKey, id string
	seen        time.Time
	rec         []byte
}

// Add stores the text of an item first seen at seen. Adding the same
// (feedKey, id) again replaces nothing: the first text stays, as in the
// store.
func (m *Memory) Add(feedKey, id string, seen time.Time, t itemtext.Text) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys[[2]string{feedKey, id}] {
		return
	}
	if m.z == nil {
		m.z = rules.NewAnalyzer()
		m.keys = map[[2]string]bool{}
	}
	m.keys[[2]string{feedKey, id}] = true
	a := m.z.Analyze(t.Document())
	rec := itemtext.Encode(t, a)
	a.Release()
	m.insert(memItem{feedKey, id, seen, rec})
}

// Len returns the number of items held.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.items)
}

// ItemTexts implements Source. Add waits while a walk is in progress.
func (m *Memory) ItemTexts(ctx context.Context, since time.Time, fn func(feedKey, itemID string, seen time.Time, rec []byte) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	items := m.items
	i, _ := slices.BinarySearchFunc(items, since, func(it memItem, t time.Time) int {
		if it.seen.Before(t) {
			return -1
		}
		return 1
	})
	for _, it := range items[i:] {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(it.feedKey, it.id, it.seen, it.rec); err != nil {
			return err
		}
	}
	return nil
}

// AddRecord stores an item's record as it is (an itemtext record, which
// Memory keeps a reference to), for callers that already have it.
func (m *Memory) AddRecord(feedKey, id string, seen time.Time, rec []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[[2]string]bool{}
	}
	if m.keys[[2]string{feedKey, id}] {
		return
	}
	m.keys[[2]string{feedKey, id}] = true
	m.insert(memItem{feedKey, id, seen, rec})
}

func (m *Memory) insert(it memItem) {
	if n := len(m.items); n == 0 || !m.items[n-1].seen.After(it.seen) {
		m.items = append(m.items, it)
		return
	}
	i, _ := slices.BinarySearchFunc(m.items, it.seen, func(x memItem, t time.Time) int {
		if x.seen.After(t) {
			return 1
		}
		return -1 // equal times: after the ones already there
	})
	m.items = slices.Insert(m.items, i, it)
}
