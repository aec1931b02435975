package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const acceptFeeds = "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"

func setRequestHeaders(req *http.Request, userAgent string, r Request) {
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", acceptFeeds)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	if r.ETag != "" {
		req.Header.Set("If-None-Match", r.ETag)
	}
	if r.LastModified != "" {
		req.Header.Set("If-Modified-Since", r.LastModified)
	}
}

// maxAge reads Cache-Control max-age. no-cache and no-store mean 0.
func maxAge(h http.Header) time.Duration {
	var age time.Duration
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-cache" || d == "no-store":
				return 0
			case strings.HasPrefix(d, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(d, "max-age="), `"`), 10, 64)
				if err == nil && n > 0 {
					// Cap absurd values at a year; the scheduler caps lower.
					age = time.Duration(min(n, 365*24*3600)) * time.Second
				}
			}
		}
	}
	return age
}

// retryAfter parses Retry-After: delay-seconds or an HTTP-date (relative to
// now). Malformed or past values give 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 365*24*3600)) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return min(d, 365*24*time.Hour).Round(time.Second)
}
