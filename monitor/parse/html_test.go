package parse

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestHTMLPage(t *testing.T) {
	page := `<!DOCTYPE html>
<html><head>
<base href="/news/">
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="rss.xml">
<link rel="alternate" type="application/atom+xml" href="https://cdn.example.org/atom">
<link rel="alternate" type="application/feed+json" href="/feed.json">
<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="rss.xml">
</head><body><p>hello</p>
<link rel="alternate" type="application/rss+xml" href="/body-feed">
</body></html>`
	_, err := Parse([]byte(page), "text/html; charset=utf-8", "https://example.com/site/index.html")
	var nf *NotFeedError
	if !errors.As(err, &nf) || !nf.HTML {
		t.Fatalf("got %v, want an HTML page error", err)
	}
	want := []string{
		"https://example.com/news/rss.xml",
		"https://cdn.example.org/atom",
		"https://example.com/feed.json",
		"https://example.com/body-feed",
	}
	if !slices.Equal(nf.Alternates, want) {
		t.Errorf("alternates %q, want %q", nf.Alternates, want)
	}
	msg := err.Error()
	if !strings.Contains(msg, "this is an HTML page") || !strings.Contains(msg, "https://example.com/news/rss.xml") ||
		!strings.Contains(msg, "https://example.com/site/index.html") {
		t.Errorf("message %q", msg)
	}
}

func TestHTMLDetection(t *testing.T) {
	for _, c := range []struct {
		body, ct string
		html     bool
	}{
		{"<!doctype html><title>x</title>", "", true},
		{"<!-- hi --><?php ?>\n<HTML><body>", "", true},
		{"<div>hello</div>", "text/html", true},
		{"<note>x</note>", "application/xml", false},
		{"<rss version=\"2.0\"></rss>", "text/html", false},
		{"plain text", "text/plain", false},
	} {
		if got := looksLikeHTML([]byte(c.body), c.ct); got != c.html {
			t.Errorf("looksLikeHTML(%q, %q) = %v", c.body, c.ct, got)
		}
	}
	_, err := Parse([]byte("<note><to>x</to></note>"), "application/xml", "https://example.com/x")
	var nf *NotFeedError
	if !errors.As(err, &nf) || nf.HTML {
		t.Errorf("XML that is no feed: %v", err)
	}
}
