package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/itemtext"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
)

// tryMatch is one line of `try -json` output: one (item, rule) match
// (written by tryWriter.result, which encodes an item's fields once for
// all its lines).
type tryMatch struct {
	Rule  string `json:"rule"`
	Feed  string `json:"feed"`
	Title string `json:"title"`
	Link  string `json:"link"`
	GUID  string `json:"guid"`
	// Snippet is the item's: around the matched words of every rule that
	// matched it.
	Snippet string   `json:"snippet"`
	Matched []string `json:"matched"`
	// Story is the link (else id) of the first matched item of the story
	// this item reports: items with the same Story would be one alert with
	// the others in its thread.
	Story string `json:"story"`
	// StorySimilarity is the story similarity that joined the item to its
	// story (0 for the story's first report, which would be the alert).
	StorySimilarity float64    `json:"story_similarity"`
	Seen            time.Time  `json:"seen"`
	Published       *time.Time `json:"published,omitempty"`
	// Change, with -against: "added" (only the rule tried matches),
	// "removed" (only the -against version) or "same".
	Change string `json:"change,omitempty"`
}

// cmdTry runs a rule (-query), a configured rule (-rule) or all configured
// rules over feed files or URLs, or over the items the store kept
// (-since), and shows which items match and why, streaming; -against
// compares with another version of the rule.
func cmdTry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("try", stderr)
	path := fs.String("config", "", "configuration file; its rules are used unless -query is given, and its store is read with -since")
	query := fs.String("query", "", "a rule to try, in the rule language")
	ruleName := fs.String("rule", "", "the name of one configured rule to try")
	against := fs.String("against", "", "another version of the rule (say, the one in use): show the items only one of them matches")
	since := fs.String("since", "", "try over the items stored in this window (\"7d\", \"36h\", or a date such as 2026-11-30) instead of feeds")
	asJSON := fs.Bool("json", false, "print one JSON object per (item, rule) match")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wirewatch try [-config FILE] [-query 'RULE' | -rule NAME] [-against 'RULE'] [-json] SOURCE...")
		fmt.Fprintln(stderr, "       wirewatch try -config FILE -since 7d [-query 'RULE' | -rule NAME] [-against 'RULE'] [-json]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	sources := fs.Args()
	switch {
	case len(sources) == 0 && *since == "":
		return usagef("give at least one feed file or URL to try, or -since to try the stored items")
	case len(sources) > 0 && *since != "":
		return usagef("give -since or feed sources, not both")
	}
	if *query != "" && *ruleName != "" {
		return usagef("give -query or -rule, not both")
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = sinceTime(*since, time.Now()); err != nil {
			return usagef("%v", err)
		}
		if *path == "" {
			return usagef("-since reads the store: give -config FILE")
		}
	}

	var cfg *config.Config
	var rs []*rules.Rule
	if *path != "" {
		l, err := loadValid(*path, stderr)
		if err != nil {
			return err
		}
		cfg, rs = l.cfg, l.rules
	}
	switch {
	case *query != "":
		r, err := rules.Compile("query", *query)
		if err != nil {
			return err
		}
		rs = []*rules.Rule{r}
	case *ruleName != "":
		var found *rules.Rule
		for _, r := range rs {
			if r.Name() == *ruleName {
				found = r
			}
		}
		if found == nil {
			return usagef("-rule: no rule named %q in %s", *ruleName, *path)
		}
		rs = []*rules.Rule{found}
	case cfg == nil:
		return usagef("give -query 'RULE', or -config FILE to use its rules")
	}
	o := backtest.Options{Since: from}
	if *against != "" {
		if len(rs) != 1 {
			return usagef("-against compares one rule: give -query or -rule")
		}
		r, err := rules.Compile("against", *against)
		if err != nil {
			return fmt.Errorf("-against: %w", err)
		}
		o.Against = r
	}
	// check's warnings for the rules typed here (configured rules have
	// `wirewatch check`).
	var typed []*rules.Rule
	if *query != "" {
		typed = append(typed, rs[0])
	}
	if o.Against != nil {
		typed = append(typed, o.Against)
	}
	for _, r := range typed {
		for _, w := range r.Warnings() {
			fmt.Fprintf(stderr, "warning: rule %q: column %d: %s\n", r.Name(), w.Col, w.Msg)
		}
	}
	if cfg != nil {
		o.StoryWindow = cfg.Monitor.StoryWindow
	}

	out := newTryWriter(stdout, *asJSON, o.Against != nil)
	defer out.flush()
	if *since != "" {
		out.stored = true
		return tryStored(ctx, cfg, rs, o, out, stderr)
	}
	if cfg == nil {
		cfg = &config.Config{Fetch: config.Fetch{Timeout: config.DefaultTimeout, MaxBodyBytes: config.DefaultMaxBodyBytes, MaxRedirects: config.DefaultMaxRedirects, PerHost: config.DefaultPerHost}}
	}
	return tryFeeds(ctx, cfg, rs, o, args, sources, out, stderr)
}

// tryStored runs the backtest over the store's kept texts.
func tryStored(ctx context.Context, cfg *config.Config, rs []*rules.Rule, o backtest.Options, out *tryWriter, stderr io.Writer) error {
	src, closeSrc, err := openTextSource(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeSrc()
	sum, err := backtest.Run(ctx, src, rs, o, out.result)
	if err != nil && sum == nil {
		return err
	}
	if !out.json {
		out.summary(sum, true)
	}
	if err != nil {
		return err
	}
	if sum.Scanned == 0 {
		fmt.Fprintf(stderr, "no stored text since %s: the store keeps item texts for [store] keep_text (now %s)\n", o.Since.UTC().Format(time.RFC3339), keepTextLabel(cfg))
	}
	return nil
}

func keepTextLabel(cfg *config.Config) string {
	if cfg.Store.KeepText == 0 {
		return "off"
	}
	return cfg.Store.KeepText.String()
}

// tryFeeds fetches or reads each source, parses it and pushes its items
// through one backtest, streaming the matches.
func tryFeeds(ctx context.Context, cfg *config.Config, rs []*rules.Rule, o backtest.Options, args, sources []string, out *tryWriter, stderr io.Writer) error {
	b, err := backtest.New(rs, o)
	if err != nil {
		return err
	}
	var fetcher *fetch.Fetcher
	now := time.Now()
	failed := 0
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return err
		}
		var body []byte
		var contentType, base string
		if isURL(src) {
			if fetcher == nil {
				fetcher = newFetcher(cfg, nil)
			}
			res, err := fetcher.Fetch(ctx, fetch.Request{URL: src})
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", redact.URL(src), err)
				failed++
				continue
			}
			body, contentType, base = res.Body, res.ContentType, res.URL
		} else {
			bs, err := os.ReadFile(src)
			if err != nil {
				fmt.Fprintf(stderr, "%v\n", err)
				failed++
				continue
			}
			abs, _ := filepath.Abs(src)
			body, base = bs, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
			contentType = mime.TypeByExtension(filepath.Ext(src))
		}
		shown := redact.URL(src) // a URL's user info and query values stay secret
		doc, err := parse.Parse(body, contentType, base)
		body = nil
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", shown, err)
			var nf *parse.NotFeedError
			if errors.As(err, &nf) && len(nf.Alternates) > 0 {
				fmt.Fprintf(stderr, "  try one of the feeds it advertises:\n")
				for _, alt := range nf.Alternates {
					fmt.Fprintf(stderr, "    %s\n", tryAgain(args, sources, alt))
				}
			}
			failed++
			continue
		}
		feedName := doc.Title
		if feedName == "" {
			feedName = shown
		}
		matched := 0
		for i := range doc.Items {
			it := &doc.Items[i]
			seen := it.Published
			if seen.IsZero() {
				seen = now
			}
			t := itemtext.Text{Title: it.Title, Summary: it.Summary, Content: it.Content, Feed: feedName, Author: it.Author, Link: it.Link, Categories: it.Categories, Published: it.Published}
			res, ok := b.Add(shown, it.ID, seen, &t)
			if !ok {
				continue
			}
			matched++
			if err := out.result(res); err != nil {
				return err
			}
		}
		if !out.json {
			out.printf("%s: %d items, %d matches\n", shown, len(doc.Items), matched)
		}
	}
	if !out.json {
		out.summary(b.Summary(), false)
	}
	if failed == len(sources) {
		return exitError(1)
	}
	return nil
}

// openTextSource opens the store, whose kept item texts a backtest reads.
// Reading does not stop a daemon that writes to it (SQLite: WAL).
func openTextSource(ctx context.Context, cfg *config.Config) (backtest.Source, func(), error) {
	st, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	return st, func() { st.Close() }, nil
}

// sinceTime reads try's -since: a duration back from now ("7d", "36h") or a
// date or date-time ("2026-11-30", "2026-11-30T06:00:00Z").
func sinceTime(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 3650 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-since %q: give a duration back from now (7d, 36h) or a date (2026-11-30)", s)
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// tryWriter prints results as they come: buffered, flushed at least every
// 100 ms so that the first results show at once, and without a write per
// result when there are many.
type tryWriter struct {
	w       *bufio.Writer
	json    bool
	diff    bool
	stored  bool // items from the store (else from feeds)
	flushed time.Time
	stories map[string]storyHead // by story id (open stories only)
	order   []string
	item    []byte // scratch for -json
	line    []byte
}

// storyHead is what try remembers of a story's first report.
type storyHead struct{ link, title string }

func newTryWriter(w io.Writer, asJSON, diff bool) *tryWriter {
	return &tryWriter{w: bufio.NewWriterSize(w, 64<<10), json: asJSON, diff: diff, stories: map[string]storyHead{}}
}

func (t *tryWriter) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

// counts prints a titled list of counts, at most limit of them, then how
// many more there are ("… and 3 more feeds").
func (t *tryWriter) counts(title string, cs []backtest.Count, limit int, more string) {
	t.printf("\n%s\n", title)
	for i, c := range cs {
		if i == limit {
			t.printf("  … and %d more %s\n", len(cs)-limit, more)
			break
		}
		t.printf("  %6d  %s\n", c.Items, c.Name)
	}
}

func (t *tryWriter) flush() { t.w.Flush() }

func (t *tryWriter) maybeFlush() error {
	if now := time.Now(); now.Sub(t.flushed) >= 100*time.Millisecond {
		t.flushed = now
		return t.w.Flush()
	}
	return nil
}

// storyOf names a result's story by its first report's link (else id)
// and title. It remembers a bounded number of stories; an older one is
// named by id, without a title.
func (t *tryWriter) storyOf(r *backtest.Result) storyHead {
	if h, ok := t.stories[r.Story]; ok {
		return h
	}
	h := storyHead{link: r.Item.Link, title: r.Item.Title}
	if r.Joined || h.link == "" {
		h.link = r.Item.ID
		if r.Joined {
			_, h.link, _ = strings.Cut(r.Story, "\x00")
			h.title = ""
		}
	}
	if len(t.order) >= 10000 {
		delete(t.stories, t.order[0])
		t.order = t.order[1:]
	}
	t.stories[r.Story] = h
	t.order = append(t.order, r.Story)
	return h
}

var changeMark = map[backtest.Change]string{backtest.Added: "ADDED (only this version)", backtest.Removed: "REMOVED (only -against)", backtest.Same: "both versions"}

// result prints one matching item: a block per rule that matched.
func (t *tryWriter) result(r *backtest.Result) error {
	head := t.storyOf(r)
	story := head.link
	if t.json {
		// The item's fields are the same in each of its lines (one per
		// rule): encode them once.
		item := t.item[:0]
		item = appendJSONField(item, "feed", r.Item.Feed)
		item = appendJSONField(item, "title", r.Item.Title)
		item = appendJSONField(item, "link", r.Item.Link)
		item = appendJSONField(item, "guid", r.Item.ID)
		item = appendJSONField(item, "story", story)
		item = appendJSONString(item, "story_similarity")
		item = append(item, ':')
		item = strconv.AppendFloat(item, math.Round(r.Similarity*1000)/1000, 'f', -1, 64)
		item = append(item, ',')
		item = appendJSONField(item, "seen", r.Item.Seen.UTC().Format(time.RFC3339Nano))
		if !r.Item.Published.IsZero() {
			item = appendJSONField(item, "published", r.Item.Published.UTC().Format(time.RFC3339Nano))
		}
		if t.diff {
			item = appendJSONField(item, "change", r.Change.String())
		}
		t.item = item
		item = appendJSONField(item, "snippet", r.Snippet)
		t.item = item
		for _, h := range r.Hits {
			line := append(t.line[:0], '{')
			line = appendJSONField(line, "rule", h.Rule)
			line = append(line, `"matched":[`...)
			for i, w := range h.Words {
				if i > 0 {
					line = append(line, ',')
				}
				line = appendJSONString(line, w)
			}
			line = append(line, "],"...)
			line = append(line, item[:len(item)-1]...) // without its last comma
			line = append(line, "}\n"...)
			t.line = line
			if _, err := t.w.Write(line); err != nil {
				return err
			}
		}
		return t.maybeFlush()
	}
	if t.diff && r.Change == backtest.Same {
		return nil // the difference is what a comparison shows
	}
	// One block per item: its rules, the item, one snippet with every
	// matched word, and each rule's matched words.
	hits := r.Hits
	if t.diff {
		hits = hits[:1] // the other version's words say the same
		t.printf("%s %q\n", changeMark[r.Change], hits[0].Rule)
	} else {
		t.printf("MATCH")
		for i, h := range hits {
			if i > 0 {
				t.printf(",")
			}
			t.printf(" %q", h.Rule)
		}
		t.printf("\n")
	}
	when := "first seen " + r.Item.Seen.UTC().Format("2006-01-02 15:04 MST")
	if !t.stored {
		when = "published " + r.Item.Published.UTC().Format("2006-01-02 15:04 MST")
		if r.Item.Published.IsZero() {
			when = "not dated"
		}
	}
	t.printf("  %s\n  %s\n  %s · %s\n  %s\n", r.Item.Title, r.Item.Link, r.Item.Feed, when, highlight(r.Snippet, r.Marks))
	for _, h := range hits {
		if len(hits) == 1 {
			t.printf("  matched: %s\n", strings.Join(h.Words, ", "))
		} else {
			t.printf("  %s matched: %s\n", h.Rule, strings.Join(h.Words, ", "))
		}
	}
	switch {
	case !r.Joined:
		t.printf("  story: new (an alert)\n")
	case head.title != "":
		t.printf("  story: joins %q at similarity %.2f (a reply in its thread)\n", head.title, r.Similarity)
	default:
		t.printf("  story: joins %s at similarity %.2f (a reply in its thread)\n", head.link, r.Similarity)
	}
	t.printf("\n")
	return t.maybeFlush()
}

// summary prints the counts, per day (for stored items), per feed and
// rule, and the stories of several reports.
func (t *tryWriter) summary(s *backtest.Summary, stored bool) {
	defer t.flush()
	if stored {
		window := "since " + s.Since.UTC().Format("2006-01-02 15:04 MST")
		t.printf("\n%d of %d stored items %s match", s.Matched, s.Scanned, window)
		if s.Scanned > 0 {
			t.printf(" (%d ruled out by their words without analysis", s.Skipped)
			if s.Unreadable > 0 {
				t.printf(", %d unreadable", s.Unreadable)
			}
			t.printf(")")
		}
		if !s.Complete {
			t.printf("; stopped at items seen %s", s.Through.UTC().Format("2006-01-02 15:04 MST"))
		}
		t.printf("\n")
	}
	if t.diff {
		t.printf("\nCOMPARED with -against: %d items only this version matches (ADDED), %d only -against (REMOVED), %d both\n", s.Added, s.Removed, s.Same)
	}
	if len(s.Rules) > 1 && !t.diff {
		t.counts("PER RULE (items matched)", s.Rules, 50, "rules")
	}
	if stored && len(s.Days) > 0 {
		t.printf("\nPER DAY (UTC, by first seen)\n")
		most := 1
		for _, d := range s.Days {
			most = max(most, d.Matched)
		}
		for _, d := range s.Days {
			bar := strings.Repeat("█", (d.Matched*40+most-1)/most)
			if t.diff {
				t.printf("  %s  %5d  +%d -%d  %s\n", d.Day.Format("2006-01-02 Mon"), d.Matched, d.Added, d.Removed, bar)
			} else {
				t.printf("  %s  %5d  %s\n", d.Day.Format("2006-01-02 Mon"), d.Matched, bar)
			}
		}
	}
	if stored && len(s.Feeds) > 0 {
		t.counts("PER FEED (items matched)", s.Feeds, 20, "feeds")
	}
	if len(s.Stories) > 0 {
		t.printf("\nSTORIES reported by several items (one alert each, the others in its thread; the similarity that joined each report):\n")
		for _, st := range s.Stories {
			t.printf("  %q, %d reports from %d feeds:\n", st.Items[0].Title, st.Reports, st.Feeds)
			for i, it := range st.Items {
				if i == 0 {
					t.printf("    - %s (%s): the alert\n", it.Title, it.Feed)
				} else {
					t.printf("    - %s (%s): joined at %.2f\n", it.Title, it.Feed, st.Similarity[i])
				}
			}
			if st.Reports > len(st.Items) {
				t.printf("    - … and %d more\n", st.Reports-len(st.Items))
			}
		}
	}
}

// appendJSONField appends "key":"value", as JSON.
func appendJSONField(b []byte, key, value string) []byte {
	b = appendJSONString(b, key)
	b = append(b, ':')
	b = appendJSONString(b, value)
	return append(b, ',')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does without HTML escaping (invalid UTF-8 becomes U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			default:
				b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// highlight marks the matched words of a snippet with [brackets] for the
// terminal.
func highlight(s string, marks [][2]int) string {
	var b strings.Builder
	last := 0
	for _, m := range marks {
		if m[0] < last || m[1] > len(s) || m[0] > m[1] {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString("[" + s[m[0]:m[1]] + "]")
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
