package metrics

import (
	"net/http"
	"path"
	"time"
)

// SlackTransport wraps next (nil: http.DefaultTransport) so that every
// request to Slack is recorded with SlackRequest: latency, status class and
// 429s. method labels every request (e.g. MethodWebhook for an incoming
// webhook client); "" derives it from the Web API URL path
// (".../api/chat.postMessage"), with unknown methods as MethodOther. The URL
// itself (which for a webhook is a secret) is never recorded.
// A nil Set returns next unchanged.
func (s *Set) SlackTransport(next http.RoundTripper, method string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if s == nil {
		return next
	}
	return &slackTransport{s: s, next: next, method: method}
}

type slackTransport struct {
	s      *Set
	next   http.RoundTripper
	method string
}

func (t *slackTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m := t.method
	if m == "" {
		m = path.Base(req.URL.Path)
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.s.SlackRequest(m, time.Since(start), status)
	return resp, err
}
