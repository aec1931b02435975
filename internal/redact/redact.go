// Package redact owns how a URL is shown to people: in logs, on the status
// page, in the store's last_error and on the terminal. Feed URLs carry
// publishers' secrets in two places, the user info
// (http://user:password@host/) and the query (?apikey=...), so both are
// hidden while the scheme, host and path, which tell an operator which
// feed it is, stay.
//
// URL redacts one URL; Text redacts every URL inside a message, such as an
// error that wraps Go's *url.Error ("Get \"http://...\": ..."). Both are
// safe on anything, parsable or not, and idempotent.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces each hidden part.
const Mask = "REDACTED"

// URL returns raw with its user info replaced by Mask and the value of
// every query parameter (and of the fragment's) replaced by Mask:
//
//	http://u:PASS@host/x?apikey=KEY&lang=en  ->  http://REDACTED@host/x?apikey=REDACTED&lang=REDACTED
//
// A parameter without a value ("?KEY") is replaced whole. A string that
// does not parse as a URL is redacted by its text (see byText).
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || (strings.Contains(raw, "://") && (u.Scheme == "" || u.Host == "")) {
		return byText(raw)
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		return raw
	}
	return rebuild(raw, maskValue)
}

// rebuild cuts u where url.Parse does (fragment at the first "#", query at
// the first "?" before it, user info up to the last "@" of the authority),
// masks the user info, passes each query and fragment parameter through
// param, and puts it back together: the rest stays exactly as written.
func rebuild(u string, param func(string) string) string {
	main, frag, hasFrag := strings.Cut(u, "#")
	base, query, hasQuery := strings.Cut(main, "?")
	if i := strings.Index(base, "://"); i >= 0 {
		auth, path := base[i+3:], ""
		if j := strings.IndexByte(auth, '/'); j >= 0 {
			auth, path = auth[:j], auth[j:]
		}
		if k := strings.LastIndexByte(auth, '@'); k >= 0 {
			auth = Mask + auth[k:]
		}
		base = base[:i+3] + auth + path
	}
	out := base
	if hasQuery {
		out += "?" + eachParam(query, param)
	}
	if hasFrag {
		out += "#" + eachParam(frag, param)
	}
	return out
}

// byText redacts a string that is not a parsable URL. It errs on the side
// of hiding: everything between "://" and the last "@" anywhere after it
// is user info (a password may hold "/", "?" or "#"; such a URL does not
// parse), and after the first "?" or "#" that follows, only parameter
// names stay.
func byText(raw string) string {
	prefix, rest, user := "", raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		prefix, rest = raw[:i+3], raw[i+3:]
		if j := strings.LastIndexByte(rest, '@'); j >= 0 {
			user, rest = Mask+"@", rest[j+1:]
		}
	}
	return prefix + user + rebuild(rest, maskValue)
}

// eachParam applies f to each part of a query string (or fragment) of the
// form k=v&k2=v2 (or ;-separated), keeping the separators.
func eachParam(q string, f func(string) string) string {
	var b strings.Builder
	for q != "" {
		part, sep := q, ""
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			part, sep, q = q[:i], q[i:i+1], q[i+1:]
		} else {
			q = ""
		}
		b.WriteString(f(part))
		b.WriteString(sep)
	}
	return b.String()
}

// maskValue masks the value of one parameter, keeping its name; a
// non-empty part without "=" is masked whole.
func maskValue(part string) string {
	k, v, ok := strings.Cut(part, "=")
	switch {
	case part == "" || (ok && v == ""):
		return part
	case !ok:
		return Mask
	default:
		return k + "=" + Mask
	}
}

// urlInText finds URLs with a scheme in free text: up to white space, a
// quote or an angle bracket (a %q-quoted URL in Go's *url.Error ends at
// its closing quote).
var urlInText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>`]+")

// Text returns s with every URL in it redacted (see URL).
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, URL)
}

// Derived returns link, a URL found in a document fetched from secretURL
// (a feed an HTML page advertises, resolved against the page's URL),
// without the secrets it may have taken from secretURL: its user info (a
// relative link inherits the page URL's) and any query value that is also
// a value in secretURL's query (a page may echo its own query in links).
// What the publisher wrote is public and stays, such as YouTube's
// ?channel_id=..., so that the link can still be suggested.
func Derived(link, secretURL string) string {
	secrets := map[string]bool{}
	if u, err := url.Parse(secretURL); err == nil {
		for _, vs := range u.Query() {
			for _, v := range vs {
				if v != "" {
					secrets[v] = true
				}
			}
		}
		for _, part := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
			if _, v, ok := strings.Cut(part, "="); ok && v != "" {
				secrets[v] = true
			}
		}
	}
	return rebuild(link, func(part string) string {
		k, v, ok := strings.Cut(part, "=")
		dec, _ := url.QueryUnescape(v)
		if ok && v != "" && (secrets[v] || secrets[dec]) {
			return k + "=" + Mask
		}
		return part
	})
}
