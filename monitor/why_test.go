package monitor

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

// String returns everything logged so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWhyNoAlertIsLogged: a poll's log line counts the new items that
// raised no alert, by reason (older than the backfill window on the first
// poll, older than retention, muted), and at debug level each is named with
// its feed; a dry run's line says it is one and counts as queued what it
// prints.
func TestWhyNoAlertIsLogged(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	var logs lockedBuffer
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: 5 * time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`, "Talks": `talks`}, func(o *Options) {
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			o.Retention = 30 * 24 * time.Hour
		})
	now := h.clock.Now()
	w.add("old", "Old strike story", "", now.Add(-48*time.Hour))
	w.add("undated", "Undated strike story", "", time.Time{})
	w.add("recent", "Recent strike story", "", now.Add(-time.Hour))
	w.add("talks", "Talks in Istanbul", "", now.Add(-time.Hour))
	rs := *h.mon.rules.Load()
	rs.Routes = map[string]Route{"Strikes": {Channels: []string{"#desk"}}, "Talks": {Channels: []string{"#desk"}, MuteUntil: now.Add(time.Hour)}}
	h.mon.SetRules(&rs)

	// The dry run first: it says so, and queued= is what it would print.
	res := h.mon.PollAll(context.Background(), true)
	if res[0].Queued != 1 || len(res[0].Alerts) != 1 || res[0].Backfilled != 2 || res[0].Muted != 1 {
		t.Fatalf("dry run: %+v", res[0])
	}
	if !regexp.MustCompile(`level=INFO msg="dry run: feed polled, nothing recorded" feed=Wire items=4 new=4 backfilled=2 old=0 muted=1 queued=1 `).MatchString(logs.String()) {
		t.Errorf("dry run log:\n%s", logs.String())
	}

	res = h.pollAll()
	if res[0].Queued != 1 || res[0].Backfilled != 2 || res[0].Muted != 1 || res[0].Old != 0 {
		t.Fatalf("first poll: %+v", res[0])
	}
	log := logs.String()
	if !regexp.MustCompile(`level=INFO msg="feed polled" feed=Wire items=4 new=4 backfilled=2 old=0 muted=1 queued=1 `).MatchString(log) {
		t.Errorf("poll log line:\n%s", log)
	}
	for _, want := range []string{
		`level=DEBUG msg="item recorded without matching: published before the backfill window of the feed's first poll" feed=Wire item=old title="Old strike story"`,
		`level=DEBUG msg="item recorded without matching: undated, on the feed's first poll" feed=Wire item=undated`,
		`level=DEBUG msg="match muted: no alert" feed=Wire item=talks title="Talks in Istanbul" rule=Talks muted="rule muted until 2026-11-24T13:00:00Z"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s\n%s", want, log)
		}
	}

	// Later: an item published before the retention period is old news.
	w.add("ancient", "Ancient strike story", "", now.Add(-60*24*time.Hour))
	h.clock.Advance(time.Hour)
	if res := h.pollAll(); res[0].Old != 1 || res[0].Queued != 0 {
		t.Errorf("old news: %+v", res[0])
	}
	if !strings.Contains(logs.String(), `msg="item recorded without matching: published before the retention period (old news)" feed=Wire item=ancient`) {
		t.Errorf("old news not logged:\n%s", logs.String())
	}

	// The store keeps what became of each item, for explain, and each
	// alert the words its rule matched.
	want := map[string]struct {
		outcome string
		matches []store.ItemMatch
	}{
		"old":     {store.OutcomeBackfilled, nil},
		"undated": {store.OutcomeBackfilled, nil},
		"recent":  {store.OutcomeAlerted, []store.ItemMatch{{Rule: "Strikes"}}},
		"talks":   {store.OutcomeMuted, []store.ItemMatch{{Rule: "Talks", Muted: "rule muted until 2026-11-24T13:00:00Z"}}},
		"ancient": {store.OutcomeOld, nil},
	}
	for id, w := range want {
		items, err := h.store.FindItems(context.Background(), []string{id})
		if err != nil || len(items) != 1 || items[0].Outcome != w.outcome || !slices.Equal(items[0].Matches, w.matches) {
			t.Errorf("item %s in the store: %+v, %v; want %s %v", id, items, err, w.outcome, w.matches)
		}
	}
	as := h.alerts()
	if len(as) != 1 || !slices.Equal(as[0].Matched, []string{"title:strike"}) {
		t.Errorf("the alert's matched words: %+v", as)
	}
}
