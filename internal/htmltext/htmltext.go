// Package htmltext turns the HTML of feed items into plain text. It is
// the one place that does, for the two parts that need it: monitor/parse
// (titles, summaries, content, authors and dates of parsed items) and rules
// (a Document whose text is HTML), so that both read the same words.
package htmltext

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

// skipped elements' content is not text.
func skipped(name []byte) bool {
	switch string(name) {
	case "script", "style", "noscript", "template":
		return true
	}
	return false
}

// Plain turns an HTML fragment (or plain text) into plain text: tags
// removed, entities decoded, script/style/noscript/template content
// dropped, block elements separated by a space (inline ones such as <b> or
// <a> are not), runs of white space collapsed to one. It never fails:
// malformed HTML yields its best-effort text.
func Plain(s string) string {
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
			if skipped(name) {
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
			if skipped(name) && skip > 0 {
				skip--
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
