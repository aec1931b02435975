package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// snippetOrder is the order fields are preferred in for a snippet: the
// body first, since a snippet is shown under the title (in Slack, by try
// and by once -dry-run), so a title that matched too says nothing new
// there; the title when the match is only there.
var snippetOrder = []Field{FieldSummary, FieldContent, FieldTitle, FieldCategory, FieldAuthor, FieldFeed, FieldLink}

const ellipsis = "…"

// Snippet picks about maxRunes of plain text around the first spans
// (preferring summary, then content, then title), cut on word boundaries
// with "…" where cut, and returns the byte ranges of the matched words in
// it. Without spans it returns the start of the summary (or content, or
// title).
func Snippet(a *Analyzed, spans []Span, maxRunes int) (text string, marks [][2]int) {
	if a == nil {
		return "", nil
	}
	if maxRunes <= 0 {
		maxRunes = 200
	}
	field, found := Field(0), false
	for _, f := range snippetOrder {
		for _, s := range spans {
			if s.Field == f && s.End > s.Start && s.End <= len(a.Text(f)) {
				field, found = f, true
				break
			}
		}
		if found {
			break
		}
	}
	var fs []Span
	if found {
		for _, s := range spans {
			if s.Field == field && s.Start >= 0 && s.End <= len(a.Text(field)) && s.Start < s.End {
				fs = append(fs, s)
			}
		}
		fs = mergeSpans(fs)
	} else {
		for _, f := range []Field{FieldSummary, FieldContent, FieldTitle} {
			if a.Text(f) != "" {
				field = f
				break
			}
		}
	}
	t := a.Text(field)
	if t == "" {
		return "", nil
	}
	start, end := 0, len(t)
	if utf8.RuneCountInString(t) > maxRunes {
		start, end = bestWindow(t, fs, maxRunes)
		fs = spansIn(fs, start, end)
		// Cut on word boundaries.
		if start > 0 && !boundaryAt(t, start) {
			s := start
			for s < len(t) && !boundaryAt(t, s) {
				_, size := utf8.DecodeRuneInString(t[s:])
				s += size
			}
			if len(fs) == 0 || s <= fs[0].Start {
				start = s
			}
		}
		if end < len(t) && !boundaryAt(t, end) {
			e := end
			for e > start && !boundaryAt(t, e) {
				_, size := utf8.DecodeLastRuneInString(t[:e])
				e -= size
			}
			if e > start && (len(fs) == 0 || e >= fs[0].End) {
				end = e
			}
		}
		// Trim the spaces at the cuts.
		for start < end && t[start] == ' ' {
			start++
		}
		for end > start && t[end-1] == ' ' {
			end--
		}
	}
	pre, post := "", ""
	if start > 0 {
		pre = ellipsis
	}
	if end < len(t) {
		post = ellipsis
	}
	text = pre + t[start:end] + post
	for _, s := range fs {
		if s.End <= start || s.Start >= end {
			continue
		}
		ms, me := max(s.Start, start), min(s.End, end)
		marks = append(marks, [2]int{ms - start + len(pre), me - start + len(pre)})
	}
	return text, marks
}

// boundaryAt reports whether byte offset i of t is between words (at a
// space, or next to one).
func boundaryAt(t string, i int) bool {
	if i <= 0 || i >= len(t) {
		return true
	}
	r1, _ := utf8.DecodeLastRuneInString(t[:i])
	r2, _ := utf8.DecodeRuneInString(t[i:])
	return unicode.IsSpace(r1) || unicode.IsSpace(r2)
}

func backRunes(t string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(t[:i])
		i -= size
	}
	return i
}

func fwdRunes(t string, i, n int) int {
	for ; n > 0 && i < len(t); n-- {
		_, size := utf8.DecodeRuneInString(t[i:])
		i += size
	}
	return i
}

// bestWindow chooses where a snippet of maxRunes goes: the window, starting
// a little before one of the spans, whose spans are most informative. A
// span's weight is 1/(occurrences of the same word among the spans), so a
// window showing "collapse of talks" beats one showing the fifth
// "Pakistan". Ties go to the earliest window.
func bestWindow(t string, fs []Span, maxRunes int) (start, end int) {
	window := func(anchor int) (int, int) {
		s := backRunes(t, anchor, maxRunes/4)
		e := fwdRunes(t, s, maxRunes)
		if e == len(t) {
			s = backRunes(t, e, maxRunes)
		}
		return s, e
	}
	if len(fs) == 0 {
		return window(0)
	}
	count := map[string]int{}
	for _, s := range fs {
		count[strings.ToLower(t[s.Start:s.End])]++
	}
	best, bestScore := 0, -1.0
	for i := 0; i < len(fs) && i < 500; i++ {
		s, e := window(fs[i].Start)
		score := 0.0
		for _, x := range fs {
			if x.Start >= s && x.End <= e {
				score += 1 / float64(count[strings.ToLower(t[x.Start:x.End])])
			}
		}
		if score > bestScore+1e-9 {
			best, bestScore = i, score
		}
	}
	start, end = window(fs[best].Start)
	if end < fs[best].End {
		end = fs[best].End
	}
	return start, end
}

// spansIn returns the spans that start inside [start, end), first.
func spansIn(fs []Span, start, end int) []Span {
	var in []Span
	for _, s := range fs {
		if s.Start >= start && s.Start < end {
			in = append(in, s)
		}
	}
	return in
}
