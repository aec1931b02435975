package story

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 10, 29, 6, 0, 0, 0, time.UTC)

const (
	dawnTitle = "Pakistan will strike 'deep into Afghanistan' if attacked, Khawaja Asif warns Taliban"
	dawnLead  = "Defence Minister Khawaja Asif said on Wednesday that Islamabad would strike deep into Afghanistan if Afghan soil was used to launch terror attacks on Pakistan, hours after talks in Turkiye failed."
	geoTitle  = "Asif threatens strikes deep inside Afghanistan after Istanbul talks collapse"
	geoLead   = "Pakistan's defence minister warned the Taliban government that Pakistan would hit targets deep inside Afghanistan if attacks on its territory continued, after negotiations in Istanbul ended without agreement."
	otherT    = "Torkham border crossing reopens for trade after three weeks"
	otherL    = "The Torkham border crossing between Pakistan and Afghanistan reopened for trucks on Monday after being closed for three weeks following clashes between the two countries' forces."
)

func mustMarshal(t *testing.T, s Signature) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A stored signature must compare with one computed later, by another
// process or release: the bytes of a fixed text are pinned. If this test
// fails after a deliberate change to words, stop words or hashing, bump
// Version and update the golden value.
func TestSignatureStable(t *testing.T) {
	a, b := Sign(dawnTitle, dawnLead), Sign(dawnTitle, dawnLead)
	if !bytes.Equal(mustMarshal(t, a), mustMarshal(t, b)) || !slices.Equal(a.meta, b.meta) {
		t.Fatal("the same text signed twice differs")
	}
	const golden = "022181fdd60681899e9b0401bff3fa2b0193c98d9a0182aaa8a51601ffa09b2c019e87d95c01eeacd65f8282fad82101d1e8b51601939fce6902d1a4812d82a48e9f1482dbcd901482bcf2ed21019deae14882aebccc0e01e1faee16018a85ca3d82d3d7fc0101f9aacd2301c997de200188e4830101ef90e60481b393aa880201ccbbcc038282a5d6c40101a6968e04019ee5cb3401f8d8f63c81cf9c8e5a01a5b1f0ff0101ad86d51782"
	if got := hex.EncodeToString(mustMarshal(t, a)); got != golden {
		t.Errorf("signature bytes changed (bump Version if deliberate):\n got %s\nwant %s", got, golden)
	}
	// Case, curly quotes, invisible characters and inflection do not
	// change a story's words.
	c := Sign("PAKISTAN WILL STRIKE \u2018DEEP INTO AFGHANISTAN\u2019 IF ATTACKED, KHAWAJA ASIF WARNS TALIBAN",
		"Defence Minister Khawaja\u00ad Asif said on Wednesday that Islamabad would strike deep into Afghanistan if Afghan soil was used to launch terror attacks on Pakistan, hours after talks in Turkiye failed.")
	if Similarity(a, c) != 1 {
		t.Errorf("upper-cased, curly-quoted copy: similarity %.3f, want 1", Similarity(a, c))
	}
	// Urdu letter variants (Arabic yeh and kaf, tatweel) are the same words.
	u1 := Sign("پاکستان افغانستان کے اندر حملے کرے گا", "")
	u2 := Sign("پاكستان افغانستان كے اندر حمـلے كرے گا", "")
	if Similarity(u1, u2) != 1 {
		t.Errorf("Urdu spelling variants: similarity %.3f, want 1", Similarity(u1, u2))
	}
	if Sign("", "").IsZero() != true || Sign("the of and", "").IsZero() != true {
		t.Error("text with no content words must give a zero signature")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, s := range []Signature{Sign(dawnTitle, dawnLead), Sign(geoTitle, ""), Sign("", "")} {
		b := mustMarshal(t, s)
		var got Signature
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("unmarshal %x: %v", b, err)
		}
		if !slicesEqual(got.feats, s.feats) || !slices.Equal(got.meta, s.meta) {
			t.Fatalf("round trip changed the signature")
		}
		if len(b) > 2+6*s.Len() {
			t.Errorf("%d bytes for %d words", len(b), s.Len())
		}
	}
	good := mustMarshal(t, Sign(dawnTitle, dawnLead))
	t.Logf("a title and lead marshal to %d bytes", len(good))
	bad := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{Version + 1}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"repeated word":  {Version, 2, 5, 0},
		"too many words": {Version, 0xff, 0x7f},
		"out of range":   {Version, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, b := range bad {
		var s Signature
		err := s.UnmarshalBinary(b)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if (name == "other version") != errors.Is(err, ErrVersion) {
			t.Errorf("%s: %v, ErrVersion only for another version", name, err)
		}
	}
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGroupsSameStoryNotOther(t *testing.T) {
	idx := New(Options{})
	idx.Add("s1", "#pak", Sign(dawnTitle, dawnLead), t0)
	if id, score, ok := idx.Match("#pak", Sign(geoTitle, geoLead), t0.Add(40*time.Minute)); !ok || id != "s1" {
		t.Errorf("Geo's wording of the same story: got %q %.3f %v, want s1", id, score, ok)
	}
	if id, score, ok := idx.Match("#pak", Sign(otherT, otherL), t0.Add(40*time.Minute)); ok {
		t.Errorf("different story on the same topic grouped into %q (%.3f)", id, score)
	}
}

func TestWindowExpiry(t *testing.T) {
	idx := New(Options{Window: 24 * time.Hour})
	sig, geo := Sign(dawnTitle, dawnLead), Sign(geoTitle, geoLead)
	idx.Add("s1", "#pak", sig, t0)
	if _, _, ok := idx.Match("#pak", geo, t0.Add(23*time.Hour+59*time.Minute)); !ok {
		t.Error("not matched just inside the window")
	}
	if id, _, ok := idx.Match("#pak", geo, t0.Add(24*time.Hour)); ok {
		t.Errorf("matched %q 24h later, outside the window", id)
	}
	// Adding later items drops the expired one.
	idx.Add("s2", "#pak", Sign(otherT, otherL), t0.Add(25*time.Hour))
	if n := idx.Len(); n != 1 {
		t.Errorf("after a later Add: %d items held, want 1", n)
	}
	// A follow-up keeps the story open: it can be matched by its newest item.
	idx.Add("s2", "#pak", Sign("Torkham crossing reopens to trucks", otherL), t0.Add(40*time.Hour))
	if id, _, ok := idx.Match("#pak", Sign(otherT, otherL), t0.Add(60*time.Hour)); !ok || id != "s2" {
		t.Errorf("story with a follow-up 20h ago: got %q %v, want s2", id, ok)
	}
	if n := idx.Expire(t0.Add(100 * time.Hour)); n != 2 {
		t.Errorf("Expire dropped %d, want 2", n)
	}
	if n := idx.Len(); n != 0 {
		t.Errorf("%d items held after everything expired", n)
	}
}

func TestMaxEntries(t *testing.T) {
	idx := New(Options{MaxEntries: 2})
	idx.Add("old", "#c", Sign(dawnTitle, dawnLead), t0)
	idx.Add("x", "#c", Sign(otherT, otherL), t0.Add(time.Minute))
	idx.Add("y", "#c", Sign("Eleven soldiers killed in ambush in South Waziristan", ""), t0.Add(2*time.Minute))
	if n := idx.Len(); n != 2 {
		t.Fatalf("%d items held, want the cap 2", n)
	}
	if id, _, ok := idx.Match("#c", Sign(dawnTitle, dawnLead), t0.Add(3*time.Minute)); ok {
		t.Errorf("oldest item should have been dropped, matched %q", id)
	}
}

func TestChannelsSeparate(t *testing.T) {
	idx := New(Options{})
	idx.Add("pak-desk-story", "#pak", Sign(dawnTitle, dawnLead), t0)
	if id, _, ok := idx.Match("#world", Sign(geoTitle, geoLead), t0.Add(time.Hour)); ok {
		t.Errorf("story of #pak matched in #world: %q", id)
	}
	idx.Add("world-desk-story", "#world", Sign(geoTitle, geoLead), t0.Add(time.Hour))
	if id, _, _ := idx.Match("#pak", Sign(geoTitle, geoLead), t0.Add(2*time.Hour)); id != "pak-desk-story" {
		t.Errorf("#pak: got %q", id)
	}
	if id, _, _ := idx.Match("#world", Sign(dawnTitle, dawnLead), t0.Add(2*time.Hour)); id != "world-desk-story" {
		t.Errorf("#world: got %q", id)
	}
}

// The best match wins, whatever the maps inside: the same calls give
// the same answer every time.
func TestDeterministic(t *testing.T) {
	sig := Sign(dawnTitle, dawnLead)
	var first string
	for run := 0; run < 20; run++ {
		idx := New(Options{})
		// Two stories with an identical item; "early" was added first in
		// time but last in call order.
		idx.Add("weak", "#pak", Sign(geoTitle, geoLead), t0)
		idx.Add("late", "#pak", sig, t0.Add(2*time.Hour))
		idx.Add("early", "#pak", sig, t0.Add(time.Hour))
		id, score, ok := idx.Match("#pak", sig, t0.Add(3*time.Hour))
		if !ok || id == "weak" || score < 0.99 {
			t.Fatalf("run %d: got %q %.3f %v, want one of the identical items", run, id, score, ok)
		}
		if run == 0 {
			first = id
		} else if id != first {
			t.Fatalf("run %d: got %q, run 0 got %q", run, id, first)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	idx := New(Options{})
	sigs := []Signature{Sign(dawnTitle, dawnLead), Sign(geoTitle, geoLead), Sign(otherT, otherL)}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				now := t0.Add(time.Duration(i) * time.Minute)
				s := sigs[(g+i)%len(sigs)]
				ch := fmt.Sprintf("#c%d", i%3)
				if _, _, ok := idx.Match(ch, s, now); !ok {
					idx.Add(fmt.Sprintf("g%d-%d", g, i), ch, s, now)
				}
				if i%50 == 0 {
					idx.Expire(now)
				}
			}
		}()
	}
	wg.Wait()
	if idx.Len() == 0 {
		t.Error("nothing added")
	}
}

// Of a huge lead only the first LeadWords words count.
func TestHugeLead(t *testing.T) {
	var b strings.Builder
	b.WriteString(dawnLead)
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, " filler%d", i)
	}
	s := Sign(dawnTitle, b.String())
	n := len(strings.Fields(dawnLead))
	var want strings.Builder
	want.WriteString(dawnLead)
	for i := 0; i < LeadWords-n; i++ {
		fmt.Fprintf(&want, " filler%d", i)
	}
	if got := Similarity(s, Sign(dawnTitle, want.String())); got != 1 {
		t.Errorf("long lead: similarity %.3f with its first %d words, want 1", got, LeadWords)
	}
	if s.Len() > maxFeatures {
		t.Errorf("%d words", s.Len())
	}
}

// Group is Match then Add in one step: the second and third reports of a
// story join the first, a different story starts its own.
func TestGroup(t *testing.T) {
	idx := New(Options{})
	steps := []struct {
		newID, title, lead string
		want               string
		joined             bool
	}{
		{"dawn-1", dawnTitle, dawnLead, "dawn-1", false},
		{"geo-1", geoTitle, geoLead, "dawn-1", true},
		{"tor-1", otherT, otherL, "tor-1", false},
		{"tribune-1", "Pakistan threatens to strike deep into Afghanistan, Asif tells Taliban", "Defence Minister Khawaja Asif warned that Pakistan would strike deep into Afghanistan if attacks were launched from Afghan soil.", "dawn-1", true},
	}
	for i, st := range steps {
		id, _, joined := idx.Group(st.newID, "#pak", Sign(st.title, st.lead), t0.Add(time.Duration(i)*time.Minute))
		if id != st.want || joined != st.joined {
			t.Errorf("%s: story %q joined %v, want %q %v", st.newID, id, joined, st.want, st.joined)
		}
	}
	if n := idx.Len(); n != 4 {
		t.Errorf("%d items recorded, want 4", n)
	}
}
