package parse

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/wirewatch/wirewatch/internal/htmltext"
)

// chunkBytes is how much of a large RSS or Atom document's items gofeed
// parses at a time (a variable for the tests, which make it small).
// gofeed holds a document twice over while it parses it (its RSS or Atom
// structures, then its translation), about ten times the size of a
// document of small items: a 10 MB feed of 90,000 items took 100 MB
// (issue 18.8). A slice at a time, what it holds is a slice's worth, and
// the items already cleaned (Item: about 2 bytes for each byte of a
// document of small items, less for larger ones).
var chunkBytes = 512 << 10

// headRepeat: a slice is at least this many times as long as the text
// before and after the items that every slice repeats (a variable for the
// tests, which set it to zero).
var headRepeat = 8

// parseChunked parses a large RSS or Atom document a slice of its items at
// a time: each slice is parsed as a document of its own, made of the
// document's text before its first item (the root and channel elements,
// their namespaces and channel fields), the slice's items, and the text
// after its last item. It reports false, and the caller parses the whole
// document as before, when the document is small, JSON, not read to its
// end by the tokenizer, has its items in more than one place or mixed
// with other elements, or when gofeed refuses a slice: the slicing never
// changes what a document yields or how it fails.
func parseChunked(b []byte, contentType, feedURL string, base *url.URL) (*Feed, bool) {
	if len(b) < 2*chunkBytes || bytes.HasPrefix(bytes.TrimSpace(b[:min(len(b), 16)]), []byte("{")) {
		return nil, false
	}
	starts, ends, ok := itemSpans(b)
	if !ok || len(starts) < 2 {
		return nil, false
	}
	head, tail := b[:starts[0]], b[ends[len(ends)-1]:]
	size := max(chunkBytes, headRepeat*(len(head)+len(tail)))
	if 2*size > len(b) && headRepeat > 0 {
		return nil, false // a long head or tail: slicing would parse it again and again
	}
	var out *Feed
	seen := map[string]bool{}
	buf := make([]byte, 0, len(head)+len(tail)+size+size/4)
	for first := 0; first < len(starts); {
		last := first
		for last+1 < len(starts) && ends[last+1]-starts[first] <= size {
			last++
		}
		buf = append(append(append(buf[:0], head...), b[starts[first]:ends[last]]...), tail...)
		gf, ttl, format, err := parseFormat(buf, contentType, feedURL)
		if err != nil || gf == nil {
			return nil, false
		}
		if out == nil {
			if t := syTTL(gf); t > ttl {
				ttl = t
			}
			out = &Feed{Title: capText(htmltext.Plain(gf.Title), maxTitle), Link: resolveLink(base, gf.Link), TTL: ttl, Format: format,
				Items: make([]Item, 0, len(starts))}
		}
		out.Items = appendItems(out.Items, gf.Items, base, seen)
		first = last + 1
	}
	return out, true
}

var errNotSliceable = errors.New("items not in one run")

// itemSpans returns the byte offsets where each item (RSS <item>, Atom
// <entry>) of b starts and ends. It fails (ok false) unless the tokenizer
// reads b to its end and the items are the children of one element, with
// nothing but text, comments and processing instructions between them.
func itemSpans(b []byte) (starts, ends []int, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = nil
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // b is UTF-8 already
	depth, itemDepth := 0, 0
	inItem, other, parentClosed := false, false, false
	err := func() error {
		for {
			off := int(d.InputOffset())
			tok, err := d.RawToken()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				if inItem {
					continue
				}
				isItem := strings.EqualFold(t.Name.Local, "item") || strings.EqualFold(t.Name.Local, "entry")
				switch {
				case isItem && itemDepth == 0 && depth <= 3:
					itemDepth = depth
				case isItem && depth == itemDepth:
				case depth == itemDepth && len(starts) > 0:
					other = true // something else among or after the items
					continue
				default:
					continue
				}
				if other || parentClosed {
					return errNotSliceable
				}
				inItem = true
				starts = append(starts, off)
			case xml.EndElement:
				if inItem && depth == itemDepth {
					inItem = false
					ends = append(ends, int(d.InputOffset()))
				}
				depth--
				if itemDepth > 0 && depth < itemDepth-1 {
					parentClosed = true
				}
			}
		}
	}()
	if err != nil || inItem || depth != 0 || len(starts) != len(ends) {
		return nil, nil, false
	}
	return starts, ends, true
}
