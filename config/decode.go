package config

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The decoder fills the file struct from the TOML document (already
// parsed into maps, so only syntax errors stop it) by the struct's tags:
//
//	toml:"every"            the key
//	eg:"\"5m\""             an example value, as written in TOML, for messages
//	what:"a duration ..."   what the value must be, when the Go type says too little
//	noun:"feed"             for an array of tables: what one element is called
//
// Every key is looked at: a value of the wrong type is one problem ("feed
// "Dawn": channels must be a list of strings, e.g. channels = ["#desk"]")
// and leaves the field unset, an unknown key is one problem with the
// nearest known key as a suggestion, and decoding goes on, so that one run
// reports every problem of the file.
type decoder struct {
	ctx    context.Context
	v      *validator
	fields map[reflect.Type]*tableInfo
	n      int // elements decoded, to check ctx now and then
}

// scope is the table being decoded: where it is, and how its keys are
// named in messages.
type scope struct {
	path   string // key path: "", "fetch", "feeds.2"
	prefix string // put before every message: `feed "Dawn": `
	keys   string // put before a key in messages: "fetch."
	table  string // the table as written: "[fetch]", "[[feeds]]"; "" for the root
}

// name is how key of this table is named in messages: "fetch.timeout",
// `feed "Dawn": every`.
func (s scope) name(key string) string { return s.prefix + s.keys + key }

// at is the key path of key in this table, for positions.
func (s scope) at(key string) string {
	if s.path == "" {
		return key
	}
	return s.path + "." + key
}

type fieldInfo struct {
	index      int
	key        string
	eg, what   string
	noun       string
	typ        reflect.Type
	structElem bool // a table, or an array of tables
}

type tableInfo struct {
	byKey map[string]*fieldInfo
	keys  []string // sorted, for suggestions
}

func (d *decoder) info(t reflect.Type) *tableInfo {
	if ti, ok := d.fields[t]; ok {
		return ti
	}
	ti := &tableInfo{byKey: map[string]*fieldInfo{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key := sf.Tag.Get("toml")
		if key == "" {
			continue
		}
		fi := &fieldInfo{index: i, key: key, eg: sf.Tag.Get("eg"), what: sf.Tag.Get("what"), noun: sf.Tag.Get("noun"), typ: sf.Type}
		fi.structElem = sf.Type.Kind() == reflect.Struct || (sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct)
		ti.byKey[key] = fi
		ti.keys = append(ti.keys, key)
	}
	sort.Strings(ti.keys)
	if d.fields == nil {
		d.fields = map[reflect.Type]*tableInfo{}
	}
	d.fields[t] = ti
	return ti
}

// table decodes the table m into the struct rv.
func (d *decoder) table(m map[string]any, rv reflect.Value, sc scope) {
	ti := d.info(rv.Type())
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fi := ti.byKey[k]
		if fi == nil {
			d.unknown(sc, k, ti)
			continue
		}
		d.value(m[k], rv.Field(fi.index), fi, sc)
	}
}

// unknown reports a key the table does not have, with the closest known key
// as a suggestion, or the table where such a key belongs.
func (d *decoder) unknown(sc scope, key string, ti *tableInfo) {
	msg := fmt.Sprintf("unknown key %q", key)
	switch {
	case sc.prefix != "":
		msg = sc.prefix + msg
	case sc.table != "":
		msg += " in " + sc.table
	}
	if s := suggest(key, ti.keys); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if home := d.homeOf(key, sc.table); home != "" {
		msg += "; it belongs in " + home
	}
	p := d.v.pos[sc.at(key)]
	d.v.add(p.keyLine, p.keyCol, "%s", msg)
}

// homeOf names the tables of the file that have key, other than the one it
// was found in: "[[feeds]]", "[slack] or [[rules]]".
func (d *decoder) homeOf(key, not string) string {
	var homes []string
	root := d.info(reflect.TypeOf(file{}))
	for _, k := range root.keys {
		fi := root.byKey[k]
		t := fi.typ
		table := "[" + k + "]"
		if t.Kind() == reflect.Slice {
			t, table = t.Elem(), "[["+k+"]]"
		}
		if t.Kind() != reflect.Struct || table == not {
			continue
		}
		if d.info(t).byKey[key] != nil {
			homes = append(homes, table)
		}
	}
	return strings.Join(homes, " or ")
}

// value decodes one value into fv, or reports why it cannot.
func (d *decoder) value(val any, fv reflect.Value, fi *fieldInfo, sc scope) {
	t := fv.Type()
	switch t.Kind() {
	case reflect.Interface:
		fv.Set(reflect.ValueOf(val))
		return
	case reflect.String:
		if s, ok := val.(string); ok {
			fv.SetString(s)
			return
		}
	case reflect.Bool:
		if b, ok := val.(bool); ok {
			fv.SetBool(b)
			return
		}
	case reflect.Pointer:
		switch t.Elem().Kind() {
		case reflect.Bool:
			if b, ok := val.(bool); ok {
				fv.Set(reflect.ValueOf(&b))
				return
			}
		case reflect.Int, reflect.Int64:
			if i, ok := val.(int64); ok {
				p := reflect.New(t.Elem())
				p.Elem().SetInt(i)
				fv.Set(p)
				return
			}
		}
	case reflect.Slice:
		list, ok := val.([]any)
		if !ok {
			break
		}
		if t.Elem().Kind() == reflect.String {
			out := reflect.MakeSlice(t, 0, len(list))
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					d.mismatch(fi, sc)
					return
				}
				out = reflect.Append(out, reflect.ValueOf(s))
			}
			fv.Set(out)
			return
		}
		if t.Elem().Kind() == reflect.Struct {
			d.tables(list, fv, fi, sc)
			return
		}
	case reflect.Struct:
		if m, ok := val.(map[string]any); ok {
			d.table(m, fv, scope{path: sc.at(fi.key), keys: sc.keys + fi.key + ".", table: "[" + sc.keys + fi.key + "]"})
			return
		}
	}
	d.mismatch(fi, sc)
}

// tables decodes an array of tables ([[feeds]]), naming each element by its
// name key in messages: `feed "Dawn"`, or `feed #3` when it has none.
func (d *decoder) tables(list []any, fv reflect.Value, fi *fieldInfo, sc scope) {
	out := reflect.MakeSlice(fv.Type(), len(list), len(list))
	for i, e := range list {
		if d.n++; d.n%1024 == 0 && d.ctx.Err() != nil {
			return
		}
		m, ok := e.(map[string]any)
		if !ok {
			p := d.v.pos[sc.at(fi.key)+"."+strconv.Itoa(i)]
			d.v.add(p.line, p.col, "%s #%d must be a table, e.g. [[%s]] with its keys on the lines below", fi.noun, i+1, fi.key)
			continue
		}
		d.table(m, out.Index(i), scope{
			path:   sc.at(fi.key) + "." + strconv.Itoa(i),
			prefix: elementName(fi.noun, i, m) + ": ",
			table:  "[[" + fi.key + "]]",
		})
	}
	fv.Set(out)
}

// elementName names element i of an array of tables in messages.
func elementName(noun string, i int, m map[string]any) string {
	if name, ok := m["name"].(string); ok && strings.TrimSpace(name) != "" {
		return noun + " " + strconv.Quote(strings.TrimSpace(name))
	}
	return noun + " #" + strconv.Itoa(i+1)
}

// mismatch reports a value of the wrong type, at the value, saying what it
// must be and showing an example.
func (d *decoder) mismatch(fi *fieldInfo, sc scope) {
	p := d.v.pos[sc.at(fi.key)]
	what := fi.what
	if what == "" {
		what = describe(fi.typ)
	}
	msg := fmt.Sprintf("%s must be %s", sc.name(fi.key), what)
	switch {
	case fi.typ.Kind() == reflect.Struct:
		msg += fmt.Sprintf(": write [%s%s] and its keys on the lines below", sc.keys, fi.key)
	case fi.typ.Kind() == reflect.Slice && fi.typ.Elem().Kind() == reflect.Struct:
		msg += fmt.Sprintf(": write [[%s]] before each one", fi.key)
	case fi.eg != "":
		msg += fmt.Sprintf(", e.g. %s = %s", fi.key, fi.eg)
	}
	d.v.add(p.line, p.col, "%s", msg)
}

// describe says in words what a Go field type needs.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.String:
		return "a string in quotes"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "a list of tables"
		}
		return "a list of strings"
	case reflect.Struct:
		return "a table"
	}
	return "a value"
}

// suggest returns the known key closest to key, if it is close enough to
// be a typo: at most one edit for short keys, two for longer ones
// (a swap of two letters is one edit), ignoring case.
func suggest(key string, known []string) string {
	best, bestD := "", 1<<30
	lk := strings.ToLower(key)
	for _, k := range known {
		if d := editDistance(lk, k); d < bestD {
			best, bestD = k, d
		}
	}
	limit := 1
	if len(key) >= 5 {
		limit = 2
	}
	if len(key) >= 10 {
		limit = 3
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // no key is this long: not a typo
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
