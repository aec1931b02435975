package parse

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// trackingParams are query parameters that identify a campaign or a click,
// not a document. Any parameter starting with "utm_" is one too.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gclsrc": true, "msclkid": true, "yclid": true,
	"mc_cid": true, "mc_eid": true, "_ga": true, "_gl": true, "igshid": true,
	"ocid": true, "cmpid": true, "ns_mchannel": true, "ns_source": true, "ns_campaign": true,
	"ns_linkname": true, "ns_fee": true, "ref_src": true, "smid": true, "smtyp": true,
	"wt.mc_id": true, "xtor": true, "at_medium": true, "at_campaign": true, "mkt_tok": true,
	"_hsenc": true, "_hsmi": true, "vero_id": true, "oly_anon_id": true, "oly_enc_id": true,
	"rb_clickid": true, "s_cid": true, "__twitter_impression": true,
}

func isTracking(key string) bool {
	k := strings.ToLower(key)
	return strings.HasPrefix(k, "utm_") || trackingParams[k]
}

// CanonicalLink returns link in a canonical form for identity: scheme and
// host lower-cased, default port and fragment dropped, tracking parameters
// (utm_*, fbclid, gclid, ...) removed and the remaining parameters sorted.
// A link that does not parse as an absolute http(s) URL is returned
// trimmed, as it is.
func CanonicalLink(link string) string {
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return link
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		u.Host = host + ":" + port
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.Fragment = ""
	u.RawFragment = ""
	u.User = nil
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		kept := parts[:0]
		for _, p := range parts {
			if p == "" {
				continue
			}
			k := p
			if i := strings.IndexByte(p, '='); i >= 0 {
				k = p[:i]
			}
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if isTracking(k) {
				continue
			}
			kept = append(kept, p)
		}
		sort.Strings(kept)
		u.RawQuery = strings.Join(kept, "&")
		u.ForceQuery = false
	}
	return strings.TrimSpace(u.String())
}

// itemID is an item's identity within its feed: the GUID as published;
// else the canonical link; else a hash of title and content; for an item
// with neither, a hash of its raw date; "" for an item with nothing.
func itemID(guid, link, title, content, rawDate string) string {
	if g := strings.TrimSpace(guid); g != "" {
		return g
	}
	if link != "" {
		return CanonicalLink(link)
	}
	key := title + "\x00" + content
	if title == "" && content == "" {
		if rawDate = strings.TrimSpace(rawDate); rawDate == "" {
			return ""
		}
		key = "\x00date\x00" + rawDate
	}
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:16])
}
