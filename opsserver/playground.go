package opsserver

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/rules"
)

// The rule playground: /try is a page where an editor types a rule and
// sees, as they type, the parse error at its place or what the rule would
// have matched among the stored items (backtest), with the matched words,
// a chart per day, the largest stories and the same warnings as `wirewatch
// check`. It reads only: nothing typed is saved.
//
// The page works without JavaScript (a GET form); try.js fetches
// /try/results as the editor types (debounced), cancelling the request
// before it. Each request has a deadline and a cap on what it returns, and
// at most playgroundSlots run at once.

//go:embed playground.js
var playgroundJS []byte

//go:embed playground.css
var playgroundCSS []byte

const (
	// DefaultTryTimeout bounds one playground request.
	DefaultTryTimeout = 5 * time.Second
	playgroundSlots   = 2   // backtests running at once; others wait their turn
	playgroundLatest  = 100 // matches listed
	playgroundStories = 5
	playgroundFeeds   = 10
	maxQueryBytes     = 4096
)

// playgroundCSP is the status page's policy, with the page's own script,
// style sheet and requests allowed (no inline script or style).
const playgroundCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// RuleQuery is a configured rule, offered as a starting point.
type RuleQuery struct{ Name, Query string }

type playground struct {
	src     backtest.Source
	window  time.Duration
	timeout time.Duration
	z       *rules.Analyzer
	slots   chan struct{}
	now     func() time.Time
}

func newPlayground(o Options) *playground {
	p := &playground{src: o.Texts, window: o.TextWindow, timeout: o.TryTimeout, z: rules.NewAnalyzer(), slots: make(chan struct{}, playgroundSlots), now: o.Now}
	if p.timeout <= 0 {
		p.timeout = DefaultTryTimeout
	}
	return p
}

// queryError is a rule that does not compile, shown at its place.
type queryError struct {
	Which             string // "Rule" or "Other version"
	Line, Col, Offset int
	Msg               string
	Before, At, After string
	AtEnd             bool
}

type segment struct {
	Text string
	Mark bool
}

type matchRow struct {
	Title, Link, Feed, Seen string
	Snippet                 []segment
	Words                   string
	Change                  string // with a comparison: added, removed
}

type bar struct {
	X, Y, W, H, TextY int
	Count, Added, Rem int
	Label, Title      string
}

type storyRow struct {
	Title, Link string
	Reports     int
	Feeds       int
	Others      []string
}

type playgroundResults struct {
	Empty    bool
	Unusable string // no stored text, say
	Error    *queryError
	Warnings []string
	Window   string
	Compare  bool
	Scanned  int
	Skipped  int
	Matched  int
	Added    int
	Removed  int
	Same     int
	Complete bool
	Through  string
	Elapsed  string
	ChartW   int
	ChartH   int
	Bars     []bar
	Feeds    []backtest.Count
	Stories  []storyRow
	Matches  []matchRow
	Shown    int
}

type playgroundPage struct {
	Query, Against string
	Window         string
	Rules          []RuleQuery
	Results        playgroundResults
}

// playgroundPage serves /try.
func (s *Server) playgroundPage(w http.ResponseWriter, r *http.Request) {
	q, against := r.FormValue("q"), r.FormValue("against")
	page := playgroundPage{Query: q, Against: against, Window: s.play.windowLabel()}
	s.mu.RLock()
	if s.cfg != nil {
		page.Rules = s.cfg.RuleQueries
	}
	s.mu.RUnlock()
	page.Results = s.play.run(r.Context(), q, against)
	setPlaygroundHeaders(w, "text/html; charset=utf-8")
	if err := playgroundTmpl.ExecuteTemplate(w, "page", page); err != nil {
		s.log.Warn("playground: rendering", "err", err)
	}
}

// playgroundResults serves /try/results: the results part of the page,
// for the page's script.
func (s *Server) playgroundResults(w http.ResponseWriter, r *http.Request) {
	res := s.play.run(r.Context(), r.FormValue("q"), r.FormValue("against"))
	if r.Context().Err() != nil {
		return // the editor typed on; nobody reads this answer
	}
	setPlaygroundHeaders(w, "text/html; charset=utf-8")
	if err := playgroundTmpl.ExecuteTemplate(w, "results", res); err != nil {
		s.log.Warn("playground: rendering", "err", err)
	}
}

func (s *Server) playgroundAsset(body []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPlaygroundHeaders(w, contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	}
}

func setPlaygroundHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", playgroundCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func (p *playground) windowLabel() string {
	switch {
	case p.window <= 0:
		return ""
	case p.window%(24*time.Hour) == 0:
		if d := p.window / (24 * time.Hour); d != 1 {
			return fmt.Sprintf("%d days", d)
		}
		return "day"
	}
	return p.window.String()
}

// compile compiles a typed rule, or describes where it is wrong.
func compile(which, q string) (*rules.Rule, *queryError) {
	if len(q) > maxQueryBytes {
		return nil, &queryError{Which: which, Msg: fmt.Sprintf("the rule is longer than %d bytes", maxQueryBytes), Line: 1, Col: 1, After: q[:64] + "…"}
	}
	r, err := rules.Compile("playground", q)
	if err == nil {
		return r, nil
	}
	qe := &queryError{Which: which, Msg: err.Error(), Line: 1, Col: 1, After: q}
	var re *rules.Error
	if errors.As(err, &re) {
		off := min(max(re.Offset, 0), len(q))
		qe.Msg, qe.Offset = re.Msg, off
		qe.Before = q[:off]
		if off < len(q) {
			_, size := utf8.DecodeRuneInString(q[off:])
			qe.At, qe.After = q[off:off+size], q[off+size:]
		} else {
			qe.AtEnd, qe.After = true, ""
		}
		qe.Line = 1 + strings.Count(q[:off], "\n")
		qe.Col = 1 + utf8.RuneCountInString(q[strings.LastIndex(q[:off], "\n")+1:off])
	}
	return nil, qe
}

// run compiles and backtests the typed rule (and the version to compare
// with), within the deadline and the server's slots.
func (p *playground) run(ctx context.Context, q, against string) playgroundResults {
	res := playgroundResults{Window: p.windowLabel()}
	if strings.TrimSpace(q) == "" {
		res.Empty = true
		return res
	}
	r, qe := compile("Rule", q)
	if qe != nil {
		res.Error = qe
		return res
	}
	var old *rules.Rule
	if strings.TrimSpace(against) != "" {
		if old, qe = compile("Other version", against); qe != nil {
			res.Error = qe
			return res
		}
		res.Compare = true
	}
	for _, rr := range []*rules.Rule{r, old} {
		if rr == nil {
			continue
		}
		for _, w := range rr.Warnings() {
			prefix := ""
			if rr == old {
				prefix = "Other version: "
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("%scolumn %d: %s", prefix, w.Col, w.Msg))
		}
	}
	if p.src == nil || p.window <= 0 {
		res.Unusable = "This Wirewatch keeps no item texts ([store] keep_text is 0), so there is nothing to try the rule on."
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		res.Unusable = "The server is busy with other tries; try again in a moment."
		return res
	}
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	start := time.Now()
	sum, err := backtest.Run(ctx, p.src, []*rules.Rule{r}, backtest.Options{
		Since: now.Add(-p.window), Against: old, Latest: playgroundLatest, Stories: playgroundStories, Analyzer: p.z, SnippetRunes: 240,
	}, nil)
	if sum == nil {
		res.Unusable = "Cannot read the stored items: " + oneLine(err.Error(), 200)
		return res
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		res.Unusable = "Reading the stored items failed: " + oneLine(err.Error(), 200)
	}
	res.Elapsed = time.Since(start).Round(time.Millisecond).String()
	res.fill(sum, now)
	return res
}

// fill turns a backtest summary into what the page shows.
func (res *playgroundResults) fill(sum *backtest.Summary, now time.Time) {
	res.Scanned, res.Skipped, res.Matched = sum.Scanned, sum.Skipped, sum.Matched
	res.Added, res.Removed, res.Same = sum.Added, sum.Removed, sum.Same
	res.Complete = sum.Complete
	if !sum.Through.IsZero() {
		res.Through = sum.Through.UTC().Format("2006-01-02 15:04 MST")
	}
	// Per-day bars.
	const barW, gap, h, top = 36, 8, 90, 14
	most := 1
	for _, d := range sum.Days {
		most = max(most, d.Matched)
	}
	for i, d := range sum.Days {
		bh := 0
		if d.Matched > 0 {
			bh = max(2, d.Matched*h/most)
		}
		b := bar{X: i * (barW + gap), W: barW, H: bh, Y: top + h - bh, Count: d.Matched, Added: d.Added, Rem: d.Removed, Label: d.Day.Format("Mon 2")}
		b.TextY = b.Y - 3
		b.Title = fmt.Sprintf("%s: %d matching items", d.Day.Format("Monday 2 January"), d.Matched)
		if res.Compare {
			b.Title += fmt.Sprintf(" (%d only this version, %d only the other)", d.Added, d.Removed)
		}
		res.Bars = append(res.Bars, b)
	}
	res.ChartW, res.ChartH = max(len(sum.Days)*(barW+gap), barW), top+h+18
	res.Feeds = sum.Feeds[:min(len(sum.Feeds), playgroundFeeds)]
	for _, st := range sum.Stories {
		row := storyRow{Title: st.Items[0].Title, Link: safeLink(st.Items[0].Link), Reports: st.Reports, Feeds: st.Feeds}
		for _, it := range st.Items[1:] {
			row.Others = append(row.Others, it.Title+" ("+it.Feed+")")
		}
		res.Stories = append(res.Stories, row)
	}
	// Newest first.
	for i := len(sum.Latest) - 1; i >= 0; i-- {
		l := sum.Latest[i]
		var words []string
		for _, h := range l.Hits[:1] {
			words = h.Words
		}
		m := matchRow{Title: l.Item.Title, Link: safeLink(l.Item.Link), Feed: l.Item.Feed, Seen: when(l.Item.Seen, now), Snippet: segments(l.Snippet, l.Marks), Words: strings.Join(words, ", ")}
		if res.Compare {
			m.Change = l.Change.String()
		}
		res.Matches = append(res.Matches, m)
	}
	res.Shown = len(res.Matches)
}

// segments splits a snippet at its marks.
func segments(s string, marks [][2]int) []segment {
	var out []segment
	last := 0
	for _, m := range marks {
		if m[0] < last || m[1] > len(s) || m[0] >= m[1] {
			continue
		}
		if m[0] > last {
			out = append(out, segment{Text: s[last:m[0]]})
		}
		out = append(out, segment{Text: s[m[0]:m[1]], Mark: true})
		last = m[1]
	}
	if last < len(s) {
		out = append(out, segment{Text: s[last:]})
	}
	return out
}

// safeLink keeps http(s) links only; anything else is shown as text.
func safeLink(l string) string {
	if u, err := url.Parse(l); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return l
}

var playgroundTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"add": func(a, b int) int { return a + b }}).Parse(`{{define "page"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wirewatch rule playground</title>
<link rel="stylesheet" href="/try.css">
<script src="/try.js" defer></script>
</head><body>
<h1>Rule playground</h1>
<p class="muted">Type a rule: what it would have matched among the items of the last {{if .Window}}{{.Window}}{{else}}days{{end}} shows as you type. Nothing here is saved. <a href="/">Status</a></p>
<form id="try" method="get" action="/try">
<label for="q">Rule</label>
<textarea id="q" name="q" rows="4" spellcheck="false" autocomplete="off" autofocus placeholder="(Pakistan OR Afghanistan) AND strike NOT cricket">{{.Query}}</textarea>
<details id="compare"{{if .Against}} open{{end}}><summary>Compare with another version</summary>
<label for="against">Other version (the rule in use, say): the page then shows the items only one of the two matches</label>
<textarea id="against" name="against" rows="3" spellcheck="false" autocomplete="off">{{.Against}}</textarea>
</details>
{{if .Rules}}<p><label for="start">Start from a configured rule</label>
<select id="start"><option value="">(choose)</option>{{range .Rules}}<option value="{{.Query}}">{{.Name}}</option>{{end}}</select></p>{{end}}
<p><button type="submit">Try</button> <span id="status" role="status"></span></p>
</form>
<div id="results" aria-live="polite">{{template "results" .Results}}</div>
</body></html>{{end}}

{{define "results"}}{{if .Error}}<div class="error" id="error" data-line="{{.Error.Line}}" data-col="{{.Error.Col}}" data-offset="{{.Error.Offset}}">
<p><strong>{{.Error.Which}}, line {{.Error.Line}}, column {{.Error.Col}}:</strong> <span class="msg">{{.Error.Msg}}</span></p>
<pre class="query">{{.Error.Before}}<mark class="at">{{if .Error.AtEnd}} {{else}}{{.Error.At}}{{end}}</mark>{{.Error.After}}</pre></div>
{{else if .Empty}}<p class="muted" id="empty">Type a rule above to see what it would have matched.</p>
{{else}}{{with .Warnings}}<ul class="warnings" id="warnings">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Unusable}}<p class="error" id="unusable">{{.Unusable}}</p>{{else}}
<p id="summary" data-matched="{{.Matched}}" data-scanned="{{.Scanned}}"><strong>{{.Matched}}</strong> of {{.Scanned}} items of the last {{.Window}} match{{if .Compare}}: <span class="added">{{.Added}} only with this version</span>, <span class="removed">{{.Removed}} only with the other</span>, {{.Same}} with both{{end}}. <span class="muted">({{.Skipped}} ruled out by their words without analysis; {{.Elapsed}})</span>
{{if not .Complete}}<br><span class="error">Stopped at the deadline: items seen up to {{.Through}} were read.</span>{{end}}</p>
{{if .Bars}}<svg id="chart" class="chart" width="{{.ChartW}}" height="{{.ChartH}}" viewBox="0 0 {{.ChartW}} {{.ChartH}}" role="img" aria-label="matching items per day">
{{range .Bars}}<g class="day" data-count="{{.Count}}"><title>{{.Title}}</title><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#3868b0"></rect>
<text x="{{.X}}" y="{{.TextY}}" font-size="10" fill="#222">{{.Count}}</text><text x="{{.X}}" y="{{$.ChartH}}" dy="-4" font-size="9" fill="#666">{{.Label}}</text></g>
{{end}}</svg>{{end}}
{{if .Matches}}<h2>{{if .Compare}}Items only one version matches{{if gt (add .Added .Removed) .Shown}} (the latest {{.Shown}}){{end}}{{else}}Matches{{if gt .Matched .Shown}} (the latest {{.Shown}}){{end}}{{end}}</h2>
<ol id="matches" class="matches">{{range .Matches}}<li class="match{{if .Change}} {{.Change}}{{end}}">{{if .Change}}<span class="badge">{{if eq .Change "added"}}only this version{{else if eq .Change "removed"}}only the other version{{end}}</span> {{end}}{{if .Link}}<a href="{{.Link}}" rel="noopener noreferrer">{{.Title}}</a>{{else}}{{.Title}}{{end}}
<div class="muted">{{.Feed}} · {{.Seen}}</div>
<p class="snippet">{{range .Snippet}}{{if .Mark}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}</p>
<div class="words muted">matched: {{.Words}}</div></li>
{{end}}</ol>{{end}}
{{if .Stories}}<h2>Stories of several reports</h2><ul id="stories">{{range .Stories}}<li>{{if .Link}}<a href="{{.Link}}" rel="noopener noreferrer">{{.Title}}</a>{{else}}{{.Title}}{{end}}: {{.Reports}} reports from {{.Feeds}} feeds{{with .Others}}<ul>{{range .}}<li class="muted">{{.}}</li>{{end}}</ul>{{end}}</li>{{end}}</ul>{{end}}
{{if .Feeds}}<h2>Per feed</h2><table id="feeds"><tbody>{{range .Feeds}}<tr><td>{{.Name}}</td><td>{{.Items}}</td></tr>{{end}}</tbody></table>{{end}}
{{end}}{{end}}{{end}}`))
