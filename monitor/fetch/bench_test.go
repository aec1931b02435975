package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// go test ./monitor/fetch -run '^$' -bench Fetch -benchmem
func BenchmarkFetch(b *testing.B) {
	body := []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` +
		strings.Repeat(`<item><title>A story about something that happened</title><link>https://example.com/s</link><description>Some words of summary text, repeated to make a realistic item of a few hundred bytes. Some words of summary text.</description></item>`, 500) +
		`</channel></rss>`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz.Bytes())
	}))
	defer srv.Close()
	f := newLocalB(b)
	ctx := context.Background()
	b.Run("200-gzip", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := f.Fetch(ctx, Request{URL: srv.URL})
			if err != nil || len(res.Body) != len(body) {
				b.Fatal(err)
			}
		}
	})
	b.Run("304", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := f.Fetch(ctx, Request{URL: srv.URL, ETag: `"v1"`})
			if err != nil || !res.NotModified {
				b.Fatal(err)
			}
		}
	})
}

func newLocalB(b *testing.B) *Fetcher {
	b.Helper()
	return New(Options{AllowCIDRs: onlyLocalhost})
}
