package monitor

import "context"

// bigDocument is the size from which a feed document counts against the
// monitor's document budget (Options.DocumentBudget): ordinary feeds
// (tens or hundreds of KB) never wait for it.
const bigDocument = 1 << 20

// docBudget bounds the megabytes of big feed documents being parsed and
// decided about at once. A poll holds its document's share from parsing
// to its commit: what it holds then is several times the document (its
// items parsed, one batch analysed), so that eight polls of 10 MB feeds at
// once, each holding all of it, took 1.9 GB (issue 18.8). A poll that
// waits holds only its fetched body.
type docBudget struct {
	lock   chan struct{} // one taker at a time, so two never hold half each
	tokens chan struct{} // one per MB taken
}

func newDocBudget(bytes int64) *docBudget {
	mb := max(int(bytes>>20), 1)
	return &docBudget{lock: make(chan struct{}, 1), tokens: make(chan struct{}, mb)}
}

// take waits until size bytes (rounded up to MB, at most the whole
// budget) are free and takes them; release gives them back. A document
// under bigDocument takes nothing.
func (b *docBudget) take(ctx context.Context, size int) (release func(), err error) {
	if size < bigDocument {
		return func() {}, nil
	}
	n := min((size+(1<<20)-1)>>20, cap(b.tokens))
	select {
	case b.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-b.lock }()
	for i := range n {
		select {
		case b.tokens <- struct{}{}:
		case <-ctx.Done():
			b.give(i)
			return nil, ctx.Err()
		}
	}
	return func() { b.give(n) }, nil
}

func (b *docBudget) give(n int) {
	for range n {
		<-b.tokens
	}
}
