package backend

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func TestNewAlertRowRestoresState(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	a := store.Alert{ID: "a", Kind: store.KindItem, Channel: "#c", State: store.StateSending, Attempts: 2, LastError: "x"}
	if r, err := NewAlertRow(&a, false); err != nil || r.State != store.StateQueued || r.Attempts != 0 || r.Uncertain {
		t.Fatalf("new alert row = %+v, %v; want queued, fresh", r, err)
	}
	r, err := NewAlertRow(&a, true)
	if err != nil || r.State != store.StateQueued || !r.Uncertain || r.Attempts != 2 || r.LastError != "x" {
		t.Fatalf("loaded sending alert = %+v, %v; want queued, uncertain, its attempts kept", r, err)
	}
	a.State, a.SentAt = store.StateSent, t0
	if r, _ := NewAlertRow(&a, true); r.State != store.StateSent || !r.Done.Equal(t0) {
		t.Fatalf("loaded sent alert = %+v", r)
	}
	a.State = "lost"
	if _, err := NewAlertRow(&a, true); err == nil {
		t.Fatal("an unknown state was loaded")
	}
	for _, bad := range []store.Alert{{Kind: "item", Channel: "#c"}, {ID: "a", Kind: "item"}, {ID: "a", Channel: "#c"}} {
		if _, err := NewAlertRow(&bad, false); err == nil {
			t.Errorf("alert %+v accepted", bad)
		}
	}
}

func TestUnseenMapsBackToTheCallersIDs(t *testing.T) {
	ids := []string{"a\x00", "b", "a\x00", "c"}
	clean := store.CleanIDs(ids)
	if got := Unseen(ids, clean, []int{0, 2, 3, 9}); !slices.Equal(got, []string{"a\x00", "c"}) {
		t.Fatalf("Unseen = %q", got)
	}
}

func TestAlertWhere(t *testing.T) {
	arg := func(n int) string { return "$" + string(rune('0'+n)) }
	payload := func(key string) string { return "(payload->>'" + key + "')" }
	where, args := AlertWhere(store.AlertFilter{State: "sent", StoryID: "s"}, arg, payload)
	if where != " WHERE state = $1 AND story_id = $2 AND story_id <> ''" || !slices.Equal(args, []any{"sent", "s"}) {
		t.Fatalf("AlertWhere = %q %v", where, args)
	}
	where, args = AlertWhere(store.AlertFilter{FeedKey: "dawn", ItemID: "i1"}, arg, payload)
	if where != " WHERE kind = 'item' AND (payload->>'feed') = $1 AND (payload->>'item') = $2" || !slices.Equal(args, []any{"dawn", "i1"}) {
		t.Fatalf("AlertWhere by item = %q %v", where, args)
	}
	if where, args := AlertWhere(store.AlertFilter{}, nil, nil); where != "" || args != nil {
		t.Fatalf("empty filter: %q %v", where, args)
	}
}

func TestCheckFeedDefs(t *testing.T) {
	got, err := CheckFeedDefs([]store.FeedDef{{Key: "a", URL: "1"}, {Key: "b"}, {Key: "a", URL: "2"}})
	if err != nil || len(got) != 2 || got[0].URL != "1" {
		t.Fatalf("CheckFeedDefs = %+v, %v; want a (first) and b", got, err)
	}
	if _, err := CheckFeedDefs([]store.FeedDef{{URL: "x"}}); err == nil {
		t.Fatal("a feed without a key was accepted")
	}
}

func TestFinish(t *testing.T) {
	missing := func() (bool, error) { return false, nil }
	if err := Finish("a", 0, missing); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Finish of a missing alert = %v", err)
	}
	if err := Finish("a", 1, missing); err != nil {
		t.Fatalf("Finish of a changed alert = %v", err)
	}
}
