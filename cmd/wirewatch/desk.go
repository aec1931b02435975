package main

import (
	"context"
	"time"

	"github.com/wirewatch/wirewatch/slackapp"
	"github.com/wirewatch/wirewatch/store"
)

// deskStatus answers /wirewatch status from the store: the configured
// feeds, those failing, and the alerts waiting for Slack.
type deskStatus struct {
	st store.Store
}

// queueShown is how many queued alerts status counts before it says "more".
const queueShown = 10000

func (d deskStatus) DeskStatus(ctx context.Context, now time.Time) (slackapp.DeskStatus, error) {
	feeds, err := d.st.Feeds(ctx)
	if err != nil {
		return slackapp.DeskStatus{}, err
	}
	out := slackapp.DeskStatus{Feeds: len(feeds)}
	for _, f := range feeds {
		if f.ErrorStreak > 0 {
			out.Failing = append(out.Failing, slackapp.FailingFeed{Name: f.Key, Since: f.FailingSince, Streak: f.ErrorStreak, LastError: f.LastError})
		}
	}
	queued, err := d.st.Alerts(ctx, store.AlertFilter{State: store.StateQueued, Limit: queueShown + 1})
	if err != nil {
		return slackapp.DeskStatus{}, err
	}
	out.Queued = len(queued)
	return out, nil
}
