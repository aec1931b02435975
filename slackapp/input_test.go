package slackapp

import (
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestCheckName(t *testing.T) {
	for name, want := range map[string]string{
		"Cross-border strikes":     "",
		"Talks & ceasefire <Doha>": "", // escaped wherever it is shown
		"":                         "Give the rule a name.",
		strings.Repeat("x", 81):    "81 characters long",
		"two\nlines":               "one line",
		"bidi\u202eoverride":       "one line",
		"Floods 2d":                `must not end in "2d"`,
		"Floods forever":           `must not end in "forever"`,
		"Pakistan election 2024":   "",
	} {
		got := checkName(name)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("checkName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestQueryShape(t *testing.T) {
	huge := strings.TrimSuffix(strings.Repeat("word OR ", 10000), " OR ")
	if p := checkQueryShape(huge); !strings.Contains(p, "(19,999 terms)") || !strings.Contains(p, "at most 3,000 characters") {
		t.Errorf("10,000-term query: %q", p)
	}
	if p := checkQueryShape("   "); !strings.HasPrefix(p, "Write a query") {
		t.Errorf("empty query: %q", p)
	}
	if p := checkQueryShape(`strike AND "deep into Afghanistan"`); p != "" {
		t.Errorf("good query: %q", p)
	}
}

func TestAtPosition(t *testing.T) {
	q := "strike\nAND \"deep into"
	if got := atPosition(q, strings.Index(q, `"`), "unbalanced quote"); got != "Line 2, column 5: unbalanced quote" {
		t.Errorf("got %q", got)
	}
	if got := atPosition("a (b", 2, "x"); got != "Column 3: x" {
		t.Errorf("got %q", got)
	}
}

func TestSplitMute(t *testing.T) {
	for in, want := range map[string]struct {
		name string
		d    time.Duration
	}{
		"Floods 6h":                    {"Floods", 6 * time.Hour},
		"Cross-border strikes 2d":      {"Cross-border strikes", 48 * time.Hour},
		`"Cross-border strikes"`:       {"Cross-border strikes", 0},
		"Cross-border strikes forever": {"Cross-border strikes", 0},
		"Floods 0s":                    {"Floods 0s", 0}, // below a minute: not a duration
		"Floods 400d":                  {"Floods 400d", 0},
		"Election 2024":                {"Election 2024", 0},
	} {
		name, d := splitMute(in)
		if name != want.name || d != want.d {
			t.Errorf("splitMute(%q) = %q, %v; want %q, %v", in, name, d, want.name, want.d)
		}
	}
}

func TestSplitChannelsAndLines(t *testing.T) {
	ch, p := splitChannels("#desk, #breaking  C0123ABCD")
	if p != "" || strings.Join(ch, "|") != "#desk|#breaking|C0123ABCD" {
		t.Errorf("channels %v %q", ch, p)
	}
	if _, p := splitChannels("#desk, <!channel>"); p == "" {
		t.Error("a mention accepted as a channel")
	}
	if _, p := splitChannels(strings.Repeat("#c ", 11)); !strings.Contains(p, "at most 10") {
		t.Errorf("11 channels: %q", p)
	}
	ex, p := splitLines("one\n\n  two  \n", "Example")
	if p != "" || strings.Join(ex, "|") != "one|two" {
		t.Errorf("lines %v %q", ex, p)
	}
	if _, p := splitLines(strings.Repeat("x\n", 21), "Example"); !strings.Contains(p, "21 examples; at most 20") {
		t.Errorf("21 examples: %q", p)
	}
}

func TestParseMeta(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"v":1}`:                             true,
		`{"v":1,"rule":"Floods","version":3}`: true,
		`{"v":1,"rule":"Floods"}`:             false, // an edit without its version
		`{"v":1,"version":3}`:                 false,
		`{"v":2}`:                             false,
		`{"v":1,"extra":1}`:                   false,
		`{"v":1}{"v":1}`:                      false,
		`{"v":1,"rule":"x\ny","version":1}`:   false,
		`{"v":1,"version":-1,"rule":"x"}`:     false,
		strings.Repeat(" ", 2000) + `{"v":1}`: false,
	} {
		if _, got := parseMeta(in); got != ok {
			t.Errorf("parseMeta(%.60q) = %v, want %v", in, got, ok)
		}
	}
	m := modalMeta{V: 1, Rule: "Cross-border strikes", Version: 7}
	if got, ok := parseMeta(m.String()); !ok || got != m {
		t.Errorf("round trip: %+v %v", got, ok)
	}
}

func TestReadFormRefusesFieldsItDoesNotHave(t *testing.T) {
	st := &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
		"query": {"value": {Value: "strike"}},
		"name":  {"value": {Value: "Floods"}},
	}}
	f, bad := readForm(st)
	if bad != nil || f.Query != "strike" || f.Name != "Floods" {
		t.Fatalf("%+v %v", f, bad)
	}
	st.Values["query"] = map[string]slack.BlockAction{"other": {Value: "x"}}
	if _, bad := readForm(st); bad["query"] == "" {
		t.Error("an unknown action id in a known field accepted")
	}
	st.Values["query"] = map[string]slack.BlockAction{"value": {Value: "x"}}
	st.Values["admin"] = map[string]slack.BlockAction{"value": {Value: "x"}}
	if _, bad := readForm(st); !strings.Contains(bad["query"], `"admin"`) {
		t.Errorf("an unknown field accepted: %v", bad)
	}
}

func FuzzCommandText(f *testing.F) {
	for _, s := range []string{"mute Floods 6h", "try “deep into Afghanistan”", "edit `Talks collapse`", "", "MUTE   x   forever", "retire \"a b\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		verb, rest := parseCommand(text)
		if verb != strings.ToLower(verb) || rest != strings.TrimSpace(rest) {
			t.Fatalf("parseCommand(%q) = %q, %q", text, verb, rest)
		}
		name, d := splitMute(rest)
		if d < 0 || d > MaxMuteFor || d != 0 && d < MinMuteFor {
			t.Fatalf("splitMute(%q) duration %v", rest, d)
		}
		if d != 0 && strings.Contains(name, "\n") && !strings.Contains(rest, "\n") {
			t.Fatalf("splitMute(%q) made up a newline", rest)
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	for _, s := range []string{`{"v":1}`, `{"v":1,"rule":"Floods","version":3}`, `{"v":1,"rule":"","version":0}`, `null`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := parseMeta(s)
		if !ok {
			return
		}
		if m.V != 1 || (m.Rule == "") != (m.Version == 0) || m.Rule != "" && checkName(m.Rule) != "" {
			t.Fatalf("parseMeta(%q) accepted %+v", s, m)
		}
		if again, ok := parseMeta(m.String()); !ok || again != m {
			t.Fatalf("parseMeta(%q) = %+v does not round-trip", s, m)
		}
	})
}
