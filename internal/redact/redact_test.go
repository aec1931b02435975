package redact

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://news.example.org/feed.xml", "https://news.example.org/feed.xml"},
		{"http://u:PASS@host/x?apikey=KEY", "http://REDACTED@host/x?apikey=REDACTED"},
		{"http://TOKEN@host:8080/x", "http://REDACTED@host:8080/x"},
		{"https://host/x?apikey=KEY&lang=en&empty=&flag", "https://host/x?apikey=REDACTED&lang=REDACTED&empty=&REDACTED"},
		{"https://host/rss?KEY", "https://host/rss?REDACTED"},
		{"https://host/x?a=1;b=2#access_token=KEY", "https://host/x?a=REDACTED;b=REDACTED#access_token=REDACTED"},
		{"https://[::1]:9/x?k=KEY", "https://[::1]:9/x?k=REDACTED"},
		{"https://medium.com/@desk/feed", "https://medium.com/@desk/feed"},
		// Not parsable: redacted by the text.
		{"http://u:PA SS@host/x?apikey=KEY", "http://REDACTED@host/x?apikey=REDACTED"},
		{"http://u:PASS@host/x?apikey=KEY\x00", "http://REDACTED@host/x?apikey=REDACTED"},
		{"http://u:pa/ss@host/x?k=KEY%zz", "http://REDACTED@host/x?k=REDACTED"},
		{"", ""},
		{"not a url", "not a url"},
	}
	for _, c := range cases {
		got := URL(c.in)
		if got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := URL(got); again != got {
			t.Errorf("URL not idempotent: %q -> %q -> %q", c.in, got, again)
		}
	}
}

// TestTextRedactsWrappedErrors checks the messages Go itself builds around
// a URL: *url.Error quotes it ("Get \"http://...\": ...").
func TestTextRedactsWrappedErrors(t *testing.T) {
	secret := "http://editor:PASS@127.0.0.1:1/feed?apikey=KEY&lang=en"
	_, err := http.Get(secret)
	if err == nil {
		t.Fatal("expected a connection error")
	}
	uerr := &url.Error{Op: "Get", URL: secret, Err: errors.New("stopped after 10 redirects")}
	for _, msg := range []string{
		err.Error(),
		uerr.Error(),
		"fetching " + secret + " failed (network): dial tcp: connection refused",
		`redirect to "` + secret + `": only http and https are fetched`,
		"several: " + secret + " and " + secret,
	} {
		got := Text(msg)
		if strings.Contains(got, "PASS") || strings.Contains(got, "KEY") {
			t.Errorf("Text(%q) = %q: a secret is left", msg, got)
		}
		if !strings.Contains(got, "127.0.0.1:1/feed") {
			t.Errorf("Text(%q) = %q: where the feed is is lost", msg, got)
		}
	}
	if s := "no URL in here: connection refused"; Text(s) != s {
		t.Errorf("Text changed a message without a URL: %q", Text(s))
	}
}

func FuzzURL(f *testing.F) {
	f.Add("http", "u", "PASS", "host:1", "/x", "apikey", "KEY")
	f.Add("https", "", "", "[::1]", "/@a", "", "KEY")
	f.Fuzz(func(t *testing.T, scheme, user, pass, host, path, key, value string) {
		if len(pass) < 4 || len(value) < 4 || strings.ContainsAny(pass+value, "&;=#?@/:%") {
			return // only secrets long enough to be told apart from the rest
		}
		if strings.ContainsAny(user+host+path+key, "#?") || strings.ContainsAny(key, "@&;=") || strings.ContainsAny(user+host, "/@") {
			return // then the "secrets" are in the path, a fragment or a parameter name
		}
		raw := scheme + "://" + user + ":" + pass + "@" + host + path + "?" + key + "=" + value
		got := URL(raw)
		if URL(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, got, URL(got))
		}
		if !strings.ContainsAny(got, " \t\n\r\v\f\u0085\u00a0\"'<>`") && Text(got) != got {
			t.Fatalf("Text changes a redacted URL: %q -> %q", got, Text(got))
		}
		visible := scheme + host + path + key
		for _, s := range []string{pass, value} {
			if strings.Contains(got, s) && !strings.Contains(visible, s) && !strings.Contains(Mask, s) {
				t.Fatalf("URL(%q) = %q shows %q", raw, got, s)
			}
		}
	})
}

func TestDerived(t *testing.T) {
	secret := "http://editor:PASS@news.example.org/page?apikey=KEY&lang=en"
	for link, want := range map[string]string{
		"http://editor:PASS@news.example.org/feed.xml":                   "http://REDACTED@news.example.org/feed.xml",
		"https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jc": "https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jc",
		"http://news.example.org/feed?token=KEY&lang=en&format=rss":      "http://news.example.org/feed?token=REDACTED&lang=REDACTED&format=rss",
		"http://news.example.org/feed#k=KEY":                             "http://news.example.org/feed#k=REDACTED",
	} {
		if got := Derived(link, secret); got != want {
			t.Errorf("Derived(%q) = %q, want %q", link, got, want)
		}
	}
}
