package story

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzUnmarshalBinary feeds arbitrary bytes to the decoder of stored
// signatures: it must never panic, and whatever it accepts must be a
// valid signature that survives a round trip.
func FuzzUnmarshalBinary(f *testing.F) {
	for _, s := range []Signature{Sign(dawnTitle, dawnLead), Sign(geoTitle, ""), {}} {
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{Version, 2, 5, 0})
	f.Add([]byte{Version + 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Signature
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		if s.Len() > maxFeatures {
			t.Fatalf("%d words accepted", s.Len())
		}
		for i := 1; i < len(s.feats); i++ {
			if s.feats[i] <= s.feats[i-1] {
				t.Fatalf("words not strictly increasing at %d", i)
			}
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 Signature
		if err := s2.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-marshalled signature rejected: %v", err)
		}
		if !slicesEqual(s.feats, s2.feats) || !slices.Equal(s.meta, s2.meta) {
			t.Fatal("round trip changed the signature")
		}
		if !s.IsZero() && Similarity(s, s2) != 1 {
			t.Fatalf("similarity to itself %.3f", Similarity(s, s2))
		}
	})
}

// FuzzSign signs hostile text: no panic, bounded size, and an item is
// always the same story as itself.
func FuzzSign(f *testing.F) {
	f.Add(dawnTitle, dawnLead)
	f.Add("پاکستان افغانستان کے اندر حملے کرے گا", "")
	f.Add("कैसे फैला कोरोना वायरस", "\u200b\u00ad")
	f.Add("\xff\xfe", "a.b.c U.S.")
	f.Fuzz(func(t *testing.T, title, lead string) {
		if !utf8.ValidString(title) && len(title) > 1<<16 {
			return
		}
		s := Sign(title, lead)
		if s.Len() > maxFeatures {
			t.Fatalf("%d words", s.Len())
		}
		if !s.IsZero() && Similarity(s, Sign(title, lead)) != 1 {
			t.Fatal("not the same story as itself")
		}
	})
}
