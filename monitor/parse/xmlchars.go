package parse

import (
	"bytes"
	"unicode/utf8"
)

// fixXMLChars rewrites the characters XML forbids, so that one of them
// costs a character, not the feed: the XML parser rejects the whole
// document at "&#1;", "&#x1b;", "&#0;" or a raw U+FFFF ("illegal character
// code"), and publishers' CMSs let such characters through from pasted
// text.
//
// A character reference to a C0 control character (other than tab, line
// feed and carriage return, which are allowed) is removed, as the control
// character itself would be when the text is cleaned. A reference to
// another character XML excludes (U+FFFE, U+FFFF, a surrogate, beyond
// U+10FFFF), and a raw U+FFFE or U+FFFF, becomes U+FFFD. Everything else,
// malformed references included, is left to the parser. It runs in one
// pass, in time linear in len(b) whatever the input. b is UTF-8 (see
// RepairEncoding); it is returned as it is when there is nothing to fix.
func fixXMLChars(b []byte) []byte {
	if !bytes.Contains(b, []byte("&#")) && !bytes.Contains(b, []byte("\xEF\xBF\xBE")) && !bytes.Contains(b, []byte("\xEF\xBF\xBF")) {
		return b
	}
	var out []byte
	last := 0 // b[last:] is not yet copied to out
	// open is set while the text before i ends in what could still become
	// a character reference ("&", "&#", "&#x", "&#12"): removing a
	// reference there must not join that text and the next into a new one
	// ("&#0&#1;;" is not "&#0;"), so a space goes in between instead.
	open := false
	replace := func(i, n int, with string) {
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(append(out, b[last:i]...), with...)
		last = i + n
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '&' {
			if n, r, ok := charRef(b[i:]); ok && !xmlChar(r) {
				switch {
				case r >= 0x20:
					replace(i, n, "\uFFFD")
					open = false
				case open && i+n < len(b) && (b[i+n] == '#' || b[i+n] == ';' || b[i+n] == 'x' || b[i+n] == 'X' || isHexDigit(b[i+n])):
					replace(i, n, " ")
					open = false
				default:
					replace(i, n, "") // open stays as it was
				}
				i += n - 1
				continue
			}
		}
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			replace(i, 3, "\uFFFD")
			open = false
			i += 2
			continue
		}
		open = c == '&' || (open && (c == '#' || c == 'x' || c == 'X' || isHexDigit(c)))
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// charRef parses the numeric character reference b starts with ("&#65;"
// or "&#x41;"): its length and its code point (clamped just above
// U+10FFFF).
func charRef(b []byte) (n int, r rune, ok bool) {
	if len(b) < 3 || b[0] != '&' || b[1] != '#' {
		return 0, 0, false
	}
	i, base := 2, rune(10)
	if b[i] == 'x' || b[i] == 'X' {
		i, base = 3, 16
	}
	start := i
	for ; i < len(b); i++ {
		var d rune
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		case c == ';' && i > start:
			return i + 1, r, true
		default:
			return 0, 0, false
		}
		r = min(r*base+d, utf8.MaxRune+1)
	}
	return 0, 0, false
}

// xmlChar reports whether XML 1.0 allows r (production [2] Char).
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= utf8.MaxRune)
}
