package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirewatch/wirewatch/store"
)

// FeedSource returns the state of every configured feed (store.Store's
// Feeds method).
type FeedSource func(ctx context.Context) ([]store.FeedState, error)

// WatchFeeds adds feed-health gauges computed from src at each scrape
// (one store read per scrape, 5 s at most), without per-feed labels:
// how many feeds are failing, have never succeeded, and the longest time
// since a feed's last successful fetch. now is the clock (nil: time.Now).
// Call it once.
func (s *Set) WatchFeeds(src FeedSource, now func() time.Time) {
	if s == nil || src == nil {
		return
	}
	if now == nil {
		now = time.Now
	}
	s.reg.MustRegister(&feedCollector{src: src, now: now})
}

var (
	descFailing = prometheus.NewDesc(Namespace+"_feeds_failing",
		"Configured feeds whose last poll failed.", nil, nil)
	descNever = prometheus.NewDesc(Namespace+"_feeds_never_succeeded",
		"Configured feeds that were never fetched successfully.", nil, nil)
	descOldest = prometheus.NewDesc(Namespace+"_feed_last_success_max_age_seconds",
		"The longest time since a configured feed's last successful fetch (feeds that succeeded once).", nil, nil)
	descUp = prometheus.NewDesc(Namespace+"_feed_state_up",
		"1 if the feed states could be read from the store for this scrape, else 0.", nil, nil)
)

type feedCollector struct {
	src FeedSource
	now func() time.Time
}

func (c *feedCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFailing
	ch <- descNever
	ch <- descOldest
	ch <- descUp
}

func (c *feedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	feeds, err := c.src(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	now := c.now()
	var failing, never int
	var oldest time.Duration
	for _, f := range feeds {
		if f.ErrorStreak > 0 {
			failing++
		}
		if f.LastSuccess.IsZero() {
			never++
			continue
		}
		oldest = max(oldest, now.Sub(f.LastSuccess))
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, float64(failing))
	ch <- prometheus.MustNewConstMetric(descNever, prometheus.GaugeValue, float64(never))
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest.Seconds())
}
