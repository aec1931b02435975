package config

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// pos is where a key and its value are in the file: 1-based lines and
// columns (columns count characters, not bytes), and for a string value
// where its content starts and how it is quoted, so that an offset into
// the decoded string maps back to the file (see Config.QueryPosition).
type pos struct {
	line, col       int // the value
	keyLine, keyCol int // the key (for a table header: the header)
	content         int // byte offset of a string value's first character
	quote           string
}

// lineIndex turns byte offsets into lines and columns in one pass over the
// file, however many offsets are asked for: line starts are found once and
// looked up by binary search, and a column is counted from the last offset
// asked for on the same line when that lies before it (offsets mostly come
// in file order), so a file of one very long line is not rescanned either.
type lineIndex struct {
	data   []byte
	starts []int // byte offset where each line starts

	lastLine, lastOff, lastCol int
}

func newLineIndex(data []byte) *lineIndex {
	starts := make([]int, 1, 1+len(data)/32)
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{data: data, starts: starts, lastLine: -1}
}

// at returns the 1-based line and column of the byte at offset.
func (x *lineIndex) at(offset int) (line, col int) {
	offset = max(0, min(offset, len(x.data)))
	i := sort.SearchInts(x.starts, offset+1) - 1 // the last start <= offset
	from, n := x.starts[i], 0
	if x.lastLine == i && x.lastOff <= offset {
		from, n = x.lastOff, x.lastCol-1
	}
	n += utf8.RuneCount(x.data[from:offset])
	x.lastLine, x.lastOff, x.lastCol = i, offset, n+1
	return i + 1, n + 1
}

// positions maps every key path of a TOML document to where it is:
// "slack.token", "feeds.2.every", "rules.0.query", "feeds.1.channels.0".
// Array-of-tables headers map to their own line ("feeds.2"). The document
// has already decoded successfully, so parse errors cannot occur here; if
// one did, the map would just be incomplete. It checks ctx every few
// thousand expressions, so that a huge file can be interrupted.
func positions(ctx context.Context, data []byte, lines *lineIndex) (map[string]pos, error) {
	// About one key per line: sized once, the map never rehashes.
	m := make(map[string]pos, len(lines.starts)+16)
	var p unstable.Parser
	p.Reset(data)
	table := "" // key path of the current table, "" for the root
	counts := map[string]int{}
	for n := 0; p.NextExpression(); n++ {
		if n%4096 == 4095 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = keyPath("", e.Key())
			m[table] = headerPos(e, lines)
		case unstable.ArrayTable:
			k := keyPath("", e.Key())
			i := counts[k]
			counts[k]++
			table = k + "." + strconv.Itoa(i)
			m[table] = headerPos(e, lines)
		case unstable.KeyValue:
			record(m, keyPath(table, e.Key()), keyStart(e), e.Value(), data, lines)
		}
	}
	return m, nil
}

// keyPath appends the parts of a (possibly dotted) key to the path prefix.
func keyPath(prefix string, it unstable.Iterator) string {
	path := prefix
	for it.Next() {
		if path == "" {
			path = string(it.Node().Data)
		} else {
			path += "." + string(it.Node().Data)
		}
	}
	return path
}

// record notes where key and its value are, and the same for the elements
// of an array or inline table.
func record(m map[string]pos, key string, keyOff int, v *unstable.Node, data []byte, lines *lineIndex) {
	ps := valuePos(v, data, lines)
	if ps.line == 0 {
		// Arrays and inline tables carry no range: find their bracket.
		if off := bracketOf(v, keyOff, data); off >= 0 {
			ps.line, ps.col = lines.at(off)
		}
	}
	if keyOff >= 0 {
		ps.keyLine, ps.keyCol = lines.at(keyOff)
	} else {
		ps.keyLine, ps.keyCol = ps.line, ps.col
	}
	m[key] = ps
	switch v.Kind {
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			record(m, key+"."+strconv.Itoa(i), -1, it.Node(), data, lines)
		}
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind == unstable.KeyValue {
				record(m, keyPath(key, kv.Key()), keyStart(kv), kv.Value(), data, lines)
			}
		}
	}
}

// bracketOf finds the opening bracket of an array or inline table: after
// the = that follows its key, or else before its first element.
func bracketOf(v *unstable.Node, keyOff int, data []byte) int {
	want := byte('[')
	if v.Kind == unstable.InlineTable {
		want = '{'
	}
	if keyOff >= 0 {
		if eq := strings.IndexByte(string(data[keyOff:min(len(data), keyOff+4096)]), '='); eq >= 0 {
			if i := strings.IndexByte(string(data[keyOff+eq:min(len(data), keyOff+eq+4096)]), want); i >= 0 {
				return keyOff + eq + i
			}
		}
	}
	it := v.Children()
	for it.Next() {
		n := it.Node()
		if n.Kind == unstable.KeyValue {
			n = n.Value()
		}
		if n.Raw.Length == 0 {
			continue
		}
		if i := strings.LastIndexByte(string(data[max(0, int(n.Raw.Offset)-4096):n.Raw.Offset]), want); i >= 0 {
			return max(0, int(n.Raw.Offset)-4096) + i
		}
		break
	}
	return -1
}

// keyStart is the byte offset of a key-value's first key part, or -1.
func keyStart(kv *unstable.Node) int {
	it := kv.Key()
	if it.Next() {
		if r := it.Node().Raw; r.Length > 0 {
			return int(r.Offset)
		}
	}
	return -1
}

// headerPos locates a [table] or [[table]] header by its first key.
func headerPos(n *unstable.Node, lines *lineIndex) pos {
	off := keyStart(n)
	if off < 0 {
		return pos{}
	}
	// Point at the header's first bracket, not at the name inside it.
	for off > 0 && (lines.data[off-1] == '[' || lines.data[off-1] == ' ' || lines.data[off-1] == '\t') {
		off--
	}
	line, col := lines.at(off)
	return pos{line: line, col: col, keyLine: line, keyCol: col}
}

// valuePos locates a value node; for a string, also where its content
// starts and how it is quoted.
func valuePos(n *unstable.Node, data []byte, lines *lineIndex) pos {
	r := n.Raw
	if r.Length == 0 && r.Offset == 0 {
		return pos{}
	}
	off := int(r.Offset)
	var out pos
	out.line, out.col = lines.at(off)
	if n.Kind == unstable.String {
		for _, q := range []string{`"""`, `'''`, `"`, `'`} {
			if strings.HasPrefix(string(data[off:min(len(data), off+3)]), q) {
				out.quote = q
				c := off + len(q)
				// A newline right after a multi-line opener is not content.
				if len(q) == 3 && c < len(data) && data[c] == '\n' {
					c++
				} else if len(q) == 3 && c+1 < len(data) && data[c] == '\r' && data[c+1] == '\n' {
					c += 2
				}
				out.content = c
				break
			}
		}
	}
	return out
}

// stringOffset maps offset, a byte offset into the decoded value of the
// string whose content starts at content in data, quoted with quote, to a
// byte offset in data. Literal strings map one to one; basic strings are
// walked, so that escapes (\n, \", \u00e9) and line-ending backslashes
// count as the characters they stand for.
func stringOffset(data []byte, content int, quote string, offset int) int {
	if quote == "" || quote[0] == '\'' {
		return min(content+offset, len(data))
	}
	multi := len(quote) == 3
	i, decoded := content, 0
	for i < len(data) {
		// A line-ending backslash: it and the whitespace after it vanish.
		if multi && data[i] == '\\' && i+1 < len(data) && isBlank(data[i+1]) {
			i++
			for i < len(data) && isBlank(data[i]) {
				i++
			}
			continue
		}
		if decoded >= offset {
			break
		}
		if data[i] != '\\' || i+1 >= len(data) {
			i++
			decoded++
			continue
		}
		switch e := data[i+1]; e {
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if i+2+n > len(data) {
				return len(data)
			}
			size := 1
			if r, err := strconv.ParseUint(string(data[i+2:i+2+n]), 16, 32); err == nil {
				size = max(1, utf8.RuneLen(rune(r)))
			}
			i += 2 + n
			decoded += size
		default:
			i += 2
			decoded++
		}
	}
	return i
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
