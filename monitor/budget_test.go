package monitor

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Big documents share the budget: one that does not fit waits until
// enough is given back; small ones never wait; a wait ends with its
// context, giving back what it took.
func TestDocumentBudget(t *testing.T) {
	b := newDocBudget(32 << 20)
	ctx := context.Background()
	r1, err := b.take(ctx, 20<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.take(ctx, 100<<10); err != nil {
		t.Fatal("a small document waited")
	}
	got := make(chan func())
	go func() {
		r2, err := b.take(ctx, 20<<20)
		if err != nil {
			t.Error(err)
		}
		got <- r2
	}()
	select {
	case <-got:
		t.Fatal("40 MB of documents taken from a 32 MB budget")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	r2 := <-got

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.take(short, 30<<20); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past its context: %v", err)
	}
	r2()
	// Everything was given back: a document bigger than the budget takes
	// all of it.
	r3, err := b.take(ctx, 100<<20)
	if err != nil || len(b.tokens) != 32 {
		t.Fatalf("after the cancelled wait: %v, %d MB taken", err, len(b.tokens))
	}
	r3()
}
