package store_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/store"
)

func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain headline", "plain headline"},
		{"NUL\x00byte", "NULbyte"},
		{"tab\tnewline\nkept, CR\r dropped", "tab\tnewline\nkept, CR dropped"},
		{"escape \x1b[31mred\x1b[0m", "escape [31mred[0m"},
		{"DEL\x7f and C1 \u0085\u009b", "DEL and C1 "},
		{"noncharacters \uFFFF\uFFFE\uFDD0\U0001FFFF", "noncharacters "},
		{"lone surrogate \xed\xa0\x80 (WTF-8)", "lone surrogate \uFFFD (WTF-8)"},
		{"CESU-8 pair \xed\xa0\xbd\xed\xb8\x80", "CESU-8 pair \uFFFD"},
		{"invalid \xff\xfe then \xc3", "invalid \uFFFD then \uFFFD"},
		{"kept: é 日本 \U0001F600 \u202e", "kept: é 日本 \U0001F600 \u202e"},
		{"", ""},
	} {
		if got := store.CleanText(c.in, 0); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCleanTextCaps(t *testing.T) {
	title := strings.Repeat("é", 1<<20)
	got := store.CleanText(title, store.MaxTitle)
	if len(got) > store.MaxTitle || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Fatalf("1 MB title capped to %d bytes, valid %v, suffix %q", len(got), utf8.ValidString(got), got[len(got)-5:])
	}
	if again := store.CleanText(got, store.MaxTitle); again != got {
		t.Fatal("cleaning a capped title again changed it")
	}
	if got := store.CleanText("abcdef", 4); got != "a…" && len(got) > 4 {
		t.Fatalf("tiny cap: %q", got)
	}
}

func TestCleanID(t *testing.T) {
	if id := "https://dawn.com/news/1"; store.CleanID(id) != id {
		t.Fatal("a clean id changed")
	}
	a, b := store.CleanID("guid\x00"), store.CleanID("guid")
	if a == b || !strings.HasPrefix(a, "sha256:") || store.CleanID(a) != a {
		t.Fatalf("CleanID(guid NUL) = %q: want a stable hash distinct from %q", a, b)
	}
	if long := strings.Repeat("x", store.MaxID+1); !strings.HasPrefix(store.CleanID(long), "sha256:") {
		t.Fatal("an over-long id was not hashed")
	}
}

func TestCleanList(t *testing.T) {
	cats := make([]string, 10000)
	for i := range cats {
		cats[i] = "cat\x00" + strings.Repeat("x", i%5000)
	}
	got := store.CleanList(cats, store.MaxCategories, store.MaxCategory)
	if len(got) != store.MaxCategories {
		t.Fatalf("10,000 categories kept as %d, want %d", len(got), store.MaxCategories)
	}
	for _, c := range got {
		if !store.IsClean(c, store.MaxCategory) {
			t.Fatalf("category %q not clean", c)
		}
	}
	clean := []string{"politics", "asia"}
	if got := store.CleanList(clean, 10, 100); &got[0] != &clean[0] {
		t.Fatal("a clean list was copied")
	}
}

func TestCleanAlertMarks(t *testing.T) {
	a := store.Alert{ID: "a", Snippet: "x\x00strike\x00 deep", Marks: [][2]int{{2, 8}, {9, 14}, {0, 1}, {20, 30}}}
	c := store.CleanAlert(a)
	if c.Snippet != "xstrike deep" {
		t.Fatalf("snippet %q", c.Snippet)
	}
	var words []string
	for _, m := range c.Marks {
		words = append(words, c.Snippet[m[0]:m[1]])
	}
	if strings.Join(words, "|") != "strike| deep|x" {
		t.Fatalf("marks now cover %q, want the same words", words)
	}
}

func BenchmarkCleanText(b *testing.B) {
	clean := strings.Repeat("An ordinary headline about a border strike, ", 20)
	dirty := clean + "\x00"
	b.Run("clean", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			store.CleanText(clean, store.MaxTitle)
		}
	})
	b.Run("dirty", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			store.CleanText(dirty, store.MaxTitle)
		}
	})
}

// FuzzCleanText: whatever comes in, what comes out is clean, within the
// cap, unchanged by cleaning again, and clean input passes unchanged.
//
//	go test -fuzz FuzzCleanText ./store/
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x00b", "\xed\xa0\x80", "\xed\xa0\xbd\xed\xb8\x80", "\uFFFF", "é\xff", "\r\n\t", "…"} {
		f.Add(s, 0)
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 64
		out := store.CleanText(s, limit)
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) {
			t.Fatalf("CleanText(%q, %d) = %q: not valid text", s, limit, out)
		}
		if limit > 0 && len(out) > limit {
			t.Fatalf("CleanText(%q, %d) = %q: over the cap", s, limit, out)
		}
		if !store.IsClean(out, limit) || store.CleanText(out, limit) != out {
			t.Fatalf("CleanText(%q, %d) = %q: cleaning it again changes it", s, limit, out)
		}
		if store.IsClean(s, limit) && out != s {
			t.Fatalf("clean %q changed to %q", s, out)
		}
		id := store.CleanID(s)
		if !store.IsClean(id, store.MaxID) || store.CleanID(id) != id {
			t.Fatalf("CleanID(%q) = %q is not a clean, stable id", s, id)
		}
	})
}
