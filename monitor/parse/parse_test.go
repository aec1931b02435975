package parse

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCleanItems(t *testing.T) {
	feed := `<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Desk &amp; Co</title><link>/</link><ttl>30</ttl>
<item>
 <title>&lt;b&gt;Strikes&lt;/b&gt; across the &amp;quot;line&amp;quot;</title>
 <link>../world/strikes.html</link>
 <description><![CDATA[<p>Jets <em>struck</em> targets.</p><script>alert(1)</script><p>More&nbsp;soon.</p>]]></description>
 <content:encoded><![CDATA[<div>Full <a href="/x">story</a></div>]]></content:encoded>
 <dc:creator>A. Reporter</dc:creator>
 <category>World</category><category>World</category><category>&lt;i&gt;Asia&lt;/i&gt;</category>
 <pubDate>Tue, 10 Nov 2026 09:00:00 +0500</pubDate>
</item>
</channel></rss>`
	f, err := Parse([]byte(feed), "", "https://example.com/feeds/main.xml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Title != "Desk & Co" || f.Link != "https://example.com/" || f.TTL != 30*time.Minute || f.Format != "rss" {
		t.Errorf("feed: %+v", f)
	}
	it := f.Items[0]
	if it.Title != `Strikes across the "line"` {
		t.Errorf("Title %q", it.Title)
	}
	if it.Link != "https://example.com/world/strikes.html" || it.ID != it.Link {
		t.Errorf("Link %q ID %q", it.Link, it.ID)
	}
	if it.Summary != "Jets struck targets. More soon." {
		t.Errorf("Summary %q", it.Summary)
	}
	if it.Content != "Full story" {
		t.Errorf("Content %q", it.Content)
	}
	if it.Author != "A. Reporter" || !slices.Equal(it.Categories, []string{"World", "Asia"}) {
		t.Errorf("Author %q Categories %q", it.Author, it.Categories)
	}
	if !it.Published.Equal(time.Date(2026, 11, 10, 4, 0, 0, 0, time.UTC)) || it.Published.Location() != time.UTC {
		t.Errorf("Published %v", it.Published)
	}
}

func TestSyndicationTTL(t *testing.T) {
	feed := `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>t</title><sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency></channel>
<item><title>a</title><link>https://example.com/a</link></item></rdf:RDF>`
	f, err := Parse([]byte(feed), "", "https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if f.TTL != 6*time.Hour {
		t.Errorf("TTL %v, want 6h (daily / 4)", f.TTL)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		body string
		kind ErrorKind
	}{
		{"", KindEmpty},
		{"  \n\t", KindEmpty},
		{`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a`, KindTruncated},
		{`{"version": "https://jsonfeed.org/version/1", "items": [`, KindTruncated},
		{`<rss version="2.0"><channel><![CDAx ]]></channel></rss>`, KindMalformed},
	} {
		_, err := Parse([]byte(c.body), "", "https://example.com/f")
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != c.kind {
			t.Errorf("Parse(%q) = %v, want kind %q", c.body, err, c.kind)
			continue
		}
		if !strings.Contains(err.Error(), "https://example.com/f") || !strings.Contains(err.Error(), string(c.kind)) {
			t.Errorf("message %q should name the feed and the kind", err)
		}
	}
}

func TestSizeCaps(t *testing.T) {
	long := strings.Repeat("é", 3000)
	f, err := Parse([]byte(`<rss version="2.0"><channel><item><guid>1</guid><title>`+long+`</title></item></channel></rss>`), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Items[0].Title); n > maxTitle+len("…") || !strings.HasSuffix(f.Items[0].Title, "é…") {
		t.Errorf("title of %d bytes not capped on a rune boundary", n)
	}
}

func TestTruncatedFeedKeepsCompleteItems(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Wire</title>
<item><guid>1</guid><title>First story</title></item>
<item><guid>2</guid><title>Second story</title><dc:creator>X</dc:creator></item>
<item><guid>3</guid><title>Third sto`
	f, err := Parse([]byte(body), "", "https://example.com/f")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Truncated || len(f.Items) != 2 || f.Items[1].Title != "Second story" || f.Title != "Wire" {
		t.Errorf("Truncated=%v items=%d %+v", f.Truncated, len(f.Items), f.Items)
	}
	// Cut before any complete item: an error that says truncated.
	_, err = Parse([]byte(body[:strings.Index(body, "<item>")+20]), "", "https://example.com/f")
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindTruncated {
		t.Errorf("got %v, want a truncated error", err)
	}
	// Atom too.
	atomBody := `<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>urn:1</id><title>One</title></entry><entry><id>urn:2</id><title>Tw`
	f, err = Parse([]byte(atomBody), "", "https://example.com/a")
	if err != nil || !f.Truncated || len(f.Items) != 1 || f.Items[0].ID != "urn:1" {
		t.Errorf("atom: %v %+v", err, f)
	}
}
