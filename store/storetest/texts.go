package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// textPoll is poll with a text (any bytes: the store keeps them as they
// are) for each item, "text of ID" and a binary tail.
func textPoll(f store.FeedState, now time.Time, ids ...string) store.Poll {
	p := poll(f, now, "", ids...)
	for i := range p.Items {
		p.Items[i].Text = textOf(f.Key, p.Items[i].ID)
	}
	return p
}

func textOf(feedKey, id string) []byte {
	return append([]byte("text of "+feedKey+"/"+id), 0, 0xff, 0xfe, 0x80)
}

type keptText struct {
	key  string
	seen time.Time
	rec  []byte
}

func readTexts(t *testing.T, s store.Store, since time.Time) []keptText {
	t.Helper()
	var out []keptText
	must(t, s.ItemTexts(ctxT(t), since, func(feedKey, itemID string, seen time.Time, rec []byte) error {
		out = append(out, keptText{feedKey + "/" + itemID, seen, bytes.Clone(rec)})
		return nil
	}))
	return out
}

// testItemTexts: the texts committed with a poll's items come back byte
// for byte, oldest first, from the time asked; an item without text, or
// with one over MaxItemText, keeps none; an item committed again keeps its
// first text; and the texts go with the poll's transaction.
func testItemTexts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f", "g")
	_, err := s.CommitPoll(ctx, textPoll(feed(t, s, "f"), T0.Add(-3*time.Hour), "a1", "a2"))
	must(t, err)
	_, err = s.CommitPoll(ctx, textPoll(feed(t, s, "g"), T0.Add(-2*time.Hour), "b1"))
	must(t, err)
	p := textPoll(feed(t, s, "f"), T0.Add(-time.Hour), "a3", "a1") // a1 again
	p.Items[1].Text = []byte("another text")
	p.Items = append(p.Items, store.Item{FeedKey: "f", ID: "no-text", Title: "t", FirstSeen: T0.Add(-time.Hour)},
		store.Item{FeedKey: "f", ID: "too-long", Title: "t", FirstSeen: T0.Add(-time.Hour), Text: make([]byte, store.MaxItemText+1)})
	_, err = s.CommitPoll(ctx, p)
	must(t, err)

	got := readTexts(t, s, T0.Add(-24*time.Hour))
	want := []string{"f/a1", "f/a2", "g/b1", "f/a3"}
	if len(got) != len(want) {
		t.Fatalf("%d texts kept, want %d: %v", len(got), len(want), got)
	}
	for i, k := range want {
		feedKey, id, _ := cut(k)
		if got[i].key != k || !bytes.Equal(got[i].rec, textOf(feedKey, id)) {
			t.Fatalf("text %d is %s %q, want %s %q", i, got[i].key, got[i].rec, k, textOf(feedKey, id))
		}
	}
	if !got[0].seen.Equal(T0.Add(-3*time.Hour)) || !got[3].seen.Equal(T0.Add(-time.Hour)) {
		t.Fatalf("first seen %s and %s", got[0].seen, got[3].seen)
	}
	if got := readTexts(t, s, T0.Add(-2*time.Hour)); len(got) != 2 || got[0].key != "g/b1" {
		t.Fatalf("texts since T0-2h: %v, want g/b1 and f/a3", got)
	}

	// An error from fn stops the walk and comes back.
	stop := errors.New("enough")
	n := 0
	err = s.ItemTexts(ctx, time.Time{}, func(string, string, time.Time, []byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("fn's error: %v after %d texts", err, n)
	}
	// So does the context's.
	cctx, cancel := context.WithCancel(ctx)
	err = s.ItemTexts(cctx, time.Time{}, func(string, string, time.Time, []byte) error { cancel(); return nil })
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled walk: %v", err)
	}
}

// testPruneTexts: texts first seen before the cutoff are deleted, in
// batches, and the others stay; the items stay seen.
func testPruneTexts(t *testing.T, s store.Store) {
	ctx := ctxT(t)
	sync1(t, s, "f")
	var old []string
	for i := range store.PruneBatch + 7 {
		old = append(old, fmt.Sprintf("old-%d", i))
	}
	_, err := s.CommitPoll(ctx, textPoll(feed(t, s, "f"), T0.Add(-8*24*time.Hour), old...))
	must(t, err)
	_, err = s.CommitPoll(ctx, textPoll(feed(t, s, "f"), T0.Add(-time.Hour), "new"))
	must(t, err)
	n, err := s.PruneTexts(ctx, T0.Add(-7*24*time.Hour))
	must(t, err)
	if n != len(old) {
		t.Fatalf("pruned %d texts, want %d", n, len(old))
	}
	if got := readTexts(t, s, time.Time{}); len(got) != 1 || got[0].key != "f/new" {
		t.Fatalf("texts left: %d, want f/new", len(got))
	}
	unseen, err := s.UnseenItems(ctx, "f", []string{"old-0", "new"})
	must(t, err)
	if len(unseen) != 0 {
		t.Fatalf("pruning texts forgot items: %v unseen", unseen)
	}
}

func cut(k string) (string, string, bool) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}
