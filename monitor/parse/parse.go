// Package parse owns turning a fetched body into feed items: encoding
// repair before any XML parser sees the bytes (BOM, UTF-16/32, the HTTP
// charset, undeclared Latin-1/Windows-1252, mislabelled UTF-8), parsing
// RSS/Atom/JSON Feed with gofeed, recognising an HTML page served instead
// of a feed (and the feeds it advertises), and cleaning each item: links
// resolved against the feed URL, HTML turned to plain text, dates gofeed
// misses recovered where unambiguous, and a stable identity (GUID, else the
// canonical link without tracking parameters, else a hash of title and
// content).
//
// It does no I/O: monitor/fetch gets the bytes, the monitor decides what is
// new.
package parse

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"github.com/wirewatch/wirewatch/internal/htmltext"
	"github.com/wirewatch/wirewatch/internal/redact"
)

// Item is one feed entry, cleaned.
type Item struct {
	// ID is the item's stable identity within the feed: the GUID, else the
	// canonical link (tracking parameters such as utm_* removed), else
	// "sha256:" and a hash of title and content.
	ID   string
	GUID string
	Link string // absolute, resolved against the feed URL
	// Title, Summary and Content are plain text (HTML converted with
	// htmltext.Plain), capped in size.
	Title, Summary, Content string
	Author                  string
	Categories              []string
	// Published is the publication (else update) time in UTC; zero if
	// unknown (the caller then uses the time it first saw the item).
	Published time.Time
}

// Feed is a parsed feed.
type Feed struct {
	Title, Link string
	Items       []Item
	// TTL is the publisher's hint of how often the feed changes: RSS <ttl>
	// or sy:updatePeriod/sy:updateFrequency (the larger); 0 if none.
	TTL time.Duration
	// Format is "rss", "atom" or "json"; Encoding the charset the body was
	// read as (see RepairEncoding).
	Format, Encoding string
	// Truncated is set when the body ended mid-document and Items are the
	// complete items before the cut (worth a warning in the log: later
	// items of this poll may be missing).
	Truncated bool
}

// Size caps of the cleaned text fields, in bytes.
const (
	maxTitle   = 1 << 10
	maxSummary = 16 << 10
	maxContent = 128 << 10
)

// ErrorKind classifies a parse failure.
type ErrorKind string

// The kinds of parse failure (an HTML page is a *NotFeedError instead).
const (
	KindEmpty     ErrorKind = "empty"      // no bytes, or only white space
	KindNotFeed   ErrorKind = "not a feed" // XML or text that is no RSS/Atom/JSON Feed
	KindTruncated ErrorKind = "truncated"  // the document ends mid-way
	KindMalformed ErrorKind = "malformed"  // a syntax error gofeed cannot get past
	// KindEncoding: no encoding is declared and the bytes are neither
	// UTF-8 nor Western (Latin-1/Windows-1252) text; guessing would
	// produce garbage that no rule matches.
	KindEncoding ErrorKind = "encoding"
)

// Error is a parse failure other than an HTML page.
type Error struct {
	Kind    ErrorKind
	FeedURL string
	// Declared is, for KindEncoding, the encoding the feed or its HTTP
	// charset named but its bytes are not in ("" if it named none).
	Declared string
	Err      error
}

func (e *Error) Error() string {
	var what string
	switch e.Kind {
	case KindEmpty:
		what = "the body is empty"
	case KindNotFeed:
		what = "this is not an RSS, Atom or JSON feed"
	case KindEncoding:
		what = "the feed does not declare its encoding and its bytes are neither UTF-8 nor Latin-1/Windows-1252 text (the publisher should declare the encoding)"
		if e.Declared != "" {
			what = fmt.Sprintf("the feed declares the encoding %q but its bytes are neither that nor Latin-1/Windows-1252 text (the publisher should declare the right one)", e.Declared)
		}
	case KindTruncated:
		what = "the feed is truncated (the document ends before it is complete)"
	default:
		what = "the feed is malformed"
	}
	msg := fmt.Sprintf("parsing %s failed (%s): %s", redact.URL(e.FeedURL), e.Kind, what)
	if e.Err != nil {
		msg += ": " + redact.Text(e.Err.Error())
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// NotFeedError reports an HTML page where a feed was expected.
type NotFeedError struct {
	FeedURL string
	HTML    bool
	// Alternates are the feeds the page advertises with
	// <link rel="alternate">, as absolute URLs, without what they took
	// from the feed URL's secrets (redact.Derived: its user info, its
	// query values).
	Alternates []string
}

// Error redacts the feed URL (user info, query values).
func (e *NotFeedError) Error() string {
	if !e.HTML {
		return fmt.Sprintf("parsing %s failed (not a feed): this is not an RSS, Atom or JSON feed", redact.URL(e.FeedURL))
	}
	if len(e.Alternates) == 0 {
		return fmt.Sprintf("parsing %s failed (html page): this is an HTML page, not a feed, and it advertises no feed", redact.URL(e.FeedURL))
	}
	return fmt.Sprintf("parsing %s failed (html page): this is an HTML page, not a feed; it advertises: %s",
		redact.URL(e.FeedURL), strings.Join(e.Alternates, ", "))
}

// detectWindow is how much of the body feed-type detection looks at: more
// than gofeed's 4 KB, so a long comment or DOCTYPE before the root element
// does not hide the feed.
const detectWindow = 64 << 10

// Parse turns a fetched body into a Feed. contentType is the HTTP
// Content-Type (for its charset), feedURL the URL the body came from (to
// resolve relative links). Errors are *Error or *NotFeedError.
func Parse(body []byte, contentType, feedURL string) (feed *Feed, err error) {
	defer func() {
		// gofeed is third-party code on hostile input: a panic there is a
		// malformed feed, not a crash of the poller.
		if r := recover(); r != nil {
			feed, err = nil, &Error{Kind: KindMalformed, FeedURL: feedURL, Err: fmt.Errorf("parser panic: %v", r)}
		}
	}()
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &Error{Kind: KindEmpty, FeedURL: feedURL}
	}
	dec := RepairEncoding(body, contentType)
	if dec.How == "unknown" {
		return nil, &Error{Kind: KindEncoding, FeedURL: feedURL, Declared: dec.Declared}
	}
	b := fixXMLChars(dec.Body)
	truncated := false
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &Error{Kind: KindEmpty, FeedURL: feedURL}
	}

	base, _ := url.Parse(feedURL)
	if out, ok := parseChunked(b, contentType, feedURL, base); ok {
		out.Encoding = dec.Encoding
		return out, nil
	}
	gf, ttl, format, err := parseFormat(b, contentType, feedURL)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) && pe.Kind == KindTruncated && format != "json" {
			// Keep the complete items before the cut, if any.
			if fixed := salvageTruncated(b); fixed != nil {
				if sgf, sttl, _, serr := parseFormat(fixed, contentType, feedURL); serr == nil && sgf != nil && len(sgf.Items) > 0 {
					gf, ttl, err = sgf, sttl, nil
					truncated = true
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if gf == nil {
		return nil, &Error{Kind: KindMalformed, FeedURL: feedURL, Err: errors.New("no feed")}
	}
	if t := syTTL(gf); t > ttl {
		ttl = t
	}

	out := &Feed{
		Title:     capText(htmltext.Plain(gf.Title), maxTitle),
		Link:      resolveLink(base, gf.Link),
		TTL:       ttl,
		Format:    format,
		Encoding:  dec.Encoding,
		Truncated: truncated,
		Items:     make([]Item, 0, len(gf.Items)),
	}
	seen := make(map[string]bool, len(gf.Items))
	out.Items = appendItems(out.Items, gf.Items, base, seen)
	return out, nil
}

var errUnexpectedEOF = errors.New("unexpected EOF")

// parseFormat detects the format of the (UTF-8) body and runs the matching
// gofeed parser and translator. ttl is RSS <ttl>.
func parseFormat(b []byte, contentType, feedURL string) (gf *gofeed.Feed, ttl time.Duration, format string, err error) {
	switch gofeed.DetectFeedType(bytes.NewReader(b[:min(len(b), detectWindow)])) {
	case gofeed.FeedTypeRSS:
		format = "rss"
		var rf *rss.Feed
		rf, err = (&rss.Parser{}).Parse(bytes.NewReader(b))
		if err == nil {
			ttl = rssTTL(rf.TTL)
			// Items carry no image: without the scan, gofeed does not
			// parse every item's HTML a second time (issue 18.1: most of
			// the time of a 40,000-item poll).
			gf, err = (&gofeed.DefaultRSSTranslator{DisableContentImageScan: true}).Translate(rf)
		}
	case gofeed.FeedTypeAtom:
		format = "atom"
		var af *atom.Feed
		af, err = (&atom.Parser{}).Parse(bytes.NewReader(b))
		if err == nil {
			gf, err = (&gofeed.DefaultAtomTranslator{}).Translate(af)
		}
	case gofeed.FeedTypeJSON:
		format = "json"
		var jf *json.Feed
		jf, err = (&json.Parser{}).Parse(bytes.NewReader(b))
		if err == nil {
			gf, err = (&gofeed.DefaultJSONTranslator{}).Translate(jf)
		}
	default:
		if looksLikeHTML(b, contentType) {
			alts := Alternates(b, feedURL)
			for i, a := range alts {
				alts[i] = redact.Derived(a, feedURL)
			}
			return nil, 0, "", &NotFeedError{FeedURL: feedURL, HTML: true, Alternates: alts}
		}
		return nil, 0, "", &NotFeedError{FeedURL: feedURL}
	}
	if err != nil {
		kind := KindMalformed
		if errors.Is(err, errUnexpectedEOF) || strings.Contains(err.Error(), "unexpected EOF") ||
			strings.Contains(err.Error(), "unexpected end of JSON input") {
			kind = KindTruncated
		}
		return nil, 0, format, &Error{Kind: kind, FeedURL: feedURL, Err: err}
	}
	return gf, ttl, format, nil
}

func cleanItem(gi *gofeed.Item, base *url.URL) Item {
	it := Item{
		GUID:    strings.TrimSpace(gi.GUID),
		Title:   capText(htmltext.Plain(gi.Title), maxTitle),
		Summary: capText(htmltext.Plain(gi.Description), maxSummary),
		Content: capText(htmltext.Plain(gi.Content), maxContent),
	}
	link := strings.TrimSpace(gi.Link)
	if link == "" && len(gi.Links) > 0 {
		link = strings.TrimSpace(gi.Links[0])
	}
	if link == "" && isAbsHTTP(it.GUID) {
		link = it.GUID // a permalink GUID is the link
	}
	it.Link = resolveLink(base, link)

	switch {
	case len(gi.Authors) > 0 && gi.Authors[0] != nil:
		it.Author = personName(gi.Authors[0])
	case gi.Author != nil:
		it.Author = personName(gi.Author)
	}
	if it.Author == "" && gi.DublinCoreExt != nil && len(gi.DublinCoreExt.Creator) > 0 {
		it.Author = capText(htmltext.Plain(gi.DublinCoreExt.Creator[0]), maxTitle)
	}
	seenCat := map[string]bool{}
	for _, c := range gi.Categories {
		c = capText(htmltext.Plain(c), maxTitle)
		if c != "" && !seenCat[c] {
			seenCat[c] = true
			it.Categories = append(it.Categories, c)
		}
	}
	it.Published = itemTime(gi)

	text := it.Content
	if text == "" {
		text = it.Summary
	}
	it.ID = itemID(it.GUID, it.Link, it.Title, text, firstNonEmpty(gi.Published, gi.Updated))
	return it
}

// itemTime is the published time, else the updated time, from gofeed or
// recovered from the raw text; zero if unknown.
func itemTime(gi *gofeed.Item) time.Time {
	for _, c := range []struct {
		parsed *time.Time
		raw    string
	}{{gi.PublishedParsed, gi.Published}, {gi.UpdatedParsed, gi.Updated}} {
		if c.parsed != nil && !c.parsed.IsZero() && !ambiguousDate(c.raw) {
			if t, ok := sane(*c.parsed); ok {
				return t.UTC()
			}
		}
		if c.raw != "" {
			if t, ok := RecoverDate(c.raw); ok {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

func personName(p *gofeed.Person) string {
	if p == nil {
		return ""
	}
	if n := strings.TrimSpace(p.Name); n != "" {
		return capText(htmltext.Plain(n), maxTitle)
	}
	return capText(strings.TrimSpace(p.Email), maxTitle)
}

func isAbsHTTP(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// resolveLink makes link absolute against base; an unparsable link is
// returned trimmed.
func resolveLink(base *url.URL, link string) string {
	link = strings.TrimSpace(link)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	if u.IsAbs() || base == nil || base.Scheme == "" {
		return u.String()
	}
	return base.ResolveReference(u).String()
}

// capText cuts s to at most n bytes on a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s + "…"
}

const maxTTL = 30 * 24 * time.Hour

// rssTTL reads <ttl> (minutes).
func rssTTL(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Minute, maxTTL)
}

// syTTL reads the RSS 1.0 syndication module: updatePeriod divided by
// updateFrequency.
func syTTL(gf *gofeed.Feed) time.Duration {
	sy := gf.Extensions["sy"]
	if sy == nil {
		return 0
	}
	first := func(name string) string {
		if e := sy[name]; len(e) > 0 {
			return strings.ToLower(strings.TrimSpace(e[0].Value))
		}
		return ""
	}
	var period time.Duration
	switch first("updatePeriod") {
	case "hourly":
		period = time.Hour
	case "daily", "":
		period = 24 * time.Hour
	case "weekly":
		period = 7 * 24 * time.Hour
	case "monthly":
		period = 30 * 24 * time.Hour
	case "yearly":
		period = 365 * 24 * time.Hour
	default:
		return 0
	}
	if first("updatePeriod") == "" && first("updateFrequency") == "" {
		return 0
	}
	freq := 1
	if f := first("updateFrequency"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return 0
		}
		freq = n
	}
	return min(period/time.Duration(freq), maxTTL)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// appendItems cleans the parsed items into out, in order, leaving out items
// without an identity and those whose identity seen holds already (which it
// records). Each parsed item is dropped from items as it is cleaned, so it
// is garbage at once.
func appendItems(out []Item, items []*gofeed.Item, base *url.URL, seen map[string]bool) []Item {
	for i, gi := range items {
		if gi == nil {
			continue
		}
		items[i] = nil
		it := cleanItem(gi, base)
		if it.ID == "" || seen[it.ID] {
			continue
		}
		seen[it.ID] = true
		out = append(out, it)
	}
	return out
}
