package rules

import "github.com/wirewatch/wirewatch/internal/htmltext"

// PlainText turns an HTML fragment (or plain text) into plain text, as
// Analyze does for a Document whose HTML is true: tags removed, entities
// decoded, script/style/noscript content dropped, block elements separated
// by a space (inline ones such as <b> or <a> are not), runs of white space
// collapsed to one. It never fails: malformed HTML yields its best-effort
// text. (It is internal/htmltext.Plain, which monitor/parse uses too.)
func PlainText(s string) string { return htmltext.Plain(s) }
