package postgres_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// Three replicas (separate connection pools on one schema) poll and deliver
// together: every feed is polled once per due time, every alert is posted
// once, in order per channel.
func TestReplicasShareWork(t *testing.T) {
	url := testURL(t)
	schema := freshSchema(t, url)
	ctx := t.Context()
	var replicas []*postgres.Store
	for range 3 {
		s, err := postgres.Open(ctx, url, postgres.WithSchema(schema), postgres.WithLogger(quiet), postgres.WithMaxConns(2))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, s)
	}
	const nFeeds = 30
	channels := []string{"#a", "#b", "#c"}
	var defs []store.FeedDef
	for i := range nFeeds {
		k := fmt.Sprintf("feed-%02d", i)
		defs = append(defs, store.FeedDef{Key: k, URL: "http://127.0.0.1/" + k, Due: storetest.T0})
	}
	// Every replica syncs the same configuration at start.
	for _, r := range replicas {
		if err := r.SyncFeeds(ctx, defs); err != nil {
			t.Fatal(err)
		}
	}
	now := storetest.T0

	var mu sync.Mutex
	polled := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, len(replicas))
	for ri, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("replica-%d", ri)
			for {
				fs, err := r.ClaimDueFeeds(ctx, owner, now, time.Minute, 4)
				if err != nil {
					errs <- err
					return
				}
				if len(fs) == 0 {
					return
				}
				for _, f := range fs {
					mu.Lock()
					polled[f.Key]++
					mu.Unlock()
					f.LastPoll, f.LastSuccess, f.NextDue = now, now, now.Add(time.Hour)
					var idx int
					fmt.Sscanf(f.Key, "feed-%d", &idx)
					p := store.Poll{Owner: owner, Feed: f}
					for j := range 2 {
						id := fmt.Sprintf("%s-item-%d", f.Key, j)
						ch := channels[(idx+j)%len(channels)]
						p.Items = append(p.Items, store.Item{FeedKey: f.Key, ID: id, FirstSeen: now})
						p.Alerts = append(p.Alerts, store.Alert{ID: store.AlertID(f.Key, id, "r", ch), Kind: store.KindItem,
							Channel: ch, FeedKey: f.Key, ItemID: id, CreatedAt: now})
					}
					if _, err := r.CommitPoll(ctx, p); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(polled) != nFeeds {
		t.Fatalf("%d feeds polled, want %d", len(polled), nFeeds)
	}
	for k, n := range polled {
		if n != 1 {
			t.Fatalf("feed %s polled %d times for one due time", k, n)
		}
	}
	queuedOrder := map[string][]string{}
	all, err := replicas[0].Alerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*nFeeds {
		t.Fatalf("%d alerts queued, want %d", len(all), 2*nFeeds)
	}
	for i := len(all) - 1; i >= 0; i-- { // oldest first
		queuedOrder[all[i].Channel] = append(queuedOrder[all[i].Channel], all[i].ID)
	}

	// Delivery by all three replicas at once.
	posted := map[string][]string{}
	holder := map[string]string{}
	errs = make(chan error, len(replicas))
	for ri, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("replica-%d", ri)
			idle := 0
			for idle < 20 {
				ch, as, err := r.ClaimChannel(ctx, owner, now, time.Minute, 2)
				if err != nil {
					errs <- err
					return
				}
				if ch == "" {
					idle++
					time.Sleep(time.Millisecond)
					continue
				}
				idle = 0
				mu.Lock()
				if h := holder[ch]; h != "" {
					mu.Unlock()
					errs <- fmt.Errorf("%s claimed %s while %s holds it", owner, ch, h)
					return
				}
				holder[ch] = owner
				for _, a := range as {
					posted[ch] = append(posted[ch], a.ID)
				}
				mu.Unlock()
				for _, a := range as {
					if err := r.MarkSent(ctx, a.ID, "ts", now); err != nil {
						errs <- err
						return
					}
				}
				mu.Lock()
				delete(holder, ch)
				mu.Unlock()
				if err := r.ReleaseChannel(ctx, ch, owner, now); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, ch := range channels {
		if !slices.Equal(posted[ch], queuedOrder[ch]) {
			t.Errorf("channel %s: posted %v,\nwant each once, in queue order %v", ch, posted[ch], queuedOrder[ch])
		}
	}
}
