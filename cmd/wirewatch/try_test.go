package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzJSONString: try -json's string encoding is encoding/json's (without
// HTML escaping).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", `a "quoted" \ path`, "tab\tnew\nline\r\x00\x1f", "<b>&</b>", "\u2028\u2029", "bad \xff\xfe utf8", "Pakistan’s “deep”", "پاکستان"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := string(appendJSONString(nil, s)) + "\n"
		if got != want.String() {
			t.Fatalf("%q: got %s, encoding/json %s", s, got, want.String())
		}
	})
}

// TestTryJSONLines: every line of try -json is one (item, rule) match
// with the documented fields, the item's fields shared by its lines.
func TestTryJSONLines(t *testing.T) {
	var out, errOut bytes.Buffer
	srcs := []string{filepath.Join("testdata", "story-dawn.rss"), filepath.Join("testdata", "story-geo.rss")}
	err := cmdTry(t.Context(), append([]string{"-json", "-query", "strike AND Afghanistan", "-against", "strike"}, srcs...), &out, &errOut)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 { // 3 items, each matched by both versions
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var m tryMatch
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m.Rule == "" || m.Feed == "" || m.Title == "" || m.Link == "" || m.GUID == "" || m.Snippet == "" || len(m.Matched) == 0 || m.Story == "" || m.Seen.IsZero() || m.Published == nil || m.Change != "same" {
			t.Errorf("incomplete line: %s", l)
		}
	}
}
