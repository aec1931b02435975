package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/monitor"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/story"
)

// tryMatch is one line of `try -json` output: one (item, rule) match.
type tryMatch struct {
	Rule    string   `json:"rule"`
	Feed    string   `json:"feed"`
	Title   string   `json:"title"`
	Link    string   `json:"link"`
	GUID    string   `json:"guid"`
	Snippet string   `json:"snippet"`
	Matched []string `json:"matched"`
	// Story is the link (else GUID) of the first matched item of the story
	// this item reports, per rule: items with the same Story would be one
	// alert with the others in its thread.
	Story string `json:"story"`
}

// tryStory is one story as try would group it: the reports of one event.
type tryStory struct {
	rule    string
	reports []string
}

// cmdTry runs a rule (-query), a configured rule (-rule) or all configured
// rules over feed files or URLs and shows which items match and why.
func cmdTry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("try", stderr)
	path := fs.String("config", "", "configuration file; its rules are used unless -query is given")
	query := fs.String("query", "", "a rule to try, in the rule language")
	ruleName := fs.String("rule", "", "the name of one configured rule to try")
	asJSON := fs.Bool("json", false, "print one JSON object per (item, rule) match")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wirewatch try [-config FILE] [-query 'RULE' | -rule NAME] [-json] SOURCE...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	sources := fs.Args()
	if len(sources) == 0 {
		return usagef("give at least one feed file or URL to try")
	}
	if *query != "" && *ruleName != "" {
		return usagef("give -query or -rule, not both")
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
	for _, r := range rs {
		for _, w := range r.Warnings() {
			fmt.Fprintf(stderr, "warning: rule %q: column %d: %s\n", r.Name(), w.Col, w.Msg)
		}
	}
	ix := rules.NewIndex(rs)
	analyzer := rules.NewAnalyzer()

	if cfg == nil {
		cfg = &config.Config{Fetch: config.Fetch{Timeout: config.DefaultTimeout, MaxBodyBytes: config.DefaultMaxBodyBytes, MaxRedirects: config.DefaultMaxRedirects, PerHost: config.DefaultPerHost}}
	}
	stories := story.New(story.Options{})
	storyByID := map[string]*tryStory{}
	var storyOrder []string
	now := time.Now()
	var fetcher *fetch.Fetcher
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	failed, total := 0, 0
	for _, src := range sources {
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
			b, err := os.ReadFile(src)
			if err != nil {
				fmt.Fprintf(stderr, "%v\n", err)
				failed++
				continue
			}
			abs, _ := filepath.Abs(src)
			body, base = b, (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
			contentType = mime.TypeByExtension(filepath.Ext(src))
		}
		shown := redact.URL(src) // a URL's user info and query values stay secret
		doc, err := parse.Parse(body, contentType, base)
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
		f := monitor.Feed{Name: feedName, URL: base}
		matched := 0
		for i := range doc.Items {
			it := &doc.Items[i]
			a := analyzer.Analyze(monitor.Document(f, it))
			for _, m := range ix.Match(a) {
				matched++
				snippet, marks := rules.Snippet(a, m.Spans, 300)
				words := rules.MatchedWords(a, m.Spans)
				key := it.Link
				if key == "" {
					key = it.GUID
				}
				// Stories are grouped per rule, as each rule's channel would.
				sid, _, _ := stories.Group(key, m.Rule.Name(), story.SignAnalyzed(a), now)
				ts := storyByID[m.Rule.Name()+"\x00"+sid]
				if ts == nil {
					ts = &tryStory{rule: m.Rule.Name()}
					storyByID[m.Rule.Name()+"\x00"+sid] = ts
					storyOrder = append(storyOrder, m.Rule.Name()+"\x00"+sid)
				}
				ts.reports = append(ts.reports, fmt.Sprintf("%s (%s)", it.Title, feedName))
				if *asJSON {
					if err := enc.Encode(tryMatch{Rule: m.Rule.Name(), Feed: feedName, Title: it.Title, Link: it.Link, GUID: it.GUID, Snippet: snippet, Matched: words, Story: sid}); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(stdout, "MATCH %q\n  %s\n  %s\n  %s\n  matched: %s\n\n", m.Rule.Name(), it.Title, it.Link, highlight(snippet, marks), strings.Join(words, ", "))
			}
			a.Release()
		}
		total += matched
		if !*asJSON {
			fmt.Fprintf(stdout, "%s: %d items, %d matches\n", shown, len(doc.Items), matched)
		}
	}
	if !*asJSON {
		printed := false
		for _, k := range storyOrder {
			ts := storyByID[k]
			if len(ts.reports) < 2 {
				continue
			}
			if !printed {
				fmt.Fprintln(stdout, "\nSTORIES reported by several items (one alert each, the others in its thread):")
				printed = true
			}
			fmt.Fprintf(stdout, "  %q, %d reports:\n", ts.rule, len(ts.reports))
			for _, r := range ts.reports {
				fmt.Fprintf(stdout, "    - %s\n", r)
			}
		}
	}
	if failed == len(sources) {
		return exitError(1)
	}
	return nil
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
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
