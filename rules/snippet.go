package rules

import (
	"sort"
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
	if longerThan(t, maxRunes) {
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

// longerThan reports whether t has more than n runes, reading at most
// n+1 of them (a field can be a long article).
func longerThan(t string, n int) bool {
	if len(t) <= n {
		return false
	}
	return fwdRunes(t, 0, n) < len(t)
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
	if i >= n && asciiRun(t[i-n:i]) {
		return i - n // the common case: a rune a byte
	}
	for ; n > 0 && i > 0; n-- {
		if t[i-1] < utf8.RuneSelf {
			i--
			continue
		}
		_, size := utf8.DecodeLastRuneInString(t[:i])
		i -= size
	}
	return i
}

func fwdRunes(t string, i, n int) int {
	if i+n <= len(t) && asciiRun(t[i:i+n]) {
		return i + n
	}
	for ; n > 0 && i < len(t); n-- {
		if t[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(t[i:])
		i += size
	}
	return i
}

// asciiRun reports whether s is all ASCII, eight bytes at a time.
func asciiRun(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
	// Each span's weight, computed once (an item's spans can be many: a
	// word repeated through a long text).
	count := map[string]int{}
	words := make([]string, len(fs))
	for i, s := range fs {
		words[i] = strings.ToLower(t[s.Start:s.End])
		count[words[i]]++
	}
	// The spans are sorted and do not overlap (mergeSpans), so those
	// inside a window are a run of them: a window's score is a difference
	// of prefix sums of the weights.
	sum := make([]float64, len(fs)+1)
	for i, w := range words {
		sum[i+1] = sum[i] + 1/float64(count[w])
	}
	best, bestScore := 0, -1.0
	for i := 0; i < len(fs) && i < 500; i++ {
		s, e := window(fs[i].Start)
		lo := sort.Search(len(fs), func(j int) bool { return fs[j].Start >= s })
		hi := sort.Search(len(fs), func(j int) bool { return fs[j].End > e })
		score := 0.0
		if hi > lo {
			score = sum[hi] - sum[lo]
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
