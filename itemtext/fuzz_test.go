package itemtext

import (
	"reflect"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/rules"
)

// FuzzDecode feeds arbitrary records to Decode and the filter: they must
// never panic, and Decode never returns more than MaxDecoded bytes of text.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Text{Title: "Pakistan will strike 'deep into Afghanistan'", Summary: "Asif warns", Categories: []string{"Pakistan"}, Published: time.Unix(1761712200, 0)}, nil))
	x := Text{Title: "Talks in Istanbul fail", Content: "failed to bring about any workable solution"}
	f.Add(Encode(x, rules.Analyze(x.Document())))
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 5, 0, 0, 0, 0, 6})
	r, _ := rules.Compile("q", `talks NEAR/8 fail AND Istanbul`)
	flt := NewFilter(r)
	f.Fuzz(func(t *testing.T, rec []byte) {
		flt.MayMatch(rec)
		got, err := Decode(rec)
		if err != nil {
			return
		}
		n := len(got.Title) + len(got.Summary) + len(got.Content) + len(got.Feed) + len(got.Author) + len(got.Link)
		for _, c := range got.Categories {
			n += len(c)
		}
		if n > MaxDecoded {
			t.Fatalf("decoded %d bytes of text", n)
		}
	})
}

// FuzzRoundTrip encodes arbitrary texts: decoding gives them back (within
// the caps), and the sketch never hides a word the text has.
func FuzzRoundTrip(f *testing.F) {
	f.Add("Pakistan’s defence minister", "strikes “deep into Afghanistan”", "پاکستان", "Dawn", int64(1761712200))
	f.Add("", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, title, summary, content, feed string, pub int64) {
		x := Text{Title: title, Summary: summary, Content: content, Feed: feed}
		if pub != 0 {
			x.Published = time.UnixMicro(pub).UTC()
		}
		a := rules.Analyze(x.Document())
		rec := Encode(x, a)
		got, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(title) <= MaxTitle && len(summary) <= MaxSummary && len(content) <= MaxContent && len(feed) <= MaxOther && !reflect.DeepEqual(got, x) {
			t.Fatalf("decoded %+v, want %+v", got, x)
		}
		for f := rules.FieldTitle; f <= rules.FieldLink; f++ {
			for _, w := range a.Words(f) {
				r, err := rules.Compile("w", `"`+w+`"`)
				if err != nil {
					continue // not every word is writable as a rule
				}
				if _, ok := r.Match(a); ok && !NewFilter(r).MayMatch(rec) {
					t.Fatalf("the sketch hides %q", w)
				}
			}
		}
	})
}
