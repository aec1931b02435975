package parse

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// salvageTruncated cuts a truncated document after its last complete
// <item> or <entry> and closes the elements still open there, so that the
// stories the publisher did send are not lost with the broken tail (a
// server exception in the middle of rendering, a connection cut short). It
// returns nil when no complete item precedes the cut.
func salvageTruncated(b []byte) []byte {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.AutoClose = nil
	d.Entity = xml.HTMLEntity
	d.CharsetReader = nil
	var stack []string
	var cut int64 = -1
	var openAtCut []string
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, rawName(t.Name))
			if len(stack) > 64 {
				return nil // not a feed's shape; do not try
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return nil
			}
			stack = stack[:len(stack)-1]
			if l := strings.ToLower(t.Name.Local); l == "item" || l == "entry" {
				cut = d.InputOffset()
				openAtCut = append(openAtCut[:0], stack...)
			}
		}
	}
	if cut < 0 || len(openAtCut) == 0 {
		return nil
	}
	out := make([]byte, 0, int(cut)+64)
	out = append(out, b[:cut]...)
	for i := len(openAtCut) - 1; i >= 0; i-- {
		out = append(out, "</"+openAtCut[i]+">"...)
	}
	return out
}

func rawName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}
