package config

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// pos is a 1-based line and column in the file, plus the byte offset where
// a string value's content starts.
type pos struct {
	line, col int
	offset    int
}

// positions maps every key path in a TOML document to where its value
// starts: "slack.token", "feeds.2.every", "rules.0.query",
// "feeds.1.channels.0". Array-of-tables headers map to their own line
// ("feeds.2"). The document has already decoded successfully, so parse
// errors cannot occur here; if one does, the map is just incomplete.
func positions(data []byte) map[string]pos {
	m := map[string]pos{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	counts := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = keyParts(e.Key())
			m[strings.Join(table, ".")] = nodePos(&p, e, data)
		case unstable.ArrayTable:
			parts := keyParts(e.Key())
			k := strings.Join(parts, ".")
			i := counts[k]
			counts[k]++
			table = append(parts, strconv.Itoa(i))
			m[strings.Join(table, ".")] = nodePos(&p, e, data)
		case unstable.KeyValue:
			full := append(append([]string{}, table...), keyParts(e.Key())...)
			record(m, &p, strings.Join(full, "."), e.Value(), data)
		}
	}
	return m
}

func record(m map[string]pos, p *unstable.Parser, key string, v *unstable.Node, data []byte) {
	m[key] = nodePos(p, v, data)
	switch v.Kind {
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			record(m, p, key+"."+strconv.Itoa(i), it.Node(), data)
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind == unstable.KeyValue {
				record(m, p, key+"."+strings.Join(keyParts(kv.Key()), "."), kv.Value(), data)
			}
		}
	}
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// nodePos locates a node. Value nodes carry their raw range; table headers
// are located by their first key.
func nodePos(p *unstable.Parser, n *unstable.Node, data []byte) pos {
	r := n.Raw
	if r.Length == 0 && (n.Kind == unstable.Table || n.Kind == unstable.ArrayTable) {
		if k := n.Child(); k != nil {
			r = k.Raw
		}
	}
	if r.Length == 0 && r.Offset == 0 {
		return pos{}
	}
	sh := p.Shape(r)
	out := pos{line: sh.Start.Line, col: utf8.RuneCount(lineBefore(data, sh.Start.Offset)) + 1, offset: sh.Start.Offset}
	if n.Kind == unstable.String {
		raw := p.Raw(r)
		for _, q := range []string{`"""`, `'''`, `"`, `'`} {
			if strings.HasPrefix(string(raw), q) {
				out.offset += len(q)
				// A newline right after a multi-line opener is not content.
				if len(q) == 3 && out.offset < len(data) && data[out.offset] == '\n' {
					out.offset++
				} else if len(q) == 3 && out.offset+1 < len(data) && data[out.offset] == '\r' && data[out.offset+1] == '\n' {
					out.offset += 2
				}
				break
			}
		}
	}
	return out
}

// lineBefore returns the bytes of offset's line that precede it.
func lineBefore(data []byte, offset int) []byte {
	if offset > len(data) {
		offset = len(data)
	}
	start := strings.LastIndexByte(string(data[:offset]), '\n') + 1
	return data[start:offset]
}

// locate returns the line and column of the byte at offset in data.
func locate(data []byte, offset int) (line, col int) {
	if offset > len(data) {
		offset = len(data)
	}
	line = 1 + strings.Count(string(data[:offset]), "\n")
	return line, utf8.RuneCount(lineBefore(data, offset)) + 1
}
