package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/slackapp"
)

// storeTryer answers /wirewatch try over the item texts the store kept
// ([store] keep_text), through the backtest engine: what the query would
// have matched since the window began, the latest matches first. With
// keep_text "0" the desk answers over the feeds as they are now instead
// (feedTryer).
type storeTryer struct {
	src    backtest.Source
	window time.Duration
	z      *rules.Analyzer // long-lived: it knows the words of the news
}

func (t storeTryer) Try(ctx context.Context, query string, limit int) (slackapp.TryResult, error) {
	r, err := rules.Compile("try", query)
	if err != nil {
		return slackapp.TryResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, tryTimeout)
	defer cancel()
	sum, err := backtest.Run(ctx, t.src, []*rules.Rule{r}, backtest.Options{Since: time.Now().Add(-t.window), Latest: limit, SnippetRunes: 240, Analyzer: t.z}, nil)
	if sum == nil {
		return slackapp.TryResult{}, err
	}
	res := slackapp.TryResult{Total: sum.Matched, Source: fmt.Sprintf("%d items stored in the last %s", sum.Scanned, daysOf(t.window))}
	if !sum.Complete {
		res.Source += fmt.Sprintf(" (read up to %s, when the search ran out of time)", sum.Through.UTC().Format("2 Jan 15:04 MST"))
	}
	for i := len(sum.Latest) - 1; i >= 0; i-- {
		l := sum.Latest[i]
		res.Matches = append(res.Matches, slackapp.TryMatch{Title: l.Item.Title, Link: l.Item.Link, Feed: l.Item.Feed, Published: l.Item.Published, Snippet: l.Snippet, Marks: l.Marks})
	}
	return res, nil
}

// daysOf says a window the way a desk does: "7 days", "36h0m0s".
func daysOf(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if n := d / (24 * time.Hour); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "day"
	}
	return d.String()
}
