package rules

import (
	"slices"
	"testing"
)

func TestMatchedWords(t *testing.T) {
	a := Analyze(Document{Title: "Pakistan warns Kabul", Summary: "Pakistan would strike deep into Afghanistan, Asif said; strikes, he said."})
	r, err := Compile("r", `Pakistan AND (strike OR "deep into Afghanistan")`)
	if err != nil {
		t.Fatal(err)
	}
	spans, ok := r.Match(a)
	if !ok {
		t.Fatal("no match")
	}
	got := MatchedWords(a, spans)
	want := []string{"title:Pakistan", "summary:Pakistan", "summary:strike", "summary:deep into Afghanistan", "summary:strikes"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("MatchedWords = %q, lacks %q", got, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("MatchedWords = %q, want each of %q once", got, want)
	}
	if got := MatchedWords(a, []Span{{Field: FieldTitle, Start: 5, End: 500}}); len(got) != 0 {
		t.Errorf("a span beyond its field: %q", got)
	}
}
