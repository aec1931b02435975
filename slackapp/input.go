package slackapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/config"
)

// Everything Slack sends is untrusted: a button's value, a menu's choice, a
// command's text, a modal's fields and its private_metadata can all be made
// up by someone with a token or a modified client. Each is checked here
// against the limits below before anything else looks at it.

// Limits of what editors type.
const (
	MaxNameRunes    = 80   // a rule's name
	MaxQueryRunes   = 3000 // a rule's query (also the modal field's max_length)
	MaxChannels     = 10   // channels of one rule
	MaxExamples     = 20   // examples, and counterexamples, of one rule
	MaxExampleRunes = 500  // one example
	MaxMuteFor      = 365 * 24 * time.Hour
	MinMuteFor      = time.Minute
	maxMetadata     = 1000 // bytes of private_metadata
	maxCommandText  = 4000 // bytes of a slash command's text
)

// isAlertID says whether s has the shape of a store alert id (32 hex digits).
func isAlertID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkName returns the problem with a rule name, or "".
func checkName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return "Give the rule a name."
	case !utf8.ValidString(name):
		return "The name is not valid text."
	case n > MaxNameRunes:
		return fmt.Sprintf("The name is %d characters long; at most %d.", n, MaxNameRunes)
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "The name must be one line of visible characters."
	}
	if _, ok := parseMuteFor(lastWord(name)); ok {
		return fmt.Sprintf("The name must not end in %q: `/wirewatch mute NAME DURATION` would read it as a duration.", lastWord(name))
	}
	return ""
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// checkQueryShape checks a query's size before it is compiled.
func checkQueryShape(q string) string {
	if strings.TrimSpace(q) == "" {
		return "Write a query, for example: strike* AND \"deep into Afghanistan\"."
	}
	if !utf8.ValidString(q) {
		return "The query is not valid text."
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return fmt.Sprintf("The query is %s characters long (%s terms); at most %s characters. Split it into several rules.",
			thousands(n), thousands(len(strings.Fields(q))), thousands(MaxQueryRunes))
	}
	return ""
}

// splitChannels reads a comma- or space-separated channel list.
func splitChannels(s string) ([]string, string) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if p := config.ChannelProblem(f); p != "" {
			return nil, p
		}
		if len(f) > 80 {
			return nil, fmt.Sprintf("%q is not a channel name or id", f)
		}
		out = append(out, f)
	}
	if len(out) > MaxChannels {
		return nil, fmt.Sprintf("%d channels; at most %d.", len(out), MaxChannels)
	}
	return out, ""
}

// splitLines reads one example per line, dropping empty lines.
func splitLines(s, what string) ([]string, string) {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !utf8.ValidString(l) {
			return nil, fmt.Sprintf("%s %d is not valid text.", what, len(out)+1)
		}
		if n := utf8.RuneCountInString(l); n > MaxExampleRunes {
			return nil, fmt.Sprintf("%s %d is %d characters long; at most %d.", what, len(out)+1, n, MaxExampleRunes)
		}
		out = append(out, l)
	}
	if len(out) > MaxExamples {
		return nil, fmt.Sprintf("%d %ss; at most %d.", len(out), strings.ToLower(what), MaxExamples)
	}
	return out, ""
}

// parseMuteFor reads a mute duration: "1h", "90m", "2d", or "forever" /
// "until-unmuted" (0, ok).
func parseMuteFor(s string) (time.Duration, bool) {
	switch strings.ToLower(s) {
	case "forever", "until-unmuted", "indefinitely":
		return 0, true
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 366 {
			return 0, false
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || !strings.ContainsAny(s, "hms") {
			return 0, false
		}
	}
	if d < MinMuteFor || d > MaxMuteFor {
		return 0, false
	}
	return d, true
}

// modalMeta is what the rule modal keeps in private_metadata.
type modalMeta struct {
	V       int    `json:"v"`
	Rule    string `json:"rule,omitempty"`    // the rule edited; "" for a new one
	Version int    `json:"version,omitempty"` // the version the editor started from
}

// parseMeta decodes private_metadata strictly: unknown fields, a wrong
// version or an oversized value mean the form was not ours.
func parseMeta(s string) (modalMeta, bool) {
	var m modalMeta
	if len(s) > maxMetadata {
		return m, false
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || dec.More() || m.V != 1 || m.Version < 0 {
		return m, false
	}
	if m.Rule != "" && checkName(m.Rule) != "" {
		return m, false
	}
	if (m.Rule == "") != (m.Version == 0) {
		return m, false
	}
	return m, true
}

func (m modalMeta) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// ruleForm is the rule modal's fields as submitted.
type ruleForm struct {
	Name, Query, Channels, Examples, Counterexamples string
}

// Block ids of the rule modal's inputs; each input's action id is "value".
const (
	fieldName     = "name"
	fieldQuery    = "query"
	fieldChannels = "channels"
	fieldExamples = "examples"
	fieldCounter  = "counterexamples"
	inputAction   = "value"
)

var formFields = []string{fieldName, fieldQuery, fieldChannels, fieldExamples, fieldCounter}

// readForm takes the modal's fields out of a view_submission's state,
// refusing fields the modal does not have.
func readForm(st *slack.ViewState) (ruleForm, map[string]string) {
	var f ruleForm
	if st == nil {
		return f, map[string]string{fieldQuery: "The form came without its fields; close it and start again."}
	}
	for block, actions := range st.Values {
		known := false
		for _, k := range formFields {
			known = known || k == block
		}
		if !known || len(actions) != 1 {
			return f, map[string]string{fieldQuery: fmt.Sprintf("The form has a field %.40q that Wirewatch's rule form does not have; nothing was saved. Close it and start again.", block)}
		}
		a, ok := actions[inputAction]
		if !ok {
			return f, map[string]string{block: "This field was changed outside Wirewatch; nothing was saved."}
		}
		switch block {
		case fieldName:
			f.Name = a.Value
		case fieldQuery:
			f.Query = a.Value
		case fieldChannels:
			f.Channels = a.Value
		case fieldExamples:
			f.Examples = a.Value
		case fieldCounter:
			f.Counterexamples = a.Value
		}
	}
	return f, nil
}

// thousands formats n with commas.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
