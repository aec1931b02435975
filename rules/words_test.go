package rules

import (
	"slices"
	"testing"
)

// TestWordViews checks the read-only views other packages use: the exact
// forms (Words), the stems (Stems) and the cased forms (CasedWords) of a
// field, one per word, in order.
func TestWordViews(t *testing.T) {
	a := Analyze(Document{Title: "TED's Türkiye ﬁghts “deep” strikes"})
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"Words", a.Words(FieldTitle), []string{"ted", "turkiye", "fights", "deep", "strikes"}},
		{"Stems", a.Stems(FieldTitle), []string{"ted", "turkiy", "fight", "deep", "strike"}},
		{"CasedWords", a.CasedWords(FieldTitle), []string{"TED", "Türkiye", "fights", "deep", "strikes"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if a.Words(Field(99)) != nil || a.Stems(Field(99)) != nil || a.CasedWords(Field(99)) != nil {
		t.Error("an unknown field has words")
	}
}
