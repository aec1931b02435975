package rules

import (
	"strings"

	"golang.org/x/net/html"
)

// inline elements do not separate words: "<b>Paki</b>stan" is one word.
var inline = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"data": true, "dfn": true, "em": true, "font": true, "i": true, "kbd": true, "mark": true,
	"q": true, "s": true, "samp": true, "small": true, "span": true, "strong": true, "sub": true,
	"sup": true, "time": true, "u": true, "var": true, "wbr": true, "ins": true, "del": true,
}

// PlainText turns an HTML fragment (or plain text) into plain text: tags
// removed, entities decoded, script/style/noscript content dropped, block
// elements separated by a space (inline ones such as <b> or <a> are not),
// runs of white space collapsed to one.
// It never fails: malformed HTML yields its best-effort text.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapseSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapseSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template":
				skip++
			}
			if !inline[string(name)] {
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if !inline[string(name)] {
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "noscript", "template":
				if skip > 0 {
					skip--
				}
			}
			if !inline[string(name)] {
				b.WriteByte(' ')
			}
		}
	}
}

func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
