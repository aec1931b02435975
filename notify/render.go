package notify

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/store"
)

// Slack's Block Kit limits, in characters (we count runes).
const (
	MaxHeaderText  = 150  // header block plain_text
	MaxSectionText = 3000 // section block text
	MaxBlocks      = 50   // blocks per message
	MaxButtonText  = 75   // button label
	MaxURL         = 3000 // button / link URL
	MaxContextText = 3000 // one context element

	// maxTitle caps a headline before escaping; maxFallback caps the
	// notification text (Slack allows 40,000; a notification is short).
	maxTitle    = 300
	maxFallback = 3000
	maxOpsText  = 3000
	// maxGroupItems caps the stories one grouped message lists.
	maxGroupItems = 40
)

// Escape makes s inert in Slack mrkdwn: "&", "<" and ">" become entities, so
// "<!channel>", "<@U123>" or "<https://evil|click>" are shown as text and
// never ping or link; bare "@channel", "@here" and "@everyone" get an
// invisible word joiner after the "@".
func Escape(s string) string {
	s = defang(s)
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		b.WriteString(escRune(r))
	}
	return b.String()
}

// defang puts an invisible word joiner after "@" in "@channel", "@here"
// and "@everyone", so that even a client that parses bare broadcast words
// (link_names) cannot ping anyone with feed text.
func defang(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return broadcastDefanger.Replace(s)
}

var broadcastDefanger = func() *strings.Replacer {
	var pairs []string
	for _, w := range []string{"channel", "here", "everyone"} {
		for _, v := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
			pairs = append(pairs, "@"+v, "@\u2060"+v)
		}
	}
	return strings.NewReplacer(pairs...)
}()

func escRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// clean makes feed text fit for one line of a message: invalid UTF-8 is
// replaced, control and format characters (terminal escapes, bidi
// overrides) are dropped or turned into spaces, and runs of white space
// collapse to one space.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r) && r != '\u200d':
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncRunes cuts s to at most max runes, ending with "…" when cut.
func truncRunes(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// escTrunc escapes s for mrkdwn and cuts the result to at most max runes on
// a rune boundary, never inside an entity, ending with "…" when cut.
func escTrunc(s string, max int) string {
	var b strings.Builder
	writeEsc(&b, s, max)
	return b.String()
}

// writeEsc appends escaped s to b using at most budget runes and returns
// how many it used and whether s was cut.
func writeEsc(b *strings.Builder, s string, budget int) (used int, cut bool) {
	if budget <= 0 {
		return 0, s != ""
	}
	s = defang(s)
	total := 0
	for _, r := range s {
		total += utf8.RuneCountInString(escRune(r))
	}
	if total <= budget {
		for _, r := range s {
			b.WriteString(escRune(r))
		}
		return total, false
	}
	for _, r := range s {
		e := escRune(r)
		n := utf8.RuneCountInString(e)
		if used+n > budget-1 {
			break
		}
		b.WriteString(e)
		used += n
	}
	b.WriteString("…")
	return used + 1, true
}

// SafeURL returns u if it is an absolute http(s) URL that fits Slack's
// limit, with the characters that would break out of a mrkdwn link
// ("<", ">", "|", spaces, quotes) percent-encoded and any user:password
// removed; otherwise "".
func SafeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.ContainsFunc(raw, unicode.IsControl) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User = nil
	s := urlEscaper.Replace(u.String())
	if utf8.RuneCountInString(s) > MaxURL || !utf8.ValidString(s) {
		return ""
	}
	return s
}

var urlEscaper = strings.NewReplacer("<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", `"`, "%22", "`", "%60")

// mrkdwnLink builds "<url|label>" with an escaped label of at most max
// runes; without a usable URL it is just the escaped label.
func mrkdwnLink(link, label string, max int) string {
	u := SafeURL(link)
	if u == "" {
		return escTrunc(label, max)
	}
	ue := strings.ReplaceAll(u, "&", "&amp;")
	return "<" + ue + "|" + escTrunc(label, max) + ">"
}

func titleOf(a store.Alert) string {
	t := clean(a.Title)
	if t == "" {
		t = clean(a.Link)
	}
	if t == "" {
		t = "(untitled)"
	}
	return truncRunes(t, maxTitle)
}

// FormatTime is how published times are shown.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Mon 2 Jan 2006 15:04 UTC")
}

// snippetMrkdwn renders the snippet escaped with the marked byte ranges in
// bold, in at most max runes.
func snippetMrkdwn(snippet string, marks [][2]int, max int) string {
	type seg struct {
		text string
		bold bool
	}
	var segs []seg
	pos := 0
	for _, m := range normMarks(snippet, marks) {
		if m[0] > pos {
			segs = append(segs, seg{snippet[pos:m[0]], false})
		}
		segs = append(segs, seg{snippet[m[0]:m[1]], true})
		pos = m[1]
	}
	if pos < len(snippet) {
		segs = append(segs, seg{snippet[pos:], false})
	}
	var b strings.Builder
	used := 0
	for i, sg := range segs {
		t := cleanKeepEdges(sg.text)
		if i == 0 {
			t = strings.TrimLeft(t, " ")
		}
		if i == len(segs)-1 {
			t = strings.TrimRight(t, " ")
		}
		if !sg.bold {
			n, cut := writeEsc(&b, t, max-used)
			used += n
			if cut {
				break
			}
			continue
		}
		// Bold needs the stars against non-space characters.
		core := strings.TrimSpace(t)
		lead, trail := t[:strings.Index(t, core)], ""
		if core == "" {
			lead = t
		} else {
			trail = t[len(lead)+len(core):]
		}
		n, cut := writeEsc(&b, lead, max-used)
		used += n
		if cut {
			break
		}
		if core != "" {
			if max-used < 4 { // room for "*x*" or "…"
				b.WriteString("…")
				break
			}
			var inner strings.Builder
			n, cut := writeEsc(&inner, core, max-used-2)
			b.WriteByte('*')
			b.WriteString(inner.String())
			b.WriteByte('*')
			used += n + 2
			if cut {
				break
			}
		}
		n, cut = writeEsc(&b, trail, max-used)
		used += n
		if cut {
			break
		}
	}
	out := b.String()
	for strings.Contains(out, "  ") { // segment edges may leave two spaces
		out = strings.ReplaceAll(out, "  ", " ")
	}
	return out
}

// cleanKeepEdges is clean, but keeps one leading and one trailing space if
// the text had white space there (segments of one snippet join up again).
func cleanKeepEdges(s string) string {
	c := clean(s)
	if c == "" {
		if strings.TrimSpace(s) == "" && s != "" {
			return " "
		}
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s)
	if unicode.IsSpace(r) {
		c = " " + c
	}
	r, _ = utf8.DecodeLastRuneInString(s)
	if unicode.IsSpace(r) {
		c += " "
	}
	return c
}

// normMarks returns the valid marks sorted, merged and moved onto rune
// boundaries.
func normMarks(s string, marks [][2]int) [][2]int {
	var out [][2]int
	for _, m := range marks {
		a, z := m[0], m[1]
		if a < 0 || z > len(s) || a >= z {
			continue
		}
		for a < z && !utf8.RuneStart(s[a]) {
			a++
		}
		for z < len(s) && !utf8.RuneStart(s[z]) {
			z++
		}
		if a < z {
			out = append(out, [2]int{a, z})
		}
	}
	slices.SortFunc(out, func(x, y [2]int) int { return x[0] - y[0] })
	merged := out[:0]
	for _, m := range out {
		if n := len(merged); n > 0 && m[0] <= merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], m[1])
			continue
		}
		merged = append(merged, m)
	}
	return merged
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

func plain(s string, max int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncRunes(s, max), false, false)
}

// Render turns one alert into a Slack message: the notification text
// (escaped mrkdwn, also used where blocks are not shown) and its Block Kit
// blocks. Ops alerts are plain text with no blocks. All feed text is
// escaped or cleaned, links are built here with escaped labels, and every
// Slack limit is respected by truncation on a rune boundary; Render never
// fails.
//
// An item alert renders as:
//
//	section  *<link|Headline>*            (mrkdwn, escaped, linked)
//	context  Source · published time · Rule: name
//	section  snippet with the matched words in *bold*
//	actions  [Open] button to the link
func Render(a store.Alert) (text string, blocks []slack.Block) {
	if a.Kind == store.KindOps {
		return escTrunc(strings.ToValidUTF8(a.Text, "\uFFFD"), maxOpsText), nil
	}
	title := titleOf(a)
	head := "*" + escTrunc(title, MaxSectionText-2) + "*"
	if u := SafeURL(a.Link); u != "" {
		ue := strings.ReplaceAll(u, "&", "&amp;")
		// Room for the label next to the URL in "*<url|label>*".
		if room := MaxSectionText - utf8.RuneCountInString(ue) - 5; room >= 20 {
			head = "*<" + ue + "|" + escTrunc(title, room) + ">*"
		}
	}
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(head), nil, nil))
	if note := clean(a.Note); note != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(":rotating_light: *"+escTrunc(note, 500)+"*"), nil, nil))
	}

	var ctx []slack.MixedElement
	if f := clean(a.FeedName); f != "" {
		ctx = append(ctx, mrkdwn("*"+escTrunc(f, 200)+"*"))
	} else if f := clean(a.FeedKey); f != "" {
		ctx = append(ctx, mrkdwn("*"+escTrunc(f, 200)+"*"))
	}
	if p := FormatTime(a.Published); p != "" {
		ctx = append(ctx, mrkdwn(p))
	}
	if r := clean(a.Rule); r != "" {
		ctx = append(ctx, mrkdwn("Rule: "+escTrunc(r, 200)))
	}
	if len(ctx) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", ctx...))
	}
	if sn := snippetMrkdwn(a.Snippet, a.Marks, MaxSectionText); sn != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(sn), nil, nil))
	}
	if u := SafeURL(a.Link); u != "" {
		btn := slack.NewButtonBlockElement("open", "open", plain("Open", MaxButtonText))
		btn.URL = u
		blocks = append(blocks, slack.NewActionBlock("", btn))
	}
	text = fallbackText(a, title)
	if note := clean(a.Note); note != "" {
		if t := escTrunc(note, 500) + " — " + text; utf8.RuneCountInString(t) <= maxFallback {
			text = t
		}
	}
	return text, blocks
}

// fallbackText is the notification text of an item alert.
func fallbackText(a store.Alert, title string) string {
	var b strings.Builder
	if r := clean(a.Rule); r != "" {
		b.WriteString("[" + escTrunc(r, 200) + "] ")
	}
	b.WriteString(mrkdwnLink(a.Link, title, maxTitle+1))
	if f := clean(a.FeedName); f != "" {
		b.WriteString(" (" + escTrunc(f, 200) + ")")
	}
	s := b.String()
	if utf8.RuneCountInString(s) > maxFallback {
		s = escTrunc(title, maxFallback)
	}
	return s
}

// RenderGroup renders several alerts of one channel as one message listing
// the stories: a burst (digest false) or a digest summary (digest true).
// It lists as many alerts as fit Slack's limits (at most 40) and returns how
// many it used; the caller sends the rest in another message. Like Render,
// it escapes all feed text and never fails.
func RenderGroup(digest bool, alerts []store.Alert) (text string, blocks []slack.Block, n int) {
	var (
		sections []string
		sec      strings.Builder
		secLen   int
	)
	for _, a := range alerts {
		if n >= maxGroupItems {
			break
		}
		line := groupLine(a)
		ll := utf8.RuneCountInString(line)
		if secLen > 0 && secLen+1+ll > MaxSectionText {
			if len(sections)+1 >= MaxBlocks-3 { // header, this section, footer
				break
			}
			sections = append(sections, sec.String())
			sec.Reset()
			secLen = 0
		}
		if secLen > 0 {
			sec.WriteByte('\n')
			secLen++
		}
		sec.WriteString(line)
		secLen += ll
		n++
	}
	if secLen > 0 {
		sections = append(sections, sec.String())
	}
	if n == 0 && len(alerts) > 0 { // cannot happen with these limits; never stall a caller
		n = 1
	}
	stories := "stories"
	if n == 1 {
		stories = "story"
	}
	heading := fmt.Sprintf("%d new %s", n, stories)
	if digest {
		heading = fmt.Sprintf("Digest: %d %s", n, stories)
	}
	blocks = append(blocks, slack.NewHeaderBlock(plain(heading, MaxHeaderText)))
	for _, s := range sections {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(s), nil, nil))
	}
	var rules []string
	for _, a := range alerts[:n] {
		if r := clean(a.Rule); r != "" && !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	if len(rules) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(escTrunc("Rules: "+strings.Join(rules, ", "), MaxContextText))))
	}

	var tb strings.Builder
	tb.WriteString(heading + ":")
	used := utf8.RuneCountInString(heading) + 1
	for i, a := range alerts[:n] {
		t := escTrunc(titleOf(a), 120)
		sep := " "
		if i > 0 {
			sep = " · "
		}
		l := utf8.RuneCountInString(sep + t)
		if used+l > maxFallback-2 {
			tb.WriteString(" …")
			break
		}
		tb.WriteString(sep + t)
		used += l
	}
	return tb.String(), blocks, n
}

// groupLine is one story in a grouped message.
func groupLine(a store.Alert) string {
	line := "• *" + mrkdwnLink(a.Link, truncRunes(titleOf(a), 200), 201) + "*"
	var meta []string
	if f := clean(a.FeedName); f != "" {
		meta = append(meta, escTrunc(f, 80))
	}
	if !a.Published.IsZero() {
		meta = append(meta, a.Published.UTC().Format("2 Jan 15:04"))
	}
	if r := clean(a.Rule); r != "" {
		meta = append(meta, escTrunc(r, 80))
	}
	if len(meta) > 0 {
		line += " — " + strings.Join(meta, " · ")
	}
	if utf8.RuneCountInString(line) > MaxSectionText {
		line = "• " + escTrunc(titleOf(a), 200)
	}
	return line
}

// WriteText prints one alert as a readable plain-text block, the way
// Wirewatch shows alerts on stdout when Slack is not configured:
//
//	[#desk-south-asia] Cross-border strikes — Dawn — Mon 24 Nov 2026 13:05 UTC
//	  Pakistan, India exchange fire across LoC
//	  https://www.dawn.com/news/1
//	  … troops *exchanged fire* along the Line of Control …
//
// followed by a blank line. Control characters in feed text are removed, so
// a feed cannot send escape sequences to the terminal. Ops alerts print as
// "[#channel] ops: text".
func WriteText(w io.Writer, a store.Alert) error {
	return writeText(w, a, nil)
}

// writeText is WriteText with extra lines (plain text, cleaned here) after
// the headline: a note, the other rules the item matched.
func writeText(w io.Writer, a store.Alert, extra []string) error {
	ch := clean(a.Channel)
	if a.Kind == store.KindOps {
		_, err := fmt.Fprintf(w, "[%s] ops: %s\n\n", ch, clean(a.Text))
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]", ch)
	for _, s := range []string{clean(a.Rule), clean(a.FeedName), FormatTime(a.Published)} {
		if s != "" {
			b.WriteString(" — " + s)
		}
	}
	b.WriteString("\n  " + titleOf(a) + "\n")
	if note := clean(a.Note); note != "" {
		extra = append([]string{note}, extra...)
	}
	for _, l := range extra {
		if l = clean(l); l != "" {
			b.WriteString("  " + l + "\n")
		}
	}
	if u := SafeURL(a.Link); u != "" {
		b.WriteString("  " + u + "\n")
	}
	if sn := plainSnippet(a.Snippet, a.Marks); sn != "" {
		b.WriteString("  " + sn + "\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// plainSnippet is the snippet with marks shown as *word*, unescaped.
func plainSnippet(snippet string, marks [][2]int) string {
	var b strings.Builder
	pos := 0
	for _, m := range normMarks(snippet, marks) {
		b.WriteString(snippet[pos:m[0]])
		b.WriteString("*" + snippet[m[0]:m[1]] + "*")
		pos = m[1]
	}
	b.WriteString(snippet[pos:])
	return truncRunes(clean(b.String()), 1000)
}

// sourceName is how an alert's source is named: its feed's name, else its
// feed key (cleaned, not escaped).
func sourceName(a store.Alert) string {
	if f := clean(a.FeedName); f != "" {
		return f
	}
	if f := clean(a.FeedKey); f != "" {
		return f
	}
	return "another source"
}

// maxStorySources caps the sources one story line names.
const maxStorySources = 12

// RenderReply renders a story follow-up as a reply in its parent's thread:
// "Also reported by Geo News: <linked headline>", and on a second line the
// rules the item matched: those its story's first item matched too
// ("Rule: Cross-border strikes"), and the others ("Also matches rule
// *Talks collapse*"). report is the item's alerts in this channel (one
// per rule it matched), parentRules the rules of the story's first item.
// sameAs, if not empty, is the parent's headline, named when the thread is
// that of a grouped message listing several stories. Escaped like all
// feed text.
func RenderReply(report []store.Alert, parentRules []string, sameAs string) string {
	a := report[0]
	s := "Also reported by *" + escTrunc(sourceName(a), 200) + "*: " + mrkdwnLink(a.Link, titleOf(a), maxTitle+1)
	if sameAs != "" {
		s += " (same story as: " + escTrunc(truncRunes(clean(sameAs), 200), 201) + ")"
	}
	if l := rulesLine(rulesOf(report), parentRules, true); l != "" {
		s += "\n" + l
	}
	return s
}

// rulesLine names rules, those in known as "Rule: A" and the others as
// "Also matches rule *B*"; mrkdwn (escaped) or plain text.
func rulesLine(rules, known []string, md bool) string {
	var shared, extra []string
	for _, r := range rules {
		if slices.Contains(known, r) {
			shared = append(shared, r)
		} else {
			extra = append(extra, r)
		}
	}
	var parts []string
	if len(shared) > 0 {
		label := "Rule: "
		if len(shared) > 1 {
			label = "Rules: "
		}
		parts = append(parts, label+nameList(shared, false))
	}
	if len(extra) > 0 {
		parts = append(parts, alsoMatches(extra, md))
	}
	return strings.Join(parts, " · ")
}

// alsoMatches is "Also matches rule *Talks collapse*" (md: mrkdwn,
// escaped; else plain text).
func alsoMatches(rules []string, md bool) string {
	label := "Also matches rule "
	if len(rules) > 1 {
		label = "Also matches rules "
	}
	return label + nameList(rules, md)
}

// nameList joins rule names: "A", "A and B", "A, B and C"; bold is mrkdwn
// (escaped, each in *…*), else plain text (cleaned).
func nameList(names []string, bold bool) string {
	out := make([]string, len(names))
	for i, n := range names {
		if bold {
			out[i] = "*" + escTrunc(n, 200) + "*"
		} else {
			out[i] = truncRunes(clean(n), 200)
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// rulesOf is the rules of a report's alerts, each once, in order.
func rulesOf(report []store.Alert) []string {
	var rs []string
	for _, a := range report {
		if r := clean(a.Rule); r != "" && !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs
}

// StoryLines are what a story's first message says besides its own alert,
// each "" when there is nothing to say.
type StoryLines struct {
	// Breaking: "Breaking: 5 outlets in 38 min" once the story crossed its
	// threshold (store.Alert.Breaking).
	Breaking string
	// Also: the other rules the first item matched in the channel: "Also
	// matches rule *Talks collapse*".
	Also string
	// Story: how many outlets have the story and since when: "3 outlets
	// since 09:14 UTC: also reported by Geo News, The Express Tribune".
	Story string
}

// IsZero reports whether there is nothing to add.
func (l StoryLines) IsZero() bool { return l == StoryLines{} }

// storyLines are the lines of a story's first message: story holds the
// parent and its delivered follow-ups in any order. The result is escaped
// mrkdwn.
func storyLines(parent store.Alert, story []store.Alert) StoryLines {
	var l StoryLines
	if also := otherRules(parent, story); len(also) > 0 {
		l.Also = alsoMatches(also, true)
	}
	l.Story = StoryLine(parent, story)
	if parent.Breaking != nil {
		if n, span, ok := breakingSpan(reportsOf(parent, story), *parent.Breaking); ok {
			l.Breaking = BreakingLine(n, span)
		}
	}
	return l
}

// otherRules are the rules other than its own that parent's item matched
// in its channel (its alerts in story), each once.
func otherRules(parent store.Alert, story []store.Alert) []string {
	var rs []string
	for _, a := range story {
		if a.FeedKey == parent.FeedKey && a.ItemID == parent.ItemID && a.Rule != parent.Rule && !slices.Contains(rs, a.Rule) {
			rs = append(rs, a.Rule)
		}
	}
	return rs
}

// report is one item that reported a story: its outlet and when
// Wirewatch first saw it.
type report struct {
	outlet string
	at     time.Time
}

// reportsOf lists the items that reported the story (the parent's own
// item matched by other rules is one report), in the order they came.
func reportsOf(parent store.Alert, story []store.Alert) []report {
	fs := slices.Clone(story)
	if !slices.ContainsFunc(fs, func(a store.Alert) bool { return a.ID == parent.ID }) {
		fs = append(fs, parent)
	}
	slices.SortStableFunc(fs, func(x, y store.Alert) int { return x.CreatedAt.Compare(y.CreatedAt) })
	items := map[[2]string]bool{}
	var out []report
	for _, a := range fs {
		k := [2]string{a.FeedKey, a.ItemID}
		if items[k] {
			continue
		}
		items[k] = true
		out = append(out, report{outlet: sourceName(a), at: a.CreatedAt})
	}
	return out
}

// breakingSpan finds the first stretch of at most b.Within in which at
// least b.Outlets distinct outlets first reported the story: it returns
// how many outlets reported within that stretch and how long they took.
func breakingSpan(rs []report, b store.Breaking) (outlets int, span time.Duration, ok bool) {
	if b.Outlets <= 0 {
		return 0, 0, false
	}
	var firsts []time.Time
	seen := map[string]bool{}
	for _, r := range rs { // in order: an outlet's first report
		if !seen[r.outlet] {
			seen[r.outlet] = true
			firsts = append(firsts, r.at)
		}
	}
	slices.SortFunc(firsts, time.Time.Compare)
	for i := range firsts {
		j := i
		for j+1 < len(firsts) && firsts[j+1].Sub(firsts[i]) <= b.Within {
			j++
		}
		if j-i+1 >= b.Outlets {
			return j - i + 1, firsts[j].Sub(firsts[i]), true
		}
	}
	return 0, 0, false
}

// BreakingLine is "Breaking: 5 outlets in 38 min".
func BreakingLine(outlets int, span time.Duration) string {
	m := int((span + 30*time.Second) / time.Minute)
	if m < 1 {
		return fmt.Sprintf("Breaking: %d outlets within a minute", outlets)
	}
	return fmt.Sprintf("Breaking: %d outlets in %d min", outlets, m)
}

// StoryLine says how many outlets have a story and since when: "3
// outlets since 09:14 UTC: also reported by Geo News, Reuters", or
// "Reported again by Dawn (2 reports since 09:14 UTC)". story holds the
// parent and its delivered follow-ups in any order; outlets are named in
// the order they reported, each once; "since" is when Wirewatch first saw
// the story. It returns "" when story has no other report. The result is
// escaped mrkdwn.
func StoryLine(parent store.Alert, story []store.Alert) string {
	rs := reportsOf(parent, story)
	if len(rs) <= 1 {
		return ""
	}
	own := sourceName(parent)
	seen := map[string]bool{own: true}
	var others []string
	for _, r := range rs {
		if !seen[r.outlet] {
			seen[r.outlet] = true
			others = append(others, r.outlet)
		}
	}
	since := sinceTime(rs[0].at, rs[len(rs)-1].at)
	if len(others) == 0 {
		return fmt.Sprintf("Reported again by %s (%d reports since %s)", escTrunc(own, 200), len(rs), since)
	}
	names := others
	more := 0
	if len(names) > maxStorySources {
		names, more = names[:maxStorySources], len(names)-maxStorySources
	}
	esc := make([]string, len(names))
	for i, s := range names {
		esc[i] = escTrunc(s, 80)
	}
	list := strings.Join(esc, ", ")
	if more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return fmt.Sprintf("%d outlets since %s: also reported by %s", len(others)+1, since, list)
}

// outletsSince is "3 outlets since 09:14 UTC" (plain text), or "" for a
// story reported once.
func outletsSince(parent store.Alert, story []store.Alert) string {
	rs := reportsOf(parent, story)
	if len(rs) <= 1 {
		return ""
	}
	n := len(outletNames(parent, story))
	since := sinceTime(rs[0].at, rs[len(rs)-1].at)
	if n == 1 {
		return fmt.Sprintf("%d reports since %s", len(rs), since)
	}
	return fmt.Sprintf("%d outlets since %s", n, since)
}

// sinceTime is first as "09:14 UTC", with the day when last is on another
// day ("Tue 1 Dec 09:14 UTC").
func sinceTime(first, last time.Time) string {
	f, l := first.UTC(), last.UTC()
	if f.YearDay() == l.YearDay() && f.Year() == l.Year() {
		return f.Format("15:04 UTC")
	}
	return f.Format("Mon 2 Jan 15:04 UTC")
}

// RenderStory re-renders a story's parent alert (Render) with its story
// lines, for chat.update.
func RenderStory(parent store.Alert, ls StoryLines) (text string, blocks []slack.Block) {
	text, blocks = Render(parent)
	return withStoryLines(parent, ls, text, blocks)
}

// withStoryLines adds a story's lines to its parent's rendered message:
// the breaking line in bold under the headline, the others as a context
// block after its source line.
func withStoryLines(parent store.Alert, ls StoryLines, text string, blocks []slack.Block) (string, []slack.Block) {
	if ls.IsZero() || parent.Kind == store.KindOps {
		return text, blocks
	}
	var ctx []string
	for _, l := range []string{ls.Also, ls.Story} {
		if l != "" {
			ctx = append(ctx, l)
		}
	}
	if len(ctx) > 0 {
		extra := slack.NewContextBlock("", mrkdwn(truncRunes(strings.Join(ctx, "\n"), MaxContextText)))
		at := 1 // after the headline
		for i, b := range blocks {
			if b.BlockType() == slack.MBTContext {
				at = i + 1
				break
			}
		}
		at = min(at, len(blocks))
		blocks = slices.Insert(blocks, at, slack.Block(extra))
		for _, l := range ctx {
			if t := text + " — " + l; utf8.RuneCountInString(t) <= maxFallback {
				text = t
			}
		}
	}
	if ls.Breaking != "" {
		b := slack.NewSectionBlock(mrkdwn(":rotating_light: *"+ls.Breaking+"*"), nil, nil)
		blocks = slices.Insert(blocks, min(1, len(blocks)), slack.Block(b))
		if t := ls.Breaking + " — " + text; utf8.RuneCountInString(t) <= maxFallback {
			text = t
		}
	}
	return text, blocks
}
