package parse

import (
	"strings"
	"testing"
)

func TestCanonicalLink(t *testing.T) {
	for in, want := range map[string]string{
		"https://Example.COM/story?utm_source=rss&utm_medium=feed&id=7": "https://example.com/story?id=7",
		"https://example.com/story?id=7&utm_campaign=x#comments":        "https://example.com/story?id=7",
		"https://example.com:443/story?fbclid=abc":                      "https://example.com/story",
		"http://example.com:80":                                         "http://example.com/",
		"https://example.com/a?b=2&a=1":                                 "https://example.com/a?a=1&b=2",
		"https://example.com/a?UTM_Source=x&gclid=1&mc_cid=2&page=3":    "https://example.com/a?page=3",
		"https://example.com:8443/a":                                    "https://example.com:8443/a",
		"  https://example.com/a  ":                                     "https://example.com/a",
		"not a url":                                                     "not a url",
		"/relative/path":                                                "/relative/path",
	} {
		if got := CanonicalLink(in); got != want {
			t.Errorf("CanonicalLink(%q) = %q, want %q", in, got, want)
		}
	}
}

// A publisher editing a title must not make an item new again; a link
// that only gains tracking parameters must not either.
func TestIdentityStable(t *testing.T) {
	parseOne := func(item string) Item {
		t.Helper()
		f, err := Parse([]byte(`<rss version="2.0"><channel><title>t</title>`+item+`</channel></rss>`), "", "https://example.com/feed")
		if err != nil || len(f.Items) != 1 {
			t.Fatalf("parse: %v", err)
		}
		return f.Items[0]
	}
	a := parseOne(`<item><guid isPermaLink="false">urn:story:42</guid><title>Strikes reported</title><link>https://example.com/s/42</link></item>`)
	b := parseOne(`<item><guid isPermaLink="false">urn:story:42</guid><title>UPDATE: Strikes confirmed</title><link>https://example.com/s/42?utm_source=x</link></item>`)
	if a.ID != b.ID || a.ID != "urn:story:42" {
		t.Errorf("GUID identity changed with the title: %q vs %q", a.ID, b.ID)
	}
	c := parseOne(`<item><title>Strikes reported</title><link>/s/42?utm_source=rss</link></item>`)
	d := parseOne(`<item><title>Strikes confirmed</title><link>https://EXAMPLE.com/s/42?utm_medium=social#top</link></item>`)
	if c.ID != d.ID || c.ID != "https://example.com/s/42" {
		t.Errorf("link identity: %q vs %q, want https://example.com/s/42", c.ID, d.ID)
	}
	if c.Link != "https://example.com/s/42?utm_source=rss" {
		t.Errorf("Link is shown as published (resolved): %q", c.Link)
	}
	e := parseOne(`<item><title>No link, no guid</title><description>Body text</description></item>`)
	f := parseOne(`<item><title>No link, no guid</title><description>Body text</description></item>`)
	g := parseOne(`<item><title>No link, no guid</title><description>Other text</description></item>`)
	if !strings.HasPrefix(e.ID, "sha256:") || e.ID != f.ID || e.ID == g.ID {
		t.Errorf("hash identity: %q %q %q", e.ID, f.ID, g.ID)
	}
}

func TestDuplicateAndEmptyItems(t *testing.T) {
	f, err := Parse([]byte(`<rss version="2.0"><channel><title>t</title>
<item><guid>x</guid><title>first</title></item>
<item><guid>x</guid><title>second, same guid</title></item>
<item></item>
<item><title>third</title></item>
</channel></rss>`), "", "https://example.com/feed")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range f.Items {
		titles = append(titles, it.Title)
	}
	if strings.Join(titles, "|") != "first|third" {
		t.Errorf("items %q, want the first of each id and no empty item", titles)
	}
}
