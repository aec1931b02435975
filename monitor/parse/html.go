package parse

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// looksLikeHTML reports whether a (UTF-8, cleaned) body is an HTML page:
// an HTML doctype or an <html> root, possibly after comments and
// processing instructions, or an HTML Content-Type with no XML root.
func looksLikeHTML(b []byte, contentType string) bool {
	head := bytes.ToLower(b[:min(len(b), 2048)])
	i := 0
	for i < len(head) {
		rest := bytes.TrimLeft(head[i:], " \t\r\n")
		i = len(head) - len(rest)
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest, []byte("-->"))
			if end < 0 {
				return false
			}
			i += end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 {
				return false
			}
			i += end + 2
		case bytes.HasPrefix(rest, []byte("<!doctype html")),
			bytes.HasPrefix(rest, []byte("<html")):
			return true
		default:
			ct := strings.ToLower(contentType)
			return strings.HasPrefix(ct, "text/html") && !bytes.HasPrefix(rest, []byte("<rss")) &&
				!bytes.HasPrefix(rest, []byte("<feed")) && !bytes.HasPrefix(rest, []byte("<rdf")) &&
				!bytes.HasPrefix(rest, []byte("{"))
		}
	}
	return false
}

// feedTypes are the <link rel="alternate" type=...> values that advertise
// a feed.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
	"application/json":      true,
	"application/rdf+xml":   true,
	"application/xml":       true,
	"text/xml":              true,
}

// Alternates returns the feeds an HTML page advertises with
// <link rel="alternate" type="application/rss+xml|atom+xml|feed+json" ...>,
// as absolute URLs resolved against pageURL (and the page's <base href>),
// in document order, without duplicates. Links in <body> count too (some
// sites, YouTube among them, put them there).
func Alternates(page []byte, pageURL string) []string {
	base, _ := url.Parse(pageURL)
	z := html.NewTokenizer(bytes.NewReader(page))
	var out []string
	seen := map[string]bool{}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if !hasAttr || (a != atom.Link && a != atom.Base) {
				continue
			}
			attrs := map[string]string{}
			for {
				k, v, more := z.TagAttr()
				attrs[string(k)] = string(v)
				if !more {
					break
				}
			}
			if a == atom.Base {
				if h := strings.TrimSpace(attrs["href"]); h != "" {
					if b, err := resolve(base, h); err == nil {
						base = b
					}
				}
				continue
			}
			if !hasToken(attrs["rel"], "alternate") && !hasToken(attrs["rel"], "feed") {
				continue
			}
			typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
			if i := strings.IndexByte(typ, ';'); i >= 0 {
				typ = strings.TrimSpace(typ[:i])
			}
			if !feedTypes[typ] && !(typ == "" && hasToken(attrs["rel"], "feed")) {
				continue
			}
			href := strings.TrimSpace(attrs["href"])
			if href == "" {
				continue
			}
			u, err := resolve(base, href)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				continue
			}
			s := u.String()
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
}

func hasToken(list, tok string) bool {
	for f := range strings.FieldsSeq(strings.ToLower(list)) {
		if f == tok {
			return true
		}
	}
	return false
}

func resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	if base == nil {
		return r, nil
	}
	return base.ResolveReference(r), nil
}
