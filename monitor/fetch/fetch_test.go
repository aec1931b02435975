package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Tests dial loopback only. Refusals are shown with loopback addresses the
// fetcher does not allow (127.0.0.2, ::1) or with the default policy.

var onlyLocalhost = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func newLocal(t *testing.T, o Options) *Fetcher {
	t.Helper()
	if !o.AllowPrivate && o.AllowCIDRs == nil {
		o.AllowCIDRs = onlyLocalhost
	}
	return New(o)
}

func wantKind(t *testing.T, err error, kind Kind) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %q", kind)
	}
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
	}
	if fe.Kind != kind {
		t.Fatalf("error kind %q, want %q: %v", fe.Kind, kind, err)
	}
	return fe
}

const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>`

func TestConditionalGet(t *testing.T) {
	var got struct {
		sync.Mutex
		ua, inm, ims []string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Lock()
		got.ua = append(got.ua, r.UserAgent())
		got.inm = append(got.inm, r.Header.Get("If-None-Match"))
		got.ims = append(got.ims, r.Header.Get("If-Modified-Since"))
		got.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Tue, 10 Nov 2026 10:00:00 GMT")
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=900")
		io.WriteString(w, rss)
	}))
	defer srv.Close()
	f := newLocal(t, Options{})

	res, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.NotModified || string(res.Body) != rss {
		t.Fatalf("first fetch: NotModified=%v body=%q", res.NotModified, res.Body)
	}
	if res.ETag != `"v1"` || res.LastModified != "Tue, 10 Nov 2026 10:00:00 GMT" {
		t.Fatalf("validators: %q %q", res.ETag, res.LastModified)
	}
	if res.MaxAge != 15*time.Minute {
		t.Errorf("MaxAge = %v, want 15m", res.MaxAge)
	}
	if res.ContentType != "application/rss+xml; charset=utf-8" {
		t.Errorf("ContentType = %q", res.ContentType)
	}

	res2, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/feed", ETag: res.ETag, LastModified: res.LastModified})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.NotModified || res2.Body != nil {
		t.Fatalf("second fetch: NotModified=%v body=%q, want a 304 with no body", res2.NotModified, res2.Body)
	}
	if res2.ETag != `"v1"` || res2.LastModified != res.LastModified {
		t.Errorf("304 must keep the validators, got %q %q", res2.ETag, res2.LastModified)
	}
	got.Lock()
	defer got.Unlock()
	if got.inm[0] != "" || got.ims[0] != "" {
		t.Errorf("first request sent validators: %q %q", got.inm[0], got.ims[0])
	}
	if got.inm[1] != `"v1"` || got.ims[1] != "Tue, 10 Nov 2026 10:00:00 GMT" {
		t.Errorf("second request validators: If-None-Match=%q If-Modified-Since=%q", got.inm[1], got.ims[1])
	}
	if !strings.HasPrefix(got.ua[0], "Wirewatch/") || !strings.Contains(got.ua[0], "+https://") {
		t.Errorf("User-Agent %q is not descriptive with a contact URL", got.ua[0])
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/seconds":
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/date":
			w.Header().Set("Retry-After", now.Add(90*time.Minute).Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/plain503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/bare429":
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	f := newLocal(t, Options{Now: func() time.Time { return now }})

	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/seconds"})
	fe := wantKind(t, err, KindRateLimited)
	if fe.RetryAfter != 2*time.Minute || fe.Status != 429 {
		t.Errorf("429: RetryAfter=%v Status=%d, want 2m and 429", fe.RetryAfter, fe.Status)
	}
	if !strings.Contains(err.Error(), srv.URL+"/seconds") || !strings.Contains(err.Error(), "2m0s") {
		t.Errorf("message should name the URL and the delay: %v", err)
	}

	_, err = f.Fetch(context.Background(), Request{URL: srv.URL + "/date"})
	fe = wantKind(t, err, KindRateLimited)
	if fe.RetryAfter != 90*time.Minute || fe.Status != 503 {
		t.Errorf("503 with HTTP-date: RetryAfter=%v Status=%d, want 1h30m and 503", fe.RetryAfter, fe.Status)
	}

	_, err = f.Fetch(context.Background(), Request{URL: srv.URL + "/plain503"})
	fe = wantKind(t, err, KindHTTPStatus)
	if fe.Status != 503 || fe.RetryAfter != 0 {
		t.Errorf("503 without Retry-After: %+v", fe)
	}

	_, err = f.Fetch(context.Background(), Request{URL: srv.URL + "/bare429"})
	fe = wantKind(t, err, KindRateLimited)
	if fe.RetryAfter != 0 {
		t.Errorf("429 without Retry-After: RetryAfter=%v", fe.RetryAfter)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0": 0, "-5": 0, "30": 30 * time.Second, " 45 ": 45 * time.Second, "soon": 0, "": 0,
		"Tue, 24 Nov 2026 15:10:00 GMT": 10 * time.Minute,
		"Tue, 24 Nov 2026 14:00:00 GMT": 0, // past
		"99999999999":                   365 * 24 * time.Hour,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// endless streams zeros lazily, 32 KB at a time, until the client goes
// away or n bytes were written; it never holds more than one chunk.
func endless(w io.Writer, n int64) {
	chunk := make([]byte, 32<<10)
	for written := int64(0); written < n; written += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func TestBodyCapOneGigabyte(t *testing.T) {
	const gig = 1 << 30
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{w: w, n: &served}
		switch r.URL.Path {
		case "/length": // announced: refused before reading
			w.Header().Set("Content-Length", fmt.Sprint(gig))
			endless(cw, gig)
		case "/chunked": // unannounced: refused after 10 MB
			endless(cw, gig)
		case "/gzip-bomb": // 20 MB of zeros in a few KB of gzip
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(cw)
			endless(zw, 20<<20)
			zw.Close()
		}
	}))
	defer srv.Close()
	f := newLocal(t, Options{})

	for _, path := range []string{"/length", "/chunked", "/gzip-bomb"} {
		served.Store(0)
		res, err := f.Fetch(context.Background(), Request{URL: srv.URL + path})
		if res != nil {
			t.Fatalf("%s: got a result (%d bytes), want an error", path, len(res.Body))
		}
		fe := wantKind(t, err, KindTooLarge)
		if !strings.Contains(fe.Error(), "10 MB") || !strings.Contains(fe.Error(), srv.URL+path) {
			t.Errorf("%s: message should name the URL and the limit: %v", path, fe)
		}
	}
	// The 1 GB body was not read to its end: the fetcher hung up. (What
	// the server managed to write into socket buffers is far below 1 GB.)
	if n := served.Load(); n >= gig/2 {
		t.Errorf("server wrote %d bytes: the fetcher kept reading", n)
	}
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func TestMaxBytesOption(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 2000))
	}))
	defer srv.Close()
	_, err := newLocal(t, Options{MaxBytes: 1999}).Fetch(context.Background(), Request{URL: srv.URL})
	wantKind(t, err, KindTooLarge)
	res, err := newLocal(t, Options{MaxBytes: 2000}).Fetch(context.Background(), Request{URL: srv.URL})
	if err != nil || len(res.Body) != 2000 {
		t.Fatalf("a body of exactly MaxBytes must pass: %v", err)
	}
}

func TestOneBytePerSecondHitsTotalTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; i < 600; i++ {
			if _, err := w.Write([]byte{'<'}); err != nil {
				return
			}
			fl.Flush()
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	f := newLocal(t, Options{Timeout: 1500 * time.Millisecond})
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/slow"})
	fe := wantKind(t, err, KindTimeout)
	if !strings.Contains(fe.Error(), "1.5s") {
		t.Errorf("message should name the timeout: %v", fe)
	}
}

func TestCallerCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err := newLocal(t, Options{}).Fetch(ctx, Request{URL: srv.URL})
	wantKind(t, err, KindCanceled)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled fetch should wrap context.Canceled: %v", err)
	}
}

func TestRedirects(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/perm1":
			http.Redirect(w, r, "/perm2", http.StatusMovedPermanently)
		case p == "/perm2":
			http.Redirect(w, r, "/perm3", http.StatusPermanentRedirect)
		case p == "/perm3":
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
		case p == "/mixed":
			http.Redirect(w, r, "/temp", http.StatusMovedPermanently)
		case p == "/temp":
			http.Redirect(w, r, "/final", http.StatusFound)
		case p == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case p == "/to-127.0.0.2":
			http.Redirect(w, r, strings.Replace(srv.URL, "127.0.0.1", "127.0.0.2", 1)+"/final", http.StatusFound)
		case p == "/to-ipv6-loopback":
			http.Redirect(w, r, strings.Replace(srv.URL, "127.0.0.1", "[::1]", 1)+"/final", http.StatusFound)
		case p == "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case strings.HasPrefix(p, "/hop"):
			var n int
			fmt.Sscanf(p, "/hop%d", &n)
			if n == 0 {
				io.WriteString(w, rss)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop%d", n-1), http.StatusMovedPermanently)
		case p == "/final":
			io.WriteString(w, rss)
		}
	}))
	defer srv.Close()
	f := newLocal(t, Options{MaxRedirects: 5})
	ctx := context.Background()

	res, err := f.Fetch(ctx, Request{URL: srv.URL + "/perm1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != srv.URL+"/final" || res.MovedTo != srv.URL+"/final" {
		t.Errorf("all-permanent chain: URL=%q MovedTo=%q, want both %q", res.URL, res.MovedTo, srv.URL+"/final")
	}

	res, err = f.Fetch(ctx, Request{URL: srv.URL + "/mixed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != srv.URL+"/final" || res.MovedTo != "" {
		t.Errorf("301 then 302: URL=%q MovedTo=%q, want the final URL and no move", res.URL, res.MovedTo)
	}

	if _, err := f.Fetch(ctx, Request{URL: srv.URL + "/hop5"}); err != nil {
		t.Errorf("5 redirects with MaxRedirects 5 must pass: %v", err)
	}
	_, err = f.Fetch(ctx, Request{URL: srv.URL + "/hop6"})
	wantKind(t, err, KindTooManyRedirects)
	_, err = f.Fetch(ctx, Request{URL: srv.URL + "/loop"})
	wantKind(t, err, KindTooManyRedirects)

	_, err = f.Fetch(ctx, Request{URL: srv.URL + "/to-127.0.0.2"})
	fe := wantKind(t, err, KindPrivateAddress)
	if !strings.Contains(fe.Error(), "127.0.0.2") || !strings.Contains(fe.Error(), "loopback") ||
		!strings.Contains(fe.Error(), srv.URL+"/to-127.0.0.2") {
		t.Errorf("message should name the feed URL, the refused address and its kind: %v", fe)
	}

	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		l.Close()
		_, err = f.Fetch(ctx, Request{URL: srv.URL + "/to-ipv6-loopback"})
		wantKind(t, err, KindPrivateAddress)
	} else {
		t.Log("no IPv6 loopback here; skipping the [::1] redirect")
	}

	_, err = f.Fetch(ctx, Request{URL: srv.URL + "/to-file"})
	wantKind(t, err, KindInvalidURL)
}

func TestPrivateRefusedByDefault(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, rss)
	}))
	defer srv.Close()
	f := New(Options{}) // the default: no private networks
	for _, u := range []string{srv.URL + "/feed", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/feed"} {
		_, err := f.Fetch(context.Background(), Request{URL: u})
		fe := wantKind(t, err, KindPrivateAddress)
		if !strings.Contains(fe.Error(), "allow_private") {
			t.Errorf("message should say how to permit it: %v", fe)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server received %d requests; the refusal must happen before connecting", hits.Load())
	}
	// AllowPrivate permits it.
	if _, err := New(Options{AllowPrivate: true}).Fetch(context.Background(), Request{URL: srv.URL}); err != nil {
		t.Errorf("AllowPrivate: %v", err)
	}
}

func TestPerHostLimit(t *testing.T) {
	var mu sync.Mutex
	cur, peak := 0, 0
	target := 2
	reached := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		if cur >= target {
			once.Do(func() { close(reached) })
		}
		mu.Unlock()
		// Hold the slot until the limit was reached once, so that the
		// peak is the limit and not an accident of scheduling.
		select {
		case <-reached:
		case <-time.After(5 * time.Second):
		}
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		io.WriteString(w, rss)
	}))
	defer srv.Close()

	run := func(f *Fetcher, urls []string) {
		var wg sync.WaitGroup
		for _, u := range urls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.Fetch(context.Background(), Request{URL: u}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	f := New(Options{AllowPrivate: true}) // default PerHost 2
	urls := make([]string, 8)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/feed%d", srv.URL, i)
	}
	run(f, urls)
	if peak != 2 {
		t.Errorf("peak concurrent requests to one host = %d, want 2 (the default)", peak)
	}

	// The limit is per host: two host names, two slots each.
	mu.Lock()
	peak, target, reached, once = 0, 4, make(chan struct{}), sync.Once{}
	mu.Unlock()
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for i := range urls {
		if i%2 == 1 {
			urls[i] = fmt.Sprintf("%s/feed%d", other, i)
		}
	}
	run(f, urls)
	if peak != 4 {
		t.Errorf("peak over two hosts = %d, want 4", peak)
	}
	f.hosts.mu.Lock()
	left := len(f.hosts.hosts)
	f.hosts.mu.Unlock()
	if left != 0 {
		t.Errorf("%d host entries left after all requests ended", left)
	}
}

func TestCompression(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	zl := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	raw := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	var accept atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accept.Store(r.Header.Get("Accept-Encoding"))
		switch r.URL.Path {
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz([]byte(rss)))
		case "/deflate":
			w.Header().Set("Content-Encoding", "deflate")
			w.Write(zl([]byte(rss)))
		case "/raw-deflate":
			w.Header().Set("Content-Encoding", "deflate")
			w.Write(raw([]byte(rss)))
		case "/gz-file": // a .gz file served as it is, no Content-Encoding
			w.Header().Set("Content-Type", "application/x-gzip")
			w.Write(gz([]byte(rss)))
		case "/says-gzip-is-not":
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, rss)
		case "/br":
			w.Header().Set("Content-Encoding", "br")
			io.WriteString(w, "????")
		}
	}))
	defer srv.Close()
	f := newLocal(t, Options{})
	for _, p := range []string{"/gzip", "/deflate", "/raw-deflate", "/gz-file", "/says-gzip-is-not"} {
		res, err := f.Fetch(context.Background(), Request{URL: srv.URL + p})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if string(res.Body) != rss {
			t.Errorf("%s: body %q", p, res.Body)
		}
	}
	if a, _ := accept.Load().(string); !strings.Contains(a, "gzip") || !strings.Contains(a, "deflate") {
		t.Errorf("Accept-Encoding = %q", a)
	}
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/br"})
	wantKind(t, err, KindNetwork)
}

func TestHTTPStatusAndBadURLs(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	f := newLocal(t, Options{})
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/gone"})
	fe := wantKind(t, err, KindHTTPStatus)
	if fe.Status != 404 || !strings.Contains(err.Error(), srv.URL+"/gone") || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	for _, u := range []string{"ftp://example.com/feed", "/relative", "http://", "http://[::1"} {
		_, err := f.Fetch(context.Background(), Request{URL: u})
		wantKind(t, err, KindInvalidURL)
	}
	// Connection refused on a loopback port nobody listens on.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err = f.Fetch(context.Background(), Request{URL: "http://" + addr + "/"})
	wantKind(t, err, KindNetwork)
}

func TestMaxAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"max-age=60":                      time.Minute,
		"public, max-age=3600":            time.Hour,
		"max-age=60, no-cache":            0,
		"no-store":                        0,
		"max-age=abc":                     0,
		`max-age="120"`:                   2 * time.Minute,
		"s-maxage=10":                     0,
		"max-age=999999999999999999999":   0,
		"private, max-age=31536000000000": 365 * 24 * time.Hour,
	} {
		h := http.Header{}
		h.Set("Cache-Control", in)
		if got := maxAge(h); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", in, got, want)
		}
	}
}

// A request that times out while waiting for its host's slot says so.
func TestHostBusyTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	f := newLocal(t, Options{PerHost: 1, Timeout: 300 * time.Millisecond})
	// The hog shares f's limiter and connections but not its short timeout.
	hog := *f
	hog.opts.Timeout = time.Minute
	started := make(chan struct{})
	go func() {
		close(started)
		hog.Fetch(context.Background(), Request{URL: srv.URL + "/hog"})
	}()
	<-started
	// Wait until the hog holds the only slot.
	for i := 0; ; i++ {
		f.hosts.mu.Lock()
		held := 0
		if s := f.hosts.hosts["127.0.0.1"]; s != nil {
			held = len(s.sem)
		}
		f.hosts.mu.Unlock()
		if held == 1 {
			break
		}
		if i > 5000 {
			t.Fatal("the first request never took its slot")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := f.Fetch(context.Background(), Request{URL: srv.URL + "/waiter"})
	fe := wantKind(t, err, KindTimeout)
	if !strings.Contains(fe.Error(), "waiting for a free slot") {
		t.Errorf("message should say the request waited for the per-host limit: %v", fe)
	}
}

// TestErrorsRedactTheURL: a feed URL's password and API key never show in
// an error's text, whatever the failure, including a redirect target and
// a URL that does not parse (issue 18.5).
func TestErrorsRedactTheURL(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://u:PASS@files.example/x?apikey=KEY", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?apikey=KEY", http.StatusFound)
	})
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(429) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	f := newLocal(t, Options{})
	for path, kind := range map[string]Kind{"/500": KindHTTPStatus, "/ftp": KindInvalidURL, "/loop": KindTooManyRedirects, "/429": KindRateLimited} {
		_, err := f.Fetch(context.Background(), Request{URL: "http://u:PASS@" + host + path + "?apikey=KEY"})
		wantKind(t, err, kind)
		if msg := err.Error(); strings.Contains(msg, "PASS") || strings.Contains(msg, "KEY") || !strings.Contains(msg, host+path) {
			t.Errorf("%s: %s", path, msg)
		}
	}
	for _, u := range []string{"http://u:PASS@" + host + "/x?apikey=KEY\x7f", "http://u:PA SS@" + host + "/x?apikey=KEY"} {
		_, err := f.Fetch(context.Background(), Request{URL: u})
		wantKind(t, err, KindInvalidURL)
		if msg := err.Error(); strings.Contains(msg, "PASS") || strings.Contains(msg, "PA SS") || strings.Contains(msg, "KEY") {
			t.Errorf("%q: %s", u, msg)
		}
	}
}
