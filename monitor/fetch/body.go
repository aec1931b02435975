package fetch

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// tooLargeError reports a body over the cap.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("more than %d bytes", e.limit)
}

// readBody reads the whole body, decompressing gzip/deflate (as declared
// by Content-Encoding, or gzip recognised by its magic bytes), and fails
// as soon as the decompressed size exceeds limit.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit && resp.Header.Get("Content-Encoding") == "" {
		return nil, &tooLargeError{limit: limit}
	}
	// The raw body is capped too: compressed data larger than the limit
	// is refused without reading it all.
	raw := bufio.NewReader(&capReader{r: resp.Body, limit: limit})
	r, err := decoder(raw, resp.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	hint := 0
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		hint = int(resp.ContentLength)
	}
	return readAll(&capReader{r: r, limit: limit}, hint)
}

// readAll reads r to its end into a slice of its length. With a hint
// (the Content-Length) it reads into one slice of that length and a byte
// more; without one, or past it, in pieces of up to 1 MB, copied once into
// place at the end. A bytes.Buffer doubles as it grows, and grows again
// when it is exactly full: a 10 MB body held 16 MB, or 20 MB with its
// Content-Length, for the whole poll (issue 18.8).
func readAll(r io.Reader, hint int) ([]byte, error) {
	size := 32 << 10
	if hint > 0 {
		size = hint + 1
	}
	var pieces [][]byte
	total := 0
	for {
		p := make([]byte, size)
		n, err := io.ReadFull(r, p)
		pieces = append(pieces, p[:n])
		total += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 1<<20)
	}
	if len(pieces) == 1 {
		if p := pieces[0]; cap(p)-len(p) > len(p)/8+1 {
			return append([]byte(nil), p...), nil // a small body without a length
		}
		return pieces[0], nil
	}
	out := make([]byte, 0, total)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return out, nil
}

// decoder wraps r according to Content-Encoding, sniffing gzip when the
// header says nothing (some servers store feeds gzipped and serve them as
// they are).
func decoder(r *bufio.Reader, encoding string) (io.Reader, error) {
	encoding = strings.ToLower(strings.TrimSpace(encoding))
	magic, _ := r.Peek(2)
	isGzip := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	switch encoding {
	case "", "identity", "gzip", "x-gzip":
		if !isGzip {
			// Declared gzip but not gzip: servers that decompress and
			// keep the header exist; take the bytes as they are.
			return r, nil
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		return zr, nil
	case "deflate":
		// RFC 9110 deflate is zlib; some servers send raw deflate.
		if len(magic) == 2 && magic[0]&0x0f == 8 && (uint16(magic[0])<<8|uint16(magic[1]))%31 == 0 {
			zr, err := zlib.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("deflate body: %w", err)
			}
			return zr, nil
		}
		return flate.NewReader(r), nil
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
}

// capReader returns tooLargeError once more than limit bytes were read.
type capReader struct {
	r     io.Reader
	limit int64
	n     int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, &tooLargeError{limit: c.limit}
	}
	if int64(len(p)) > c.limit-c.n+1 {
		p = p[:c.limit-c.n+1]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, &tooLargeError{limit: c.limit}
	}
	return n, err
}
