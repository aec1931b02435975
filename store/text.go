package store

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"unicode/utf8"
)

// Text the stores always accept (issue 17.1: PostgreSQL refused a NUL
// byte in an item's title, so that feed failed on every poll while SQLite
// took it). Everything written to a store goes through the functions of
// this file first, in both backends, and the monitor cleans a parsed item
// with them before matching it, so rules, snippets and the store all see
// the same text.
//
// Clean text is valid UTF-8 (a run of invalid bytes, such as a lone
// surrogate encoded on its own in WTF-8 or CESU-8, becomes one U+FFFD),
// has no control characters but tab and newline (NUL, the other C0 and C1
// controls and DEL are removed), no noncharacters (U+FFFE, U+FFFF and the
// like), and at most a cap of bytes (cut on a character boundary, ending
// in "…").

// Caps, in bytes, of the text the stores keep and the monitor matches.
// They sit above monitor/parse's own caps, so a parsed item is never cut
// twice; they bound what any other caller can write.
const (
	MaxTitle      = 2 << 10   // item and alert titles
	MaxSummary    = 32 << 10  // an item's summary (matched, not stored)
	MaxContent    = 256 << 10 // an item's content (matched, not stored)
	MaxLink       = 8 << 10   // links, feed URLs, GUIDs
	MaxAuthor     = 2 << 10   // an item's author (matched, not stored)
	MaxCategory   = 2 << 10   // one category (matched, not stored)
	MaxCategories = 100       // categories per item; the rest are dropped
	MaxSnippet    = 8 << 10   // an alert's snippet
	MaxText       = 16 << 10  // an ops message's text, errors
	MaxName       = 1 << 10   // feed and rule names, channels, owners, digests, validators
	MaxMatched    = 50        // matched words kept with an alert; the rest are dropped
	MaxMatches    = 100       // rules kept with an item's outcome; the rest are dropped
	// MaxID caps identities (feed keys, item, alert and story ids): a
	// longer or invalid one is replaced by CleanID's hash, never cut, so
	// two identities never become one.
	MaxID = 1 << 10
)

// ellipsis ends a text that was cut.
const ellipsis = "…"

// CleanText returns s made clean (see above), at most max bytes (max <= 0:
// no cap). Clean text comes back unchanged, without allocating.
func CleanText(s string, max int) string {
	out, _ := cleanText(s, max, false)
	return out
}

// IsClean reports whether CleanText(s, max) == s.
func IsClean(s string, max int) bool {
	return (max <= 0 || len(s) <= max) && firstUnclean(s) == len(s)
}

// firstUnclean is the byte offset of the first byte of s that cleaning
// changes, or len(s).
func firstUnclean(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || dropRune(r) {
			return i
		}
		i += size
	}
	return len(s)
}

// dropRune reports whether a valid non-ASCII rune is removed: C1 controls
// and noncharacters.
func dropRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe
}

// cleanText cleans s to at most limit bytes (limit <= 0: no cap); with
// offsets, it also returns, for each byte offset of s (0..len(s)), the
// offset in the result where it landed (for an alert's Marks), else nil.
func cleanText(s string, limit int, offsets bool) (string, []int) {
	first := firstUnclean(s)
	if first == len(s) && (limit <= 0 || len(s) <= limit) {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	var off []int
	if offsets {
		off = make([]int, len(s)+1)
		for i := 0; i <= first; i++ {
			off[i] = i
		}
	}
	b = append(b, s[:first]...)
	invalid := false // the last thing written is U+FFFD for invalid bytes
	for i := first; i < len(s); {
		c := s[i]
		size := 1
		if c < utf8.RuneSelf {
			if !(c < 0x20 && c != '\t' && c != '\n' || c == 0x7f) {
				b = append(b, c)
			}
			invalid = false
		} else {
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			switch {
			case r == utf8.RuneError && n == 1:
				if !invalid {
					b = utf8.AppendRune(b, utf8.RuneError)
				}
				invalid = true
			case dropRune(r):
				invalid = false
			default:
				b = append(b, s[i:i+n]...)
				invalid = false
			}
		}
		if off != nil {
			for k := 1; k <= size; k++ {
				off[i+k] = len(b)
			}
		}
		i += size
	}
	if limit > 0 && len(b) > limit {
		tail := ellipsis
		if limit < 2*len(ellipsis) {
			tail = ""
		}
		cut := limit - len(tail)
		for cut > 0 && !utf8.RuneStart(b[cut]) {
			cut--
		}
		b = append(b[:cut], tail...)
		for i, o := range off {
			off[i] = min(o, cut)
		}
	}
	return string(b), off
}

// CleanID returns id if it is clean and at most MaxID bytes, else
// "sha256:" and the hex SHA-256 of its bytes: an identity the stores
// accept that no other id shares.
func CleanID(id string) string {
	if IsClean(id, MaxID) {
		return id
	}
	h := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(h[:])
}

// CleanList cleans each of list (at most max bytes each), drops the empty
// ones and keeps at most n. It returns list itself when nothing changes.
func CleanList(list []string, n, max int) []string {
	clean := len(list) <= n
	for _, s := range list {
		if !clean || s == "" || !IsClean(s, max) {
			clean = false
			break
		}
	}
	if clean {
		return list
	}
	out := make([]string, 0, min(len(list), n))
	for _, s := range list {
		if len(out) == n {
			break
		}
		if s = CleanText(s, max); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CleanItem returns it with every text field clean.
func CleanItem(it Item) Item {
	it.FeedKey = CleanID(it.FeedKey)
	it.ID = CleanID(it.ID)
	it.Title = CleanText(it.Title, MaxTitle)
	it.Link = CleanText(it.Link, MaxLink)
	it.Outcome = CleanText(it.Outcome, MaxName)
	if len(it.Matches) > 0 {
		ms := make([]ItemMatch, 0, min(len(it.Matches), MaxMatches))
		for _, m := range it.Matches[:min(len(it.Matches), MaxMatches)] {
			ms = append(ms, ItemMatch{Rule: CleanText(m.Rule, MaxName), Muted: CleanText(m.Muted, MaxName)})
		}
		it.Matches = ms
	}
	return it
}

// CleanAlert returns a with every text field clean; its Marks follow the
// snippet's bytes (a mark that falls outside the cleaned snippet is
// dropped).
func CleanAlert(a Alert) Alert {
	cleanIDs(&a.ID, &a.FeedKey, &a.ItemID, &a.StoryID)
	cleanTexts(MaxName, &a.Kind, &a.Channel, &a.FeedName, &a.Rule, &a.Digest, &a.State, &a.SlackTS)
	cleanTexts(MaxLink, &a.GUID, &a.Link)
	cleanTexts(MaxText, &a.Text, &a.LastError, &a.Note)
	if a.Breaking != nil {
		if to := CleanText(a.Breaking.EscalateTo, MaxName); to != a.Breaking.EscalateTo {
			b := *a.Breaking
			b.EscalateTo = to
			a.Breaking = &b
		}
	}
	a.Title = CleanText(a.Title, MaxTitle)
	snippet, off := cleanText(a.Snippet, MaxSnippet, len(a.Marks) > 0)
	if off != nil {
		marks := make([][2]int, 0, len(a.Marks))
		for _, m := range a.Marks {
			if m[0] < 0 || m[1] > len(a.Snippet) || m[0] >= m[1] {
				continue
			}
			if s, e := off[m[0]], off[m[1]]; s < e {
				marks = append(marks, [2]int{s, e})
			}
		}
		a.Marks = marks
	}
	a.Snippet = snippet
	a.Matched = CleanList(a.Matched, MaxMatched, MaxName)
	return a
}

// CleanAlerts returns alerts cleaned (alerts itself when all are clean).
func CleanAlerts(alerts []Alert) []Alert {
	return cleanEach(alerts, CleanAlert, func(c Alert, i int) bool { return alertTextEqual(&c, &alerts[i]) })
}

// cleanEach returns xs with clean applied to each, copying xs only once
// an element changes (same reports whether c, the cleaned xs[i], is
// unchanged).
func cleanEach[T any](xs []T, clean func(T) T, same func(c T, i int) bool) []T {
	var out []T
	for i := range xs {
		c := clean(xs[i])
		if out == nil && !same(c, i) {
			out = make([]T, len(xs))
			copy(out, xs[:i])
		}
		if out != nil {
			out[i] = c
		}
	}
	if out == nil {
		return xs
	}
	return out
}

// alertTextEqual compares the fields CleanAlert may change.
func alertTextEqual(a, b *Alert) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Channel == b.Channel && a.FeedKey == b.FeedKey &&
		a.FeedName == b.FeedName && a.ItemID == b.ItemID && a.GUID == b.GUID && a.Rule == b.Rule &&
		a.Title == b.Title && a.Link == b.Link && a.Text == b.Text && a.Note == b.Note && a.Digest == b.Digest &&
		(a.Breaking == nil) == (b.Breaking == nil) && (a.Breaking == nil || *a.Breaking == *b.Breaking) &&
		a.StoryID == b.StoryID && a.State == b.State && a.LastError == b.LastError && a.SlackTS == b.SlackTS &&
		a.Snippet == b.Snippet && len(a.Marks) == len(b.Marks) && slices.Equal(a.Matched, b.Matched)
}

// CleanFeedState returns f with every text field clean.
func CleanFeedState(f FeedState) FeedState {
	cleanIDs(&f.Key)
	cleanTexts(MaxLink, &f.URL, &f.ConfigURL)
	cleanTexts(MaxName, &f.ETag, &f.LastModified, &f.LeaseOwner)
	cleanTexts(MaxText, &f.LastError)
	return f
}

// cleanIDs applies CleanID to each field.
func cleanIDs(fields ...*string) {
	for _, p := range fields {
		*p = CleanID(*p)
	}
}

// cleanTexts applies CleanText, capped at max, to each field.
func cleanTexts(max int, fields ...*string) {
	for _, p := range fields {
		*p = CleanText(*p, max)
	}
}

// CleanIDs returns ids with each CleanID'd (ids itself when all are clean).
func CleanIDs(ids []string) []string {
	return cleanEach(ids, CleanID, func(c string, i int) bool { return c == ids[i] })
}

// CleanPoll returns p with every text written by CommitPoll clean: the
// feed's state, the items, the alerts and the Present ids.
func CleanPoll(p Poll) Poll {
	p.Owner = CleanText(p.Owner, MaxName)
	p.Feed = CleanFeedState(p.Feed)
	if len(p.Items) > 0 {
		items := make([]Item, len(p.Items))
		for i, it := range p.Items {
			items[i] = CleanItem(it)
		}
		p.Items = items
	}
	p.Alerts = CleanAlerts(p.Alerts)
	p.Present = CleanIDs(p.Present)
	return p
}

// CleanItems returns items cleaned.
func CleanItems(items []Item) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = CleanItem(it)
	}
	return out
}

// CleanFeedDefs returns feeds with clean keys and URLs.
func CleanFeedDefs(feeds []FeedDef) []FeedDef {
	out := make([]FeedDef, len(feeds))
	for i, d := range feeds {
		out[i] = FeedDef{Key: CleanID(d.Key), URL: CleanText(d.URL, MaxLink), Due: d.Due}
	}
	return out
}

// CleanFeedRecords returns feeds with every text field clean.
func CleanFeedRecords(feeds []FeedRecord) []FeedRecord {
	out := make([]FeedRecord, len(feeds))
	for i, r := range feeds {
		out[i] = FeedRecord{FeedState: CleanFeedState(r.FeedState), Configured: r.Configured}
	}
	return out
}

// CleanFilter returns f with clean values, so that it selects what was
// written clean.
func CleanFilter(f AlertFilter) AlertFilter {
	f.State = CleanText(f.State, MaxName)
	f.Channel = CleanText(f.Channel, MaxName)
	f.StoryID = CleanID(f.StoryID)
	f.SlackTS = CleanText(f.SlackTS, MaxName)
	f.FeedKey, f.ItemID = CleanID(f.FeedKey), CleanID(f.ItemID)
	return f
}
