package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// diesAfter is the real store, but after its first n commits every
// commit fails, as if the process died there: what was committed before
// stays.
type diesAfter struct {
	store.Store
	n *int
}

func (d diesAfter) CommitPoll(ctx context.Context, p store.Poll) (int, error) {
	if *d.n <= 0 {
		return 0, errors.New("killed")
	}
	*d.n--
	return d.Store.CommitPoll(ctx, p)
}

// A feed bigger than a batch is decided about, matched and recorded a
// batch at a time (issue 18.8), with every rule of a poll kept: each
// match queued once, the first poll's backfill across batches, the
// counts of the whole document. A poll that dies before its own commit
// leaves the batches it recorded and the feed's state as it was: the next
// poll is still the feed's first, finds only what was not recorded, and
// queues nothing twice.
func TestBigPollIsRecordedInBatches(t *testing.T) {
	defer func(n int) { pollBatch = n }(pollBatch)
	pollBatch = 3
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`}, func(o *Options) { o.KeepText = 24 * time.Hour })
	now := h.clock.Now()
	for i := range 11 {
		published := now.Add(-time.Duration(i) * time.Minute)
		if i%4 == 1 {
			published = now.Add(-48 * time.Hour) // before the backfill window
		}
		w.add(fmt.Sprintf("item-%d", i), fmt.Sprintf("Strike report %d", i), "", published)
	}
	real := h.store
	commits := 2 // two batches of three, then the process dies
	h.mon.o.Store = diesAfter{real, &commits}
	res := h.pollAll()
	if res[0].Err == nil {
		t.Fatalf("the poll whose commit failed reports no error: %+v", res[0])
	}
	first := len(h.alerts())
	if first != 4 {
		t.Fatalf("%d alerts queued by the two batches recorded before the process died, want 4", first)
	}
	if st, err := real.Feed(context.Background(), "wire"); err != nil || st.Initialized || st.Polls != 0 {
		t.Fatalf("feed state after the failed commit: %+v, %v; want it as before the poll", st, err)
	}

	h.mon.o.Store = real
	res = h.pollAll()
	if res[0].Err != nil || res[0].Items != 11 {
		t.Fatalf("second poll: %+v", res[0])
	}
	if got := first + res[0].Queued; got != 8 || len(h.alerts()) != 8 {
		t.Fatalf("%d + %d alerts queued over the two polls (%d in the outbox), want each of the 8 recent items once", first, res[0].Queued, len(h.alerts()))
	}
	st, err := real.Feed(context.Background(), "wire")
	if err != nil || !st.Initialized || st.Polls != 1 {
		t.Fatalf("feed state: %+v, %v", st, err)
	}
	// Every item recorded once, with its outcome.
	items, err := real.FindItems(context.Background(), []string{"item-0", "item-1", "item-5", "item-10"})
	if err != nil || len(items) != 4 {
		t.Fatalf("items: %v, %v", items, err)
	}
	for _, it := range items {
		want := store.OutcomeAlerted
		if it.ID == "item-1" || it.ID == "item-5" {
			want = store.OutcomeBackfilled
		}
		if it.Outcome != want {
			t.Errorf("%s: outcome %q, want %q", it.ID, it.Outcome, want)
		}
	}

	// Unchanged, then three more items: nothing twice.
	h.clock.Advance(10 * time.Minute)
	if res := h.pollAll(); res[0].Err != nil || res[0].New != 0 || res[0].Queued != 0 {
		t.Fatalf("unchanged feed: %+v", res[0])
	}
	for i := 11; i < 18; i++ {
		w.add(fmt.Sprintf("item-%d", i), fmt.Sprintf("Strike report %d", i), "", h.clock.Now())
	}
	h.clock.Advance(10 * time.Minute)
	res = h.pollAll()
	if res[0].Err != nil || res[0].Items != 18 || res[0].New != 7 || res[0].Queued != 7 || len(h.alerts()) != 15 {
		t.Fatalf("seven new items over three batches: %+v, %d alerts in all", res[0], len(h.alerts()))
	}
}

// A dry run of a feed bigger than a batch returns the alerts of every
// batch and records nothing.
func TestBigDryRunReturnsEveryBatch(t *testing.T) {
	defer func(n int) { pollBatch = n }(pollBatch)
	pollBatch = 2
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: time.Hour}},
		map[string]string{"Strikes": `strike`}, nil)
	for i := range 7 {
		w.add(fmt.Sprintf("item-%d", i), fmt.Sprintf("Strike report %d", i), "", h.clock.Now())
	}
	res := h.mon.PollAll(context.Background(), true)
	if res[0].Err != nil || res[0].New != 7 || res[0].Queued != 7 || len(res[0].Alerts) != 7 {
		t.Fatalf("dry run: %+v", res[0])
	}
	if as := h.alerts(); len(as) != 0 {
		t.Fatalf("a dry run recorded %d alerts", len(as))
	}
	if unseen, err := h.store.UnseenItems(context.Background(), "wire", []string{"item-0", "item-6"}); err != nil || len(unseen) != 2 {
		t.Fatalf("a dry run recorded items: unseen %v, %v", unseen, err)
	}
}
