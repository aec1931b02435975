package itemtext

import (
	"bytes"
	"compress/flate"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

func TestRoundTripCorpus(t *testing.T) {
	z := rules.NewAnalyzer()
	for i, x := range corpus(t) {
		a := z.Analyze(x.Document())
		got, err := Decode(Encode(x, a))
		a.Release()
		if err != nil {
			t.Fatalf("item %d (%q): %v", i, x.Title, err)
		}
		if len(x.Categories) == 0 {
			x.Categories = nil
		}
		if !reflect.DeepEqual(got, x) {
			t.Fatalf("item %d (%q): decoded text differs", i, x.Title)
		}
	}
}

func TestPublishedAndEmpty(t *testing.T) {
	pub := time.Date(2025, 10, 29, 4, 30, 0, 123456000, time.UTC)
	for _, x := range []Text{{}, {Published: pub}, {Title: "t", Categories: []string{"", "a"}}} {
		got, err := Decode(Encode(x, nil))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, x) {
			t.Fatalf("decoded %+v, want %+v", got, x)
		}
	}
}

func TestCapsCutOnCharacters(t *testing.T) {
	x := Text{Title: strings.Repeat("é", MaxTitle), Content: strings.Repeat("x", MaxContent+10), Categories: make([]string, MaxCategories+5)}
	got, err := Decode(Encode(x, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Title) > MaxTitle || !utf8.ValidString(got.Title) || len(got.Title) < MaxTitle-1 {
		t.Fatalf("title cut to %d bytes (valid UTF-8: %v)", len(got.Title), utf8.ValidString(got.Title))
	}
	if len(got.Content) != MaxContent || len(got.Categories) != MaxCategories {
		t.Fatalf("content %d bytes, %d categories", len(got.Content), len(got.Categories))
	}
}

func TestCorruptRecords(t *testing.T) {
	good := Encode(Text{Title: "Pakistan warns of strikes", Content: strings.Repeat("deep into Afghanistan ", 50)}, nil)
	var bomb bytes.Buffer // a few kilobytes that inflate to 4 MB
	w, _ := flate.NewWriter(&bomb, flate.BestCompression)
	w.Write([]byte{0xff, 0xff, 0x7f})
	w.Write(make([]byte, 4<<20))
	w.Close()
	cases := map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, good[1:]...),
		"sketch length": {1, 0xff, 0xff, 0x03},
		"cut":           good[:len(good)/2],
		"garbage body":  {1, 0, 0xde, 0xad, 0xbe, 0xef},
		"trailing":      append(append([]byte{}, good...), 0),
		"bomb":          append([]byte{1, 0}, bomb.Bytes()...),
	}
	for name, rec := range cases {
		_, err := Decode(rec)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			t.Errorf("%s: %v is neither ErrCorrupt nor ErrVersion", name, err)
		}
	}
}

// TestFilterNeverSkipsAMatch checks on the corpus that the sketch filter
// only skips items the rule does not match, and that it skips most of the
// others (it is worth having).
func TestFilterNeverSkipsAMatch(t *testing.T) {
	ts := corpus(t)
	queries := []string{
		`(Trump OR Biden OR Harris) AND (election OR president OR campaign)`,
		`(Apple OR Google OR Microsoft) AND (AI OR "artificial intelligence" OR iPhone)`,
		`(game OR games) NEAR/8 (release* OR launch)`,
		`"open source" OR "open-source"`,
		`title:(review OR reviews) NOT game`,
		`CASE("AI") OR "machine learning"`,
		`ATLEAST(3, game OR games OR gaming)`,
		`real-time`,
		`negotiat*`, // a wildcard alone: checked on word starts
		`gam* NEAR/3 review*`,
	}
	z := rules.NewAnalyzer()
	recs := make([][]byte, len(ts))
	as := make([]*rules.Analyzed, len(ts))
	for i := range ts {
		as[i] = z.Analyze(ts[i].Document())
		recs[i] = Encode(ts[i], as[i])
	}
	for _, q := range queries {
		r, err := rules.Compile("q", q)
		if err != nil {
			t.Fatal(err)
		}
		f := NewFilter(r)
		matched, skipped := 0, 0
		for i := range ts {
			_, ok := r.Match(as[i])
			may := f.MayMatch(recs[i])
			if ok {
				matched++
				if !may {
					t.Fatalf("%q: the filter skips item %d (%q), which matches", q, i, ts[i].Title)
				}
			} else if !may {
				skipped++
			}
		}
		t.Logf("%q: %d of %d items match, the filter skips %d of the other %d", q, matched, len(ts), skipped, len(ts)-matched)
		if matched == 0 || skipped < (len(ts)-matched)/2 {
			t.Fatalf("%q: %d matches; the filter skips only %d of %d items that do not match", q, matched, skipped, len(ts)-matched)
		}
	}
}

func TestFilterIgnoresForeignSketches(t *testing.T) {
	x := Text{Title: "Markets rally"}
	rec := Encode(x, rules.Analyze(x.Document()))
	r, _ := rules.Compile("q", "Pakistan")
	f := NewFilter(r)
	if f.MayMatch(rec) {
		t.Fatal("the filter lets through an item without the rule's word")
	}
	sk, _, _ := split(rec)
	sk[0] ^= 0xff // another analysis' fingerprint
	if !f.MayMatch(rec) {
		t.Fatal("a sketch of another analysis was trusted")
	}
	if !f.MayMatch(Encode(x, nil)) || !f.MayMatch([]byte{7}) {
		t.Fatal("a record without a usable sketch was skipped")
	}
	if !NewFilter().MayMatch(rec) {
		t.Fatal("a filter without rules must pass everything")
	}
}
