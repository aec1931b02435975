package monitor

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/rules"
)

// TestKeepsTextOfNewItems: with KeepText, each new item that is matched
// (whether a rule fires or not) is stored with its text, decodable and
// with its words' sketch; a feed's archive on its first poll keeps none;
// texts older than KeepText are pruned by Run.
func TestKeepsTextOfNewItems(t *testing.T) {
	w := &wire{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "wire", Name: "Wire", URL: srv.URL, Every: time.Minute, Backfill: 24 * time.Hour}},
		map[string]string{"Strikes": `strike`}, func(o *Options) { o.KeepText = 7 * 24 * time.Hour })
	now := h.clock.Now()
	w.add("archive", "Old strike story", "from the archive", now.Add(-48*time.Hour))
	w.add("recent", "Pakistan warns of strikes", "deep into Afghanistan", now.Add(-time.Hour))
	w.add("weather", "Karachi weather", "light rain", now.Add(-time.Hour))
	h.pollAll()

	var err error
	texts := map[string]itemtext.Text{}
	recs := map[string][]byte{}
	err = h.store.ItemTexts(context.Background(), now.Add(-time.Hour), func(feedKey, itemID string, seen time.Time, rec []byte) error {
		tx, err := itemtext.Decode(rec)
		if err != nil {
			t.Fatalf("%s: %v", itemID, err)
		}
		if !seen.Equal(now) || feedKey != "wire" {
			t.Errorf("%s/%s seen %s", feedKey, itemID, seen)
		}
		texts[itemID], recs[itemID] = tx, append([]byte(nil), rec...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 2 || texts["recent"].Summary != "deep into Afghanistan" || texts["recent"].Feed != "Wire" || texts["weather"].Title != "Karachi weather" {
		t.Fatalf("kept texts: %+v", texts)
	}
	if _, ok := texts["archive"]; ok {
		t.Errorf("the first poll's archive kept its text")
	}
	r, err := rules.Compile("q", `strike AND Afghanistan`)
	if err != nil {
		t.Fatal(err)
	}
	if f := itemtext.NewFilter(r); !f.MayMatch(recs["recent"]) || f.MayMatch(recs["weather"]) {
		t.Errorf("the sketches do not tell the items apart")
	}

	// Run prunes texts older than KeepText.
	h.clock.Advance(8 * 24 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.mon.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		h.store.ItemTexts(context.Background(), time.Time{}, func(string, string, time.Time, []byte) error { n++; return nil })
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d texts older than KeepText are still kept", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}
