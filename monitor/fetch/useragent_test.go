package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestUserAgentVersion: the default User-Agent names the version passed in
// Options (there is no package-level version to set), and a configured
// User-Agent is sent as it is.
func TestUserAgentVersion(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.UserAgent())
		mu.Unlock()
		w.Write([]byte("<rss/>"))
	}))
	defer srv.Close()
	for _, o := range []Options{{Version: "1.4.2"}, {}, {UserAgent: "DeskBot/2", Version: "1.4.2"}} {
		o.AllowPrivate = true
		if _, err := New(o).Fetch(context.Background(), Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"Wirewatch/1.4.2 (+https://github.com/wirewatch/wirewatch)",
		"Wirewatch/dev (+https://github.com/wirewatch/wirewatch)",
		"DeskBot/2",
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("request %d: User-Agent %q, want %q", i, got, want[i])
		}
	}
}
