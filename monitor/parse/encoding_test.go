package parse

import (
	"bytes"
	"errors"
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
