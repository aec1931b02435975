package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/slackapp"
)

// feedTryer answers /wirewatch try over the configured feeds as they are
// now: each is fetched once (with the config's limits, at most
// concurrency at a time, within tryTimeout), parsed, and every item
// matched against the query. (The store keeps no item text to search.)
type feedTryer struct {
	feeds       func() []monitor.Feed
	fetcher     *fetch.Fetcher
	concurrency int
}

const tryTimeout = 15 * time.Second

func (t feedTryer) Try(ctx context.Context, query string, limit int) (slackapp.TryResult, error) {
	r, err := rules.Compile("try", query)
	if err != nil {
		return slackapp.TryResult{}, err
	}
	ix := rules.NewIndex([]*rules.Rule{r})
	ctx, cancel := context.WithTimeout(ctx, tryTimeout)
	defer cancel()
	feeds := t.feeds()
	var (
		mu       sync.Mutex
		matches  []slackapp.TryMatch
		items    int
		answered int
		wg       sync.WaitGroup
		sem      = make(chan struct{}, max(t.concurrency, 1))
	)
	z := rules.NewAnalyzer()
	for _, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			res, err := t.fetcher.Fetch(ctx, fetch.Request{URL: f.URL})
			if err != nil {
				return
			}
			doc, err := parse.Parse(res.Body, res.ContentType, res.URL)
			if err != nil {
				return
			}
			var found []slackapp.TryMatch
			for i := range doc.Items {
				it := &doc.Items[i]
				a := z.Analyze(monitor.Document(f, it))
				for _, m := range ix.Match(a) {
					sn, marks := rules.Snippet(a, m.Spans, 240)
					found = append(found, slackapp.TryMatch{Title: it.Title, Link: it.Link, Feed: f.Name, Published: it.Published, Snippet: sn, Marks: marks})
				}
				a.Release()
			}
			mu.Lock()
			answered++
			items += len(doc.Items)
			matches = append(matches, found...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortStableFunc(matches, func(a, b slackapp.TryMatch) int { return b.Published.Compare(a.Published) })
	src := fmt.Sprintf("%d items of the %d feeds as they are now", items, answered)
	if answered < len(feeds) {
		src += fmt.Sprintf(" (%d feeds did not answer in time)", len(feeds)-answered)
	}
	res := slackapp.TryResult{Source: src, Total: len(matches), Matches: matches}
	if len(res.Matches) > limit {
		res.Matches = res.Matches[:limit]
	}
	return res, nil
}
