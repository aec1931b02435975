package parse

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Decoded is the outcome of encoding repair.
type Decoded struct {
	// Body is UTF-8 with no BOM and no leading white space; an XML
	// declaration, if any, no longer names an encoding.
	Body []byte
	// Encoding is the encoding the input was read as (canonical name).
	Encoding string
	// How says what decided it: "bom", "xml declaration", "http charset",
	// "utf-8", "sniffed", "repaired", or "unknown" when the bytes are
	// neither UTF-8 nor Western text and nothing names their encoding
	// (Encoding is then "" and Body the input, unconverted).
	How string
	// Declared is the encoding the document or the HTTP charset named, as
	// written ("" if none), whether or not it was believed.
	Declared string
}

var xmlDeclRe = regexp.MustCompile(`^<\?xml[^>]*?\?>`)
var encAttrRe = regexp.MustCompile(`(?i)\bencoding\s*=\s*["']([^"']*)["']`)

// RepairEncoding converts a feed body to UTF-8 before any XML parser sees
// it, so that nothing is ever converted twice: the encoding is decided once,
// here, and the XML declaration is rewritten not to name one.
//
// The order of evidence:
//  1. a byte order mark (UTF-8, UTF-16, UTF-32), or the NUL pattern of a
//     BOM-less UTF-16/32 document starting with '<' (XML 1.0 Appendix F);
//  2. the encoding in the XML declaration, unless it is unknown, or names
//     UTF-16/32 for bytes that are not, or names a single-byte encoding
//     while the bytes are valid multi-byte UTF-8 (a common server mistake);
//  3. the charset of the HTTP Content-Type, when the declaration names
//     none, with the same UTF-8 check;
//  4. valid UTF-8 is taken as it is;
//  5. otherwise the bytes are mostly UTF-8 with a few bad spots, or text
//     in another encoding. Each bad spot is one stray byte or one
//     truncated character (a lead byte with some, not all, of its
//     continuation bytes: a title cut by bytes). A document with no more
//     bad spots than valid multi-byte sequences, or up to four times as
//     many when the bad bytes look like Western text, keeps its UTF-8 and
//     is repaired spot by spot: a stray byte is read as Windows-1252 (the
//     "smart quote pasted into a UTF-8 CMS" case), a truncated character
//     becomes U+FFFD; the rest of the feed is untouched. Otherwise the
//     valid sequences are taken for chance pairs of Latin-1 letters and
//     symbols (Latin-1 text makes one now and then: "Ã©") and the whole
//     document is read as Windows-1252 (a superset of Latin-1, what
//     undeclared non-UTF-8 Western feeds are in practice). Bytes that do
//     not look like Western text (most bad bytes in runs of three or
//     more, as in Cyrillic, Greek, Hebrew or CJK encodings) are not
//     guessed at: How is "unknown".
func RepairEncoding(body []byte, contentType string) Decoded {
	d := repairEncoding(body, contentType)
	if d.Declared = declaredEncoding(cleanStart(body)); d.Declared == "" {
		d.Declared = httpCharset(contentType)
	}
	if d.How != "unknown" && bytes.IndexByte(d.Body, 0) >= 0 {
		// NUL is not allowed in XML: drop it (this also keeps the output
		// from looking like BOM-less UTF-16/32 if repaired again).
		d.Body = bytes.ReplaceAll(d.Body, []byte{0}, nil)
		d.Body = cleanStart(d.Body)
	}
	return d
}

func repairEncoding(body []byte, contentType string) Decoded {
	// 1. BOM or NUL pattern.
	if enc, name, n := sniffUnicode(body); enc != nil {
		out, err := enc.NewDecoder().Bytes(body[n:])
		if err != nil {
			out = []byte(strings.ToValidUTF8(string(out), "\uFFFD"))
		}
		return Decoded{Body: stripDeclEncoding(cleanStart(out)), Encoding: name, How: "bom"}
	}
	if bytes.HasPrefix(body, utf8BOM) {
		body = body[len(utf8BOM):]
		b := cleanStart(body)
		if utf8.Valid(b) {
			return Decoded{Body: stripDeclEncoding(b), Encoding: "utf-8", How: "bom"}
		}
		return fromBrokenUTF8(b)
	}
	body = cleanStart(body)

	// 2. XML declaration.
	declared := declaredEncoding(body)
	if declared != "" {
		if enc, name := lookup(declared); enc != nil && !isUnicodeWide(name) {
			if d, ok := decodeAs(body, enc, name, "xml declaration"); ok {
				return d
			}
		}
		// Unknown, or UTF-16/32 without a BOM: evidence from the bytes.
	} else if cs := httpCharset(contentType); cs != "" {
		// 3. HTTP charset, only when the document declares nothing.
		if enc, name := lookup(cs); enc != nil && !isUnicodeWide(name) {
			if d, ok := decodeAs(body, enc, name, "http charset"); ok {
				return d
			}
		}
	}
	// 4 and 5.
	if utf8.Valid(body) {
		return Decoded{Body: stripDeclEncoding(body), Encoding: "utf-8", How: "utf-8"}
	}
	return fromBrokenUTF8(body)
}

// fromBrokenUTF8 reads bytes that should be UTF-8 but are not (step 5).
func fromBrokenUTF8(body []byte) Decoded {
	valid, bad := utf8Census(body)
	western := westernPlausible(body)
	switch {
	case bad <= valid || (western && bad <= 4*valid):
		return Decoded{Body: stripDeclEncoding(repairMixed(body)), Encoding: "utf-8", How: "repaired"}
	case western:
		out, _ := charmap.Windows1252.NewDecoder().Bytes(body)
		return Decoded{Body: stripDeclEncoding(out), Encoding: "windows-1252", How: "sniffed"}
	default:
		return Decoded{Body: body, How: "unknown"}
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decodeAs reads body in a labelled encoding. ok is false when the label
// must be distrusted: a single-byte label on bytes that are valid UTF-8
// with multi-byte sequences (Latin-1 text is essentially never that).
func decodeAs(body []byte, enc encoding.Encoding, name, how string) (Decoded, bool) {
	if name == "utf-8" {
		if utf8.Valid(body) {
			return Decoded{Body: stripDeclEncoding(body), Encoding: "utf-8", How: how}, true
		}
		return fromBrokenUTF8(body), true
	}
	if utf8.Valid(body) && hasMultiByteUTF8(body) {
		return Decoded{}, false
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		out = []byte(strings.ToValidUTF8(string(out), "\uFFFD"))
	}
	return Decoded{Body: stripDeclEncoding(out), Encoding: name, How: how}, true
}

// sniffUnicode recognises UTF-16/32 by BOM, or without BOM by the NUL
// pattern of a document starting with '<'. n is the BOM length to skip.
func sniffUnicode(b []byte) (enc encoding.Encoding, name string, n int) {
	switch {
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 4
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 2
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 2
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x00, 0x3C}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 0
	case bytes.HasPrefix(b, []byte{0x3C, 0x00, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 0
	case bytes.HasPrefix(b, []byte{0x00, 0x3C, 0x00, 0x3F}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 0
	case bytes.HasPrefix(b, []byte{0x3C, 0x00, 0x3F, 0x00}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 0
	}
	return nil, "", 0
}

// cleanStart strips any BOMs (U+FEFF, also a second one after conversion)
// and white space before the first markup.
func cleanStart(b []byte) []byte {
	for {
		switch {
		case bytes.HasPrefix(b, utf8BOM):
			b = b[len(utf8BOM):]
		case len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n'):
			b = b[1:]
		default:
			return b
		}
	}
}

// declaredEncoding returns the encoding named in a leading XML
// declaration, or "".
func declaredEncoding(b []byte) string {
	decl := xmlDeclRe.Find(b[:min(len(b), 512)])
	if decl == nil {
		return ""
	}
	m := encAttrRe.FindSubmatch(decl)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(string(m[1]))
}

// stripDeclEncoding rewrites a leading XML declaration without its
// encoding, so that the XML parser takes the (now UTF-8) bytes as they
// are. A declaration of UTF-8 stays: XML parsers take that as it is, and
// the body is not copied (10 MB more for each maximal feed; issue 18.8).
func stripDeclEncoding(b []byte) []byte {
	decl := xmlDeclRe.Find(b[:min(len(b), 512)])
	if decl == nil {
		return b
	}
	if m := encAttrRe.FindSubmatch(decl); m == nil || strings.EqualFold(string(m[1]), "utf-8") {
		return b
	}
	const repl = `<?xml version="1.0"?>`
	out := make([]byte, 0, len(b)-len(decl)+len(repl))
	out = append(out, repl...)
	return append(out, b[len(decl):]...)
}

func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

// lookup resolves an encoding label (WHATWG labels: "iso-8859-1" is
// Windows-1252, its superset).
func lookup(label string) (encoding.Encoding, string) {
	enc, name := charset.Lookup(label)
	if enc == nil {
		return nil, ""
	}
	return enc, strings.ToLower(name)
}

func isUnicodeWide(name string) bool {
	return strings.HasPrefix(name, "utf-16") || strings.HasPrefix(name, "utf-32")
}

// westernPlausible reports whether the bytes that are not UTF-8 look like
// Latin-1 / Windows-1252 text: Western languages put one or two accented
// letters between ASCII ones, while single-byte Cyrillic, Greek or Hebrew
// and the CJK double-byte encodings write whole words in high bytes. Valid
// multi-byte UTF-8 sequences count as ASCII here: they end a run. Over the
// corpus, Western feeds have at most 10% of their high bytes in runs of
// three or more, the others 79% to 98%.
func westernPlausible(b []byte) bool {
	high, inLongRuns, run := 0, 0, 0
	endRun := func() {
		high += run
		if run >= 3 {
			inLongRuns += run
		}
		run = 0
	}
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			endRun()
			i++
			continue
		}
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			endRun()
			i += n
			continue
		}
		run++
		i++
	}
	endRun()
	return high == 0 || inLongRuns*2 <= high
}

// utf8Census counts valid multi-byte UTF-8 sequences and bad spots: a
// truncated character (see truncatedLen) is one spot, any other invalid
// byte is one.
func utf8Census(b []byte) (valid, bad int) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			bad++
			i += max(1, truncatedLen(b[i:]))
			continue
		}
		valid++
		i += n
	}
	return valid, bad
}

// truncatedLen returns the length of the truncated UTF-8 character b
// starts with: a lead byte of a three- or four-byte sequence followed by
// some, but not all, of its continuation bytes (what is left of a
// character when a title is cut by bytes). It returns 0 when b does not
// start with one.
func truncatedLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c == 0xE0:
		need, lo = 3, 0xA0
	case c == 0xED:
		need, hi = 3, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 3
	case c == 0xF0:
		need, lo = 4, 0x90
	case c == 0xF4:
		need, hi = 4, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 4
	default:
		return 0
	}
	n := 1
	for n < need && n < len(b) && b[n] >= lo && b[n] <= hi {
		n++
		lo, hi = 0x80, 0xBF
	}
	if n == 1 || n == need {
		return 0 // no continuation byte, or a complete (valid) character
	}
	return n
}

// hasMultiByteUTF8 reports whether b contains at least one valid multi-byte
// UTF-8 sequence.
func hasMultiByteUTF8(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			return true
		}
		i++
	}
	return false
}

// repairMixed keeps valid UTF-8 and repairs each bad spot where it is: a
// truncated character becomes U+FFFD, any other invalid byte is read as
// Windows-1252 (the "smart quotes pasted into a UTF-8 CMS" case).
func repairMixed(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if t := truncatedLen(b[i:]); t > 0 {
				out = utf8.AppendRune(out, utf8.RuneError)
				i += t
				continue
			}
			out = utf8.AppendRune(out, windows1252Rune(b[i]))
			i++
			continue
		}
		out = append(out, b[i:i+n]...)
		i += n
	}
	return out
}

func windows1252Rune(c byte) rune {
	r := charmap.Windows1252.DecodeByte(c)
	if r == utf8.RuneError {
		return '\uFFFD'
	}
	return r
}
