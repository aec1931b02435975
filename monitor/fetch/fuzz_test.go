package fetch

import (
	"net/http"
	"testing"
	"time"
)

// Seeds in testdata/fuzz; run with e.g.
// go test ./monitor/fetch -run=^$ -fuzz=FuzzRetryAfter -fuzztime=30s

func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Tue, 24 Nov 2026 15:10:00 GMT")
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v, now)
		if d < 0 || d > 365*24*time.Hour {
			t.Fatalf("retryAfter(%q) = %v, outside [0, 1 year]", v, d)
		}
	})
}

func FuzzMaxAge(f *testing.F) {
	f.Add("public, max-age=900")
	f.Add(`max-age="60", no-cache`)
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{}
		h.Set("Cache-Control", v)
		if d := maxAge(h); d < 0 || d > 365*24*time.Hour {
			t.Fatalf("maxAge(%q) = %v, outside [0, 1 year]", v, d)
		}
	})
}
