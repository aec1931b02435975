package main

import (
	"bytes"
	"encoding/json"
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
