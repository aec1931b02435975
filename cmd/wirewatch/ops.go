package main

import (
	"net/http"
	"time"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/opsserver"
)

// slackHTTPClient is the HTTP client the notifier uses for Slack, timed and
// counted by m.
func slackHTTPClient(cfg *config.Config, m *metrics.Set) *http.Client {
	method := ""
	if cfg.Slack.Token == "" && cfg.Slack.WebhookURL != "" {
		method = metrics.MethodWebhook
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: m.SlackTransport(nil, method)}
}

// configInfo describes a loaded config for the status page and /readyz.
func configInfo(l *loaded, at time.Time) opsserver.ConfigInfo {
	feeds := make(map[string]string, len(l.feeds))
	for _, f := range l.feeds {
		feeds[f.Key] = f.Name
	}
	queries := make([]opsserver.RuleQuery, 0, len(l.rules))
	for _, r := range l.rules {
		queries = append(queries, opsserver.RuleQuery{Name: r.Name(), Query: r.Query()})
	}
	return opsserver.ConfigInfo{Path: l.cfg.Path, LoadedAt: at, Feeds: feeds, Rules: len(l.rules), RuleQueries: queries}
}

func ruleNames(l *loaded) []string {
	names := make([]string, 0, len(l.rules))
	for _, r := range l.rules {
		names = append(names, r.Name())
	}
	return names
}
