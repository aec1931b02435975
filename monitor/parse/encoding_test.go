package parse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func latin1(s string) []byte {
	b, err := charmap.ISO8859_1.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

func feedWith(decl, title string) string {
	return decl + `<rss version="2.0"><channel><title>` + title + `</title><item><title>` + title + `</title><guid>1</guid></item></channel></rss>`
}

// titleOf parses b and returns the first item's title.
func titleOf(t *testing.T, b []byte, contentType string) string {
	t.Helper()
	f, err := Parse(b, contentType, "https://example.com/feed")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(f.Items) != 1 {
		t.Fatalf("got %d items", len(f.Items))
	}
	return f.Items[0].Title
}

func TestEncodingRepair(t *testing.T) {
	const text = "Ação em São Paulo: café déjà vu"
	koi8 := func(s string) []byte { b, _ := charmap.KOI8R.NewEncoder().Bytes([]byte(s)); return b }
	utf16 := func(s string, bo unicode.Endianness) []byte {
		b, _ := unicode.UTF16(bo, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		return b
	}
	cases := []struct {
		name        string
		body        []byte
		contentType string
		want        string
		enc         string
	}{
		{"utf-8 plain", []byte(feedWith("", text)), "", text, "utf-8"},
		{"utf-8 with BOM and blank lines", append([]byte("\xEF\xBB\xBF\n\n  "), feedWith(`<?xml version="1.0" encoding="utf-8"?>`, text)...), "", text, "utf-8"},
		{"leading white space before declaration", []byte("\r\n\t " + feedWith(`<?xml version="1.0"?>`, text)), "", text, "utf-8"},
		{"latin-1 undeclared", latin1(feedWith("", text)), "", text, "windows-1252"},
		{"latin-1 undeclared, declaration without encoding", latin1(feedWith(`<?xml version="1.0"?>`, text)), "", text, "windows-1252"},
		{"latin-1 declared", latin1(feedWith(`<?xml version="1.0" encoding="ISO-8859-1"?>`, text)), "", text, "windows-1252"},
		{"latin-1 with HTTP charset", latin1(feedWith("", text)), "application/rss+xml; charset=iso-8859-1", text, "windows-1252"},
		// KOI8-R cannot be sniffed: only the HTTP charset says what it is.
		{"koi8-r via HTTP charset", koi8(feedWith("", "Первая новость")), "text/xml; charset=KOI8-R", "Первая новость", "koi8-r"},
		// The declaration wins over HTTP when present (and is applied once).
		{"declaration beats HTTP", koi8(feedWith(`<?xml version="1.0" encoding="koi8-r"?>`, "Первая новость")), "text/xml; charset=iso-8859-1", "Первая новость", "koi8-r"},
		// Labelled Latin-1 but the bytes are UTF-8: not converted twice.
		{"utf-8 bytes declared latin-1", []byte(feedWith(`<?xml version="1.0" encoding="iso-8859-1"?>`, text)), "", text, "utf-8"},
		{"utf-8 bytes, HTTP says latin-1", []byte(feedWith("", text)), "text/xml; charset=ISO-8859-1", text, "utf-8"},
		{"bogus declared encoding", []byte(feedWith(`<?xml version="1.0" encoding="bogus"?>`, text)), "", text, "utf-8"},
		{"utf-16 declared, bytes are utf-8", []byte(feedWith(`<?xml version="1.0" encoding="utf-16"?>`, text)), "", text, "utf-8"},
		{"utf-16le with BOM", utf16(feedWith(`<?xml version="1.0" encoding="utf-16"?>`, text), unicode.LittleEndian), "", text, "utf-16le"},
		{"utf-16be with BOM", utf16(feedWith(`<?xml version="1.0" encoding="utf-16"?>`, text), unicode.BigEndian), "", text, "utf-16be"},
		{"windows-1252 smart quotes in utf-8", []byte(feedWith("", "don\x92t stop – “now”")), "", "don’t stop – “now”", "utf-8"},
		{"declared utf-8, latin-1 bytes", latin1(feedWith(`<?xml version="1.0" encoding="UTF-8"?>`, text)), "", text, "windows-1252"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := RepairEncoding(c.body, c.contentType)
			if d.Encoding != c.enc {
				t.Errorf("read as %q (%s), want %q", d.Encoding, d.How, c.enc)
			}
			if !utf8.Valid(d.Body) {
				t.Errorf("output is not UTF-8")
			}
			if got := titleOf(t, c.body, c.contentType); got != c.want {
				t.Errorf("title %q, want %q", got, c.want)
			}
		})
	}
}

func TestEncodingRepairNeverMutatesInput(t *testing.T) {
	in := []byte(feedWith(`<?xml version="1.0" encoding="iso-8859-1"?>`, "x"))
	orig := bytes.Clone(in)
	RepairEncoding(in, "")
	if !bytes.Equal(in, orig) {
		t.Fatal("RepairEncoding changed its input")
	}
}

func TestUndeclaredNonWesternIsAnError(t *testing.T) {
	// Hebrew in windows-1255, no declaration: guessing Latin-1 would make
	// garbage; the error says what to do instead.
	heb, _ := charmap.Windows1255.NewEncoder().Bytes([]byte(feedWith("", "שלום עולם חדשות היום")))
	_, err := Parse(heb, "", "https://example.com/he")
	var pe *Error
	if !asError(err, &pe) || pe.Kind != KindEncoding {
		t.Fatalf("got %v, want an encoding error", err)
	}
	if !strings.Contains(err.Error(), "https://example.com/he") || !strings.Contains(err.Error(), "declare") {
		t.Errorf("message: %v", err)
	}
	// The same bytes with the charset declared over HTTP read fine.
	if got := titleOf(t, heb, "text/xml; charset=windows-1255"); got != "שלום עולם חדשות היום" {
		t.Errorf("with HTTP charset: %q", got)
	}
}

func TestMisdeclaredNonWesternNamesTheDeclaration(t *testing.T) {
	// Declared UTF-8, written in windows-1251: still not guessed at, but
	// the error must not claim that nothing was declared.
	cyr, _ := charmap.Windows1251.NewEncoder().Bytes([]byte(feedWith(`<?xml version="1.0" encoding="utf-8"?>`, "Москва сегодня: новости дня")))
	_, err := Parse(cyr, "", "https://example.com/ru")
	var pe *Error
	if !asError(err, &pe) || pe.Kind != KindEncoding {
		t.Fatalf("got %v, want an encoding error", err)
	}
	if !strings.Contains(err.Error(), `declares the encoding "utf-8"`) || strings.Contains(err.Error(), "does not declare") {
		t.Errorf("message: %v", err)
	}
}

func TestWesternPlausible(t *testing.T) {
	if !westernPlausible(latin1("Ação, café, déjà vu, « Noël » à Besançon")) {
		t.Error("French/Portuguese Latin-1 judged not Western")
	}
	cyr, _ := charmap.Windows1251.NewEncoder().Bytes([]byte("Москва сегодня новости дня"))
	if westernPlausible(cyr) {
		t.Error("Cyrillic windows-1251 judged Western")
	}
}

func asError[T error](err error, target *T) bool {
	return errors.As(err, target)
}

// TestLocalDefectsKeepTheFeed takes real feeds of the corpus, breaks one
// spot in each as publishers do (issue 18.9), and checks that the spot is
// repaired where it is while every other item reads exactly as in the
// intact feed: one bad character never costs the feed.
func TestLocalDefectsKeepTheFeed(t *testing.T) {
	cases := []struct {
		name, file string
		old, new   string // the one replacement that breaks the feed
		target     int    // the item the defect is in
		field      string // "title" or "summary"
		want       string // that field after repair
	}{
		{
			// A CMS cut the title by bytes, in the middle of "’" (E2 80 99),
			// in a feed declared UTF-8 with little other non-ASCII text.
			name: "truncated multi-byte character", file: "macrumors_stringer.xml",
			old: "Data Center Provider in China</title>", new: "Data Center Provider in China\xe2\x80</title>",
			target: 3, field: "title", want: "Apple Now Using China Telecom as Data Center Provider in China\uFFFD",
		},
		{
			// One Windows-1252 dash pasted into a UTF-8 feed whose only
			// other non-ASCII letter is the "è" of the title.
			name: "one stray windows-1252 byte", file: "hdblog-it_prof18.xml",
			old: "sul retro, 5 anni", new: "sul retro \x96 5 anni",
			target: 0, field: "summary", want: "Due fotocamere da 50MP sul retro – 5 anni di garanzia e 10 moduli sostituibili.",
		},
		{
			name: "raw U+FFFF", file: "medscape-family-medicine_nnw.rss",
			old: "<title>Two Specialties Becoming", new: "<title>Two Specialties\uFFFF Becoming",
			target: 1, field: "title", want: "Two Specialties\uFFFD Becoming Increasingly More Competitive",
		},
		{
			name: "reference to U+0001", file: "medscape-family-medicine_nnw.rss",
			old: "<title>Two Specialties Becoming", new: "<title>Two Specialties&#1; Becoming",
			target: 1, field: "title", want: "Two Specialties Becoming Increasingly More Competitive",
		},
		{
			name: "reference to ESC", file: "medscape-family-medicine_nnw.rss",
			old: "<title>Two Specialties Becoming", new: "<title>Two Specialties&#x1b; Becoming",
			target: 1, field: "title", want: "Two Specialties Becoming Increasingly More Competitive",
		},
		{
			name: "reference to NUL", file: "medscape-family-medicine_nnw.rss",
			old: "<title>Two Specialties Becoming", new: "<title>Two Specialties&#0; Becoming",
			target: 1, field: "title", want: "Two Specialties Becoming Increasingly More Competitive",
		},
		{
			name: "reference to U+FFFF", file: "medscape-family-medicine_nnw.rss",
			old: "<title>Two Specialties Becoming", new: "<title>Two Specialties&#xFFFF; Becoming",
			target: 1, field: "title", want: "Two Specialties\uFFFD Becoming Increasingly More Competitive",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "corpus", "news", c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte(c.old)) {
				t.Fatalf("%s does not contain %q", c.file, c.old)
			}
			broken := bytes.Replace(raw, []byte(c.old), []byte(c.new), 1)
			clean, err := Parse(raw, "application/rss+xml", "https://example.com/feed")
			if err != nil {
				t.Fatalf("intact feed: %v", err)
			}
			got, err := Parse(broken, "application/rss+xml", "https://example.com/feed")
			if err != nil {
				t.Fatalf("the whole feed is lost: %v", err)
			}
			if len(got.Items) != len(clean.Items) {
				t.Fatalf("%d items, want %d", len(got.Items), len(clean.Items))
			}
			for i := range got.Items {
				g, w := got.Items[i], clean.Items[i]
				if i == c.target {
					field := g.Title
					if c.field == "summary" {
						field = g.Summary
					}
					if field != c.want {
						t.Errorf("item %d %s = %q, want %q", i, c.field, field, c.want)
					}
					continue
				}
				if g.Title != w.Title || g.Summary != w.Summary || g.Content != w.Content || g.ID != w.ID {
					t.Errorf("item %d changed: title %q, want %q", i, g.Title, w.Title)
				}
			}
			if c.field == "summary" && got.Items[c.target].Title != clean.Items[c.target].Title {
				t.Errorf("title %q, want %q", got.Items[c.target].Title, clean.Items[c.target].Title)
			}
		})
	}
}

func TestFixXMLChars(t *testing.T) {
	cases := []struct{ in, want string }{
		{"no references", "no references"},
		{"a&#1;b&#x1b;c&#0;d&#X1F;e", "abcde"},
		{"tab&#9;nl&#10;cr&#xD;ok", "tab&#9;nl&#10;cr&#xD;ok"},
		{"&#65;&#x1F600;&amp;&lt;", "&#65;&#x1F600;&amp;&lt;"},
		{"nonchar &#xFFFF; &#65534; surrogate &#xD800; big &#x110000; &#99999999999999999999;", "nonchar \uFFFD \uFFFD surrogate \uFFFD big \uFFFD \uFFFD"},
		{"raw \uFFFE and \uFFFF", "raw \uFFFD and \uFFFD"},
		{"leading zeros &#0000001; stay short", "leading zeros  stay short"},
		{"not references: &#; &#x; &#12a; &#1 &# &", "not references: &#; &#x; &#12a; &#1 &# &"},
		{"&&#1;&", "&&"},
		// Removing a reference never makes a new one of its neighbours.
		{"&#0&#0;;", "&#0 ;"},
		{"&#x&#1;1;&#&#1;&#1;2;", "&#x 1;&# 2;"},
	}
	for _, c := range cases {
		if got := string(fixXMLChars([]byte(c.in))); got != c.want {
			t.Errorf("fixXMLChars(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	in := []byte("unchanged &#65;")
	if out := fixXMLChars(in); &out[0] != &in[0] {
		t.Error("input without anything to fix was copied")
	}
}
