package opsserver

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/store"
)

// feedRow is one feed on the status page.
type feedRow struct {
	Key, Name   string
	URL         string // redacted: no user info, no query values (redact.URL)
	Health      string // ok, failing, new
	LastSuccess string
	ErrorStreak int
	Failing     string // since when
	LastError   string
	NextDue     string
	Polls       int64
	Ratio304    string
	Items24h    int
}

type alertRow struct {
	Created, State, Channel, Rule, Feed, Title, Link, Error, Sent string
	Attempts                                                      int
}

type statusPage struct {
	Version     string
	Now         string
	Config      *ConfigInfo
	ConfigAt    string
	ReloadErr   string
	ReloadErrAt string
	Draining    bool
	FeedsErr    string
	AlertsErr   string
	Feeds       []feedRow
	Failing     int
	Alerts      []alertRow
	Failed      []alertRow
	AlertLimit  int
}

// status renders the read-only status page.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	now := s.o.Now()
	s.mu.RLock()
	p := statusPage{
		Version: s.o.Version, Now: now.UTC().Format("2006-01-02 15:04:05Z"),
		Config: s.cfg, ReloadErr: s.reloadErr, Draining: s.draining, AlertLimit: s.o.Alerts,
	}
	if !s.reloadErrT.IsZero() {
		p.ReloadErrAt = when(s.reloadErrT, now)
	}
	p.ReloadErr = redact.Text(p.ReloadErr)
	s.mu.RUnlock()
	if p.Config != nil {
		p.ConfigAt = when(p.Config.LoadedAt, now)
	}
	if s.o.Source != nil {
		feeds, err := s.o.Source.Feeds(ctx)
		if err != nil {
			p.FeedsErr = oneLine(err.Error(), 300)
			s.log.Warn("status page: reading feeds", "err", err)
		}
		for _, f := range feeds {
			row := newFeedRow(f, now)
			if p.Config != nil {
				row.Name = p.Config.Feeds[f.Key]
			}
			if row.Health == "failing" {
				p.Failing++
			}
			p.Feeds = append(p.Feeds, row)
		}
		// Failing feeds first, longest streak first; then by key.
		slices.SortStableFunc(p.Feeds, func(a, b feedRow) int {
			return cmp.Or(cmp.Compare(b.ErrorStreak, a.ErrorStreak), cmp.Compare(a.Key, b.Key))
		})
		alerts, err := s.o.Source.Alerts(ctx, store.AlertFilter{Limit: s.o.Alerts})
		if err != nil {
			p.AlertsErr = oneLine(err.Error(), 300)
			s.log.Warn("status page: reading alerts", "err", err)
		}
		for _, a := range alerts {
			p.Alerts = append(p.Alerts, newAlertRow(a, now))
		}
		failed, err := s.o.Source.Alerts(ctx, store.AlertFilter{State: store.StateFailed, Limit: 10})
		if err != nil && p.AlertsErr == "" {
			p.AlertsErr = oneLine(err.Error(), 300)
		}
		for _, a := range failed {
			p.Failed = append(p.Failed, newAlertRow(a, now))
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if err := statusTmpl.Execute(w, p); err != nil {
		s.log.Warn("status page: rendering", "err", err)
	}
}

func newFeedRow(f store.FeedState, now time.Time) feedRow {
	row := feedRow{
		Key: f.Key, URL: redact.URL(f.URL), ErrorStreak: f.ErrorStreak,
		LastError: oneLine(redact.Text(f.LastError), 300), Polls: f.Polls, Items24h: f.ItemsLast24h,
		LastSuccess: when(f.LastSuccess, now), NextDue: when(f.NextDue, now),
	}
	switch {
	case f.ErrorStreak > 0:
		row.Health = "failing"
		row.Failing = when(f.FailingSince, now)
	case f.LastSuccess.IsZero():
		row.Health = "new"
	default:
		row.Health = "ok"
	}
	if f.Polls > 0 {
		row.Ratio304 = fmt.Sprintf("%.0f%%", 100*float64(f.NotModified)/float64(f.Polls))
	} else {
		row.Ratio304 = "–"
	}
	return row
}

func newAlertRow(a store.Alert, now time.Time) alertRow {
	row := alertRow{
		Created: when(a.CreatedAt, now), State: a.State, Channel: a.Channel, Rule: a.Rule,
		Feed: a.FeedName, Title: oneLine(a.Title, 200), Link: a.Link,
		Error: oneLine(redact.Text(a.LastError), 200), Attempts: a.Attempts,
	}
	if a.Kind == store.KindOps {
		row.Rule, row.Title = "(ops)", oneLine(redact.Text(a.Text), 200)
	}
	if row.Feed == "" {
		row.Feed = a.FeedKey
	}
	if !a.SentAt.IsZero() {
		row.Sent = when(a.SentAt, now)
	}
	if u, err := url.Parse(a.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		row.Link = "" // shown as text, never as a link
	}
	return row
}

// when formats t as a UTC time with how long ago (or ahead) it is.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	rel := ""
	switch {
	case d >= 0:
		rel = short(d) + " ago"
	default:
		rel = "in " + short(-d)
	}
	return t.UTC().Format("2006-01-02 15:04:05Z") + " (" + rel + ")"
}

func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

var statusTmpl = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wirewatch status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.failing{color:#b00;font-weight:bold}.ok{color:#070}.new{color:#666}
.err{color:#b00;max-width:40em}.muted{color:#666}
</style></head><body>
<h1>Wirewatch</h1>
<p class="muted">version {{.Version}} · {{.Now}}{{if .Draining}} · <span class="failing">shutting down</span>{{end}} · <a href="/try">rule playground</a></p>
{{with .Config}}<p>Configuration <code>{{.Path}}</code> loaded {{$.ConfigAt}}: {{len .Feeds}} feeds, {{.Rules}} rules.</p>
{{else}}<p class="failing">No configuration loaded.</p>{{end}}
{{if .ReloadErr}}<p class="err">Last reload rejected {{.ReloadErrAt}}, the configuration above keeps running: {{.ReloadErr}}</p>{{end}}

<h2 id="feeds">Feeds ({{len .Feeds}}{{if .Failing}}, <span class="failing">{{.Failing}} failing</span>{{end}})</h2>
{{if .FeedsErr}}<p class="err">Cannot read feeds: {{.FeedsErr}}</p>{{end}}
<table><thead><tr><th>Feed</th><th>Health</th><th>Last success</th><th>Errors</th><th>Last error</th><th>Next due</th><th>Polls</th><th>304</th><th>Items 24h</th></tr></thead><tbody>
{{range .Feeds}}<tr><td>{{if .Name}}{{.Name}}<br>{{end}}<span class="muted">{{.Key}} · {{.URL}}</span></td>
<td class="{{.Health}}">{{.Health}}</td><td>{{.LastSuccess}}</td>
<td>{{if .ErrorStreak}}{{.ErrorStreak}} since {{.Failing}}{{else}}0{{end}}</td>
<td class="err">{{.LastError}}</td><td>{{.NextDue}}</td><td>{{.Polls}}</td><td>{{.Ratio304}}</td><td>{{.Items24h}}</td></tr>
{{else}}<tr><td colspan="9" class="muted">No feeds.</td></tr>{{end}}
</tbody></table>

<h2 id="alerts">Last alerts (up to {{.AlertLimit}})</h2>
{{if .AlertsErr}}<p class="err">Cannot read alerts: {{.AlertsErr}}</p>{{end}}
{{template "alerts" .Alerts}}
{{if .Failed}}<h2 id="failed">Failed alerts</h2>{{template "alerts" .Failed}}{{end}}
</body></html>
{{define "alerts"}}<table><thead><tr><th>Queued</th><th>State</th><th>Channel</th><th>Rule</th><th>Feed</th><th>Title</th><th>Attempts</th><th>Sent</th><th>Last error</th></tr></thead><tbody>
{{range .}}<tr><td>{{.Created}}</td><td>{{.State}}</td><td>{{.Channel}}</td><td>{{.Rule}}</td><td>{{.Feed}}</td>
<td>{{if .Link}}<a href="{{.Link}}" rel="noopener noreferrer">{{.Title}}</a>{{else}}{{.Title}}{{end}}</td>
<td>{{.Attempts}}</td><td>{{.Sent}}</td><td class="err">{{.Error}}</td></tr>
{{else}}<tr><td colspan="9" class="muted">No alerts.</td></tr>{{end}}
</tbody></table>{{end}}
`))
