package parse

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seeds live in testdata/fuzz/FuzzXxx (small corpus files and hand-made
// cases); run a target with e.g. go test ./monitor/parse -run=^$ -fuzz=FuzzParse -fuzztime=60s

func FuzzRepairEncoding(f *testing.F) {
	f.Add([]byte("<rss>caf\xe9</rss>"), "")
	f.Add([]byte("\xff\xfe<\x00r\x00"), "text/xml; charset=utf-16")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		in := bytes.Clone(body)
		d := RepairEncoding(body, contentType)
		if !bytes.Equal(in, body) {
			t.Fatal("input modified")
		}
		if d.How == "unknown" {
			return
		}
		if !utf8.Valid(d.Body) {
			t.Fatalf("output is not UTF-8 (%s, %s): %q", d.Encoding, d.How, d.Body)
		}
		// Never convert twice: repaired output is taken as it is.
		again := RepairEncoding(d.Body, "")
		if !bytes.Equal(again.Body, d.Body) {
			t.Fatalf("repairing the output changed it (%s/%s then %s/%s):\n%q\n%q", d.Encoding, d.How, again.Encoding, again.How, d.Body, again.Body)
		}
	})
}

func FuzzRecoverDate(f *testing.F) {
	f.Add("2020/1/10 14:33:00")
	f.Add(`<time datetime="2020-01-10T14:33:00Z">x</time>`)
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := RecoverDate(s)
		if ok && (tm.Year() < 1970 || tm.Year() > 2200) {
			t.Fatalf("RecoverDate(%q) = %v", s, tm)
		}
		if !ok && !tm.IsZero() {
			t.Fatalf("RecoverDate(%q) = %v with ok=false", s, tm)
		}
	})
}

func FuzzCanonicalLink(f *testing.F) {
	f.Add("https://Example.com:443/a?b=1&utm_source=x#f")
	f.Fuzz(func(t *testing.T, s string) {
		c := CanonicalLink(s)
		if c2 := CanonicalLink(c); c2 != c {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, c, c2)
		}
		if u, err := url.Parse(c); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
			for k := range u.Query() {
				if strings.HasPrefix(strings.ToLower(k), "utm_") {
					t.Fatalf("tracking parameter kept: %q -> %q", s, c)
				}
			}
		}
	})
}

func FuzzAlternates(f *testing.F) {
	f.Add([]byte(`<link rel="alternate" type="application/rss+xml" href="/f">`), "https://example.com/")
	f.Fuzz(func(t *testing.T, page []byte, pageURL string) {
		for _, a := range Alternates(page, pageURL) {
			if !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
				t.Fatalf("alternate %q is not an absolute http(s) URL", a)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<rss version="2.0"><channel><item><title>a</title></item></channel></rss>`), "", "https://example.com/")
	f.Fuzz(func(t *testing.T, body []byte, contentType, feedURL string) {
		feed, err := Parse(body, contentType, feedURL)
		if err != nil {
			if strings.Contains(err.Error(), "parser panic") {
				t.Fatalf("panic: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, it := range feed.Items {
			if it.ID == "" || seen[it.ID] {
				t.Fatalf("item id %q empty or duplicated", it.ID)
			}
			seen[it.ID] = true
			for _, s := range []string{it.Title, it.Summary, it.Content, it.Author} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 in %q", s)
				}
			}
			if len(it.Title) > maxTitle+4 || len(it.Summary) > maxSummary+4 || len(it.Content) > maxContent+4 {
				t.Fatal("text field over its cap")
			}
		}
	})
}

func FuzzFixXMLChars(f *testing.F) {
	f.Add([]byte("a&#1;b&#x1b;c&#0;d&#xFFFF;e\uffff&#65;&#9;"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := fixXMLChars(b)
		if again := fixXMLChars(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", b, out, again)
		}
		if utf8.Valid(b) && !utf8.Valid(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q -> %q", b, out)
		}
		for i := bytes.Index(out, []byte("&#")); i >= 0; {
			if _, r, ok := charRef(out[i:]); ok && !xmlChar(r) {
				t.Fatalf("forbidden reference left at %d: %q", i, out)
			}
			j := bytes.Index(out[i+2:], []byte("&#"))
			if j < 0 {
				break
			}
			i += 2 + j
		}
	})
}
