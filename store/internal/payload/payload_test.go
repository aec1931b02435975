package payload

import (
	"reflect"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
)

func TestRoundTrip(t *testing.T) {
	in := store.Alert{ID: "x", FeedKey: "f", FeedName: "Dawn", ItemID: "i", GUID: "g", Rule: "r",
		Title: "T <!channel>", Link: "https://e.org/?a=1&b=2", Published: time.Date(2026, 11, 24, 10, 0, 0, 5, time.UTC),
		Snippet: "s", Marks: [][2]int{{1, 2}}, Text: "ops",
		Signature: []byte{0, 1, 0xfe, 0xff, '"', '<'},
		Breaking:  &store.Breaking{Outlets: 4, Within: time.Hour, EscalateTo: "#breaking"}, Note: "Breaking in #desk"}
	b, err := Encode(&in)
	if err != nil {
		t.Fatal(err)
	}
	out := store.Alert{ID: "x"}
	if err := Decode(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

// Rows written by an older or newer binary decode: missing fields are zero,
// unknown fields are ignored.
func TestDecodeOtherVersions(t *testing.T) {
	var a store.Alert
	if err := Decode([]byte(`{"title":"old","future_field":{"x":1}}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.Title != "old" || a.Link != "" {
		t.Fatalf("decoded %+v", a)
	}
	if err := Decode([]byte(`{"title":`), &a); err == nil {
		t.Fatal("Decode accepted a truncated payload")
	}
}
