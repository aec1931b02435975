// Package itemtext owns the text Wirewatch keeps of each item for a while
// ([store] keep_text), so that a rule can be tried again on what already
// arrived: the fields rules read (Text) and their stored form, a record
// (Encode, Decode).
//
// A record is small and self-describing:
//
//	version byte (1)
//	uvarint length of the sketch, then the sketch (0: none)
//	the fields, DEFLATE-compressed (raw DEFLATE, no header)
//
// The sketch is a Bloom filter of the item's words and stems as the rules
// package analyses them, with the fingerprint of that analysis. A backtest
// checks a rule's required words against it (Filter) and skips most items
// without decompressing or analysing them; a sketch made by a different
// analysis (another version of the rules package) is ignored, never
// trusted. The store treats records as opaque bytes.
//
// Records are compressed one at a time (each is a row). On the feed corpus
// (TestMeasure) DEFLATE's default level compresses as well as its best
// one, and a hand-written preset dictionary of news words saved only 4%,
// not worth fixing a dictionary into the format for ever.
package itemtext

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/rules"
)

// Text is what is kept of an item: the fields rules match, as plain text.
type Text struct {
	Title, Summary, Content string
	Feed, Author, Link      string
	Categories              []string
	// Published is the item's publication time (zero: unknown).
	Published time.Time
}

// Document is the rules' view of the text.
func (t *Text) Document() rules.Document {
	return rules.Document{Title: t.Title, Summary: t.Summary, Content: t.Content, Feed: t.Feed, Author: t.Author, Link: t.Link, Categories: t.Categories}
}

// Size caps, in bytes: a longer field is cut (on a character boundary)
// when encoded. They are those the store applies to an item's text, so an
// item is kept as it was matched.
const (
	MaxTitle      = 2 << 10
	MaxSummary    = 32 << 10
	MaxContent    = 256 << 10
	MaxLink       = 8 << 10
	MaxOther      = 2 << 10 // feed, author, each category
	MaxCategories = 100
	// MaxDecoded bounds what Decode inflates, whatever the record says.
	MaxDecoded = MaxTitle + MaxSummary + MaxContent + MaxLink + (2+MaxCategories)*MaxOther + 1024
)

// version is the record format written by Encode.
const version = 1

// Encoding errors.
var (
	ErrVersion = errors.New("itemtext: record of an unknown version")
	ErrCorrupt = errors.New("itemtext: corrupt record")
)

// level is the DEFLATE level: on the corpus, the best level makes records
// no smaller and costs more time (TestMeasure).
const level = flate.DefaultCompression

var writers = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, level)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return w
}}

type reader struct {
	br  *bytes.Reader
	fr  io.ReadCloser
	buf []byte
}

var readers = sync.Pool{New: func() any {
	br := bytes.NewReader(nil)
	return &reader{br: br, fr: flate.NewReader(br)}
}}

// Encode returns the record of t. a, if not nil, is t analysed
// (rules.Analyze of t.Document()); its words make the record's sketch, so
// that backtests can skip the item cheaply. Fields over their cap are cut.
func Encode(t Text, a *rules.Analyzed) []byte {
	return AppendEncode(nil, t, a)
}

// AppendEncode appends the record of t to dst (see Encode).
func AppendEncode(dst []byte, t Text, a *rules.Analyzed) []byte {
	var raw []byte
	raw = appendString(raw, t.Title, MaxTitle)
	raw = appendString(raw, t.Summary, MaxSummary)
	raw = appendString(raw, t.Content, MaxContent)
	raw = appendString(raw, t.Feed, MaxOther)
	raw = appendString(raw, t.Author, MaxOther)
	raw = appendString(raw, t.Link, MaxLink)
	cats := t.Categories[:min(len(t.Categories), MaxCategories)]
	raw = binary.AppendUvarint(raw, uint64(len(cats)))
	for _, c := range cats {
		raw = appendString(raw, c, MaxOther)
	}
	if t.Published.IsZero() {
		raw = append(raw, 0)
	} else {
		raw = append(raw, 1)
		raw = binary.AppendVarint(raw, t.Published.UnixMicro())
	}

	dst = append(dst, version)
	if a != nil {
		sk := appendSketch(nil, a)
		dst = binary.AppendUvarint(dst, uint64(len(sk)))
		dst = append(dst, sk...)
	} else {
		dst = append(dst, 0)
	}
	buf := bytes.NewBuffer(dst)
	w := writers.Get().(*flate.Writer)
	w.Reset(buf)
	w.Write(raw) // a bytes.Buffer does not fail
	w.Close()
	writers.Put(w)
	return buf.Bytes()
}

// appendString appends s, cut to at most max bytes on a character
// boundary, with its length.
func appendString(b []byte, s string, max int) []byte {
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8.ValidString(s[len(s)-min(len(s), utf8.UTFMax):]) {
			s = s[:len(s)-1]
		}
	}
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// split returns a record's sketch and compressed fields.
func split(rec []byte) (sketch, body []byte, err error) {
	if len(rec) == 0 {
		return nil, nil, fmt.Errorf("%w: empty", ErrCorrupt)
	}
	if rec[0] != version {
		return nil, nil, fmt.Errorf("%w: %d", ErrVersion, rec[0])
	}
	n, k := binary.Uvarint(rec[1:])
	if k <= 0 || n > uint64(len(rec)-1-k) {
		return nil, nil, fmt.Errorf("%w: bad sketch length", ErrCorrupt)
	}
	sketch = rec[1+k : 1+k+int(n)]
	return sketch, rec[1+k+int(n):], nil
}

// Decode reads a record. It never inflates more than MaxDecoded bytes, and
// a record that is cut, corrupt or too large is an error wrapping
// ErrCorrupt (or ErrVersion).
func Decode(rec []byte) (Text, error) {
	_, body, err := split(rec)
	if err != nil {
		return Text{}, err
	}
	r := readers.Get().(*reader)
	defer readers.Put(r)
	r.br.Reset(body)
	if err := r.fr.(flate.Resetter).Reset(r.br, nil); err != nil {
		return Text{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	raw, err := readAll(r.fr, r.buf[:0], MaxDecoded)
	if err == nil && r.br.Len() != 0 {
		err = fmt.Errorf("%w: bytes after the end", ErrCorrupt)
	}
	r.buf = raw[:0]
	if cap(r.buf) > 4*MaxContent {
		r.buf = nil // do not keep a rare huge buffer in the pool
	}
	if err != nil {
		return Text{}, err
	}
	d := decoder{b: raw}
	var t Text
	t.Title = d.str()
	t.Summary = d.str()
	t.Content = d.str()
	t.Feed = d.str()
	t.Author = d.str()
	t.Link = d.str()
	if n := d.uvarint(); n > 0 {
		if n > MaxCategories {
			d.err = true
		} else {
			t.Categories = make([]string, 0, n)
			for range n {
				t.Categories = append(t.Categories, d.str())
			}
		}
	}
	switch d.byte() {
	case 0:
	case 1:
		t.Published = time.UnixMicro(d.varint()).UTC()
	default:
		d.err = true
	}
	if d.err || len(d.b) != 0 {
		return Text{}, fmt.Errorf("%w: bad fields", ErrCorrupt)
	}
	return t, nil
}

// readAll reads r to its end into buf, failing past max bytes.
func readAll(r io.Reader, buf []byte, max int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), max+1)])
		buf = buf[:len(buf)+n]
		if len(buf) > max {
			return buf, fmt.Errorf("%w: more than %d bytes", ErrCorrupt, max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
}

// decoder reads the fields; any problem sets err and yields zero values.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0xff
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
