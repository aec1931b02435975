// Package fetch owns Wirewatch's HTTP conversation with feed publishers:
// conditional GET (ETag/Last-Modified), limits (connect and whole-request
// timeouts, a cap on the decompressed body, a redirect limit), gzip/deflate
// (also a gzip body sent without Content-Encoding), politeness (a
// descriptive User-Agent, at most N concurrent requests per host,
// Retry-After and Cache-Control max-age surfaced to the scheduler), and the
// refusal of private networks, checked at dial time on every connection, so
// after every redirect and every DNS answer.
//
// It knows nothing about feed formats (that is monitor/parse) nor about
// schedules (that is monitor). Like Miniflux's reader/fetcher, each HTTP
// concern lives in one small piece: address policy (address.go), per-host
// limiter (hostlimit.go), body decoding (body.go), headers (headers.go).
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
)

// DefaultUserAgent is the User-Agent sent when Options.UserAgent is empty:
// Wirewatch/VERSION with a link to the project (version "" is "dev").
func DefaultUserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "Wirewatch/" + version + " (+https://github.com/wirewatch/wirewatch)"
}

// Defaults for Options fields left zero.
const (
	DefaultTimeout        = 20 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBytes       = 10 << 20
	DefaultMaxRedirects   = 5
	DefaultPerHost        = 2
)

// Options configure a Fetcher. Zero values mean the defaults.
type Options struct {
	Timeout        time.Duration // whole request including the body (default 20s)
	ConnectTimeout time.Duration // TCP connect and TLS handshake (default 10s)
	// MaxBytes caps the body after decompression (default 10 MB). A larger
	// body is a KindTooLarge error, never a truncated body.
	MaxBytes     int64
	MaxRedirects int    // default 5; a negative value forbids redirects
	UserAgent    string // default DefaultUserAgent(Version)
	// Version is the Wirewatch version the default User-Agent names
	// (default "dev"); the command passes its build version.
	Version string
	// AllowPrivate permits loopback, private, link-local and metadata
	// addresses.
	AllowPrivate bool
	// AllowCIDRs permits only these otherwise refused ranges.
	AllowCIDRs []netip.Prefix
	PerHost    int // maximum concurrent requests per host (default 2)
	Logger     *slog.Logger
	// Now is the clock used to turn a Retry-After HTTP-date into a delay
	// (default time.Now).
	Now func() time.Time
}

// Fetcher fetches feeds over HTTP. It is safe for concurrent use; share one
// per process so that the per-host limit and the connection pool are shared.
type Fetcher struct {
	opts      Options
	log       *slog.Logger
	transport http.RoundTripper
	hosts     *hostLimiter
}

// New returns a Fetcher with o's zero fields set to their defaults.
func New(o Options) *Fetcher {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxRedirects < 0 {
		o.MaxRedirects = 0
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent(o.Version)
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	policy := addressPolicy{allowPrivate: o.AllowPrivate, allow: o.AllowCIDRs}
	dialer := &net.Dialer{
		Timeout:   o.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Control:   policy.control,
	}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would dial on our behalf
		// and bypass the address policy.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   o.PerHost,
		IdleConnTimeout:       90 * time.Second,
		// We ask for gzip/deflate ourselves and decode both, including a
		// gzip body sent without Content-Encoding.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
	f := &Fetcher{opts: o, log: o.Logger, hosts: newHostLimiter(o.PerHost)}
	f.transport = &limitedTransport{next: tr, hosts: f.hosts}
	return f
}

// Request is one conditional GET.
type Request struct {
	URL          string
	ETag         string // from the last 200 answer, sent as If-None-Match
	LastModified string // from the last 200 answer, sent as If-Modified-Since
}

// Result is a successful answer (2xx or 304).
type Result struct {
	URL         string // final URL after redirects
	NotModified bool   // 304: Body is nil, nothing to parse
	Body        []byte // decompressed
	ContentType string // Content-Type header, for its charset
	// ETag and LastModified are the validators to send next time (on a 304
	// without new validators, the ones that were sent).
	ETag, LastModified string
	// MovedTo is set when every hop to the final URL was a permanent
	// redirect (301/308): the URL to store instead of Request.URL.
	MovedTo string
	// MaxAge is Cache-Control max-age, 0 if none (or no-cache/no-store).
	MaxAge time.Duration
}

// redirectTrace records the hops of one Fetch.
type redirectTrace struct {
	hops      int
	permanent bool // every hop so far was 301/308
}

var errTooManyRedirects = errors.New("too many redirects")

type schemeError struct{ URL string }

func (e *schemeError) Error() string {
	return fmt.Sprintf("redirect to %q: only http and https are fetched", e.URL)
}

// Fetch performs one conditional GET of r.URL. Every failure is an *Error.
func (f *Fetcher) Fetch(ctx context.Context, r Request) (*Result, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, URL: r.URL, Detail: "the URL cannot be parsed", Err: unwrapURLError(err)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &Error{Kind: KindInvalidURL, URL: r.URL, Detail: "only http and https URLs are fetched"}
	}
	if u.Host == "" {
		return nil, &Error{Kind: KindInvalidURL, URL: r.URL, Detail: "the URL has no host"}
	}

	ctx, cancel := context.WithTimeoutCause(ctx, f.opts.Timeout, errTimeout)
	defer cancel()
	state := &callState{}
	ctx = context.WithValue(ctx, callStateKey{}, state)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Kind: KindInvalidURL, URL: r.URL, Detail: "the request cannot be built", Err: unwrapURLError(err)}
	}
	setRequestHeaders(req, f.opts.UserAgent, r)

	trace := &redirectTrace{permanent: true}
	client := &http.Client{
		Transport: f.transport,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if next.URL.Scheme != "http" && next.URL.Scheme != "https" {
				return &schemeError{URL: next.URL.String()}
			}
			if len(via) > f.opts.MaxRedirects {
				return errTooManyRedirects
			}
			trace.hops++
			if resp := next.Response; resp == nil ||
				(resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusPermanentRedirect) {
				trace.permanent = false
			}
			// A redirect may not carry our validators to another host's
			// document: they belong to the URL that issued them. Keep
			// them (Go's client copies them) only on the same host.
			if next.URL.Host != via[0].URL.Host {
				next.Header.Del("If-None-Match")
				next.Header.Del("If-Modified-Since")
			}
			return nil
		},
	}

	resp, err := client.Do(req)
	if err != nil {
		if hb := state.busy.Load(); hb != nil {
			err = hb
		}
		return nil, f.classify(ctx, r.URL, err)
	}
	defer func() {
		// Drain a little so that the connection can be reused after a
		// short error page; never more.
		io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()

	res := &Result{
		URL:         resp.Request.URL.String(),
		ContentType: resp.Header.Get("Content-Type"),
		MaxAge:      maxAge(resp.Header),
	}
	if trace.hops > 0 && trace.permanent && res.URL != r.URL {
		res.MovedTo = res.URL
		f.log.Debug("feed moved permanently", "url", redact.URL(r.URL), "moved_to", redact.URL(res.MovedTo), "hops", trace.hops)
	}

	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		res.ETag = firstNonEmpty(resp.Header.Get("ETag"), r.ETag)
		res.LastModified = firstNonEmpty(resp.Header.Get("Last-Modified"), r.LastModified)
		return res, nil
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		ra := retryAfter(resp.Header.Get("Retry-After"), f.opts.Now())
		detail := fmt.Sprintf("the server answered %s", resp.Status)
		if ra > 0 {
			detail += fmt.Sprintf(" and asked to retry after %s", ra)
		}
		return nil, &Error{Kind: KindRateLimited, URL: r.URL, Status: resp.StatusCode, RetryAfter: ra, Detail: detail}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		detail := fmt.Sprintf("the server answered %s", resp.Status)
		if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
			detail += " without a usable Location"
		}
		return nil, &Error{Kind: KindHTTPStatus, URL: r.URL, Status: resp.StatusCode, Detail: detail}
	}

	body, err := readBody(resp, f.opts.MaxBytes)
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return nil, &Error{Kind: KindTooLarge, URL: r.URL, Status: resp.StatusCode,
				Detail: fmt.Sprintf("the body is larger than the %s limit (max body size)", formatBytes(f.opts.MaxBytes))}
		}
		return nil, f.classify(ctx, r.URL, err)
	}
	res.Body = body
	res.ETag = resp.Header.Get("ETag")
	res.LastModified = resp.Header.Get("Last-Modified")
	return res, nil
}

var errTimeout = errors.New("the whole-request timeout expired")

// classify turns a transport or body error into an *Error.
func (f *Fetcher) classify(ctx context.Context, rawURL string, err error) *Error {
	err = unwrapURLError(err)
	var ae *addressError
	if errors.As(err, &ae) {
		return &Error{Kind: KindPrivateAddress, URL: rawURL, Detail: "the address is not allowed", Err: ae}
	}
	if errors.Is(err, errTooManyRedirects) {
		return &Error{Kind: KindTooManyRedirects, URL: rawURL,
			Detail: fmt.Sprintf("more than %d redirects", f.opts.MaxRedirects)}
	}
	var se *schemeError
	if errors.As(err, &se) {
		return &Error{Kind: KindInvalidURL, URL: rawURL, Detail: se.Error()}
	}
	if context.Cause(ctx) == errTimeout {
		var hb *hostBusyError
		if errors.As(err, &hb) {
			err = hb // the useful part: it never left
		}
		return &Error{Kind: KindTimeout, URL: rawURL,
			Detail: fmt.Sprintf("no complete answer within %s", f.opts.Timeout), Err: err}
	}
	if ctx.Err() != nil {
		// The caller's own context ended (its deadline or shutdown).
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &Error{Kind: KindTimeout, URL: rawURL, Detail: "the caller's deadline passed", Err: err}
		}
		return &Error{Kind: KindCanceled, URL: rawURL, Detail: "the fetch was canceled", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: KindTimeout, URL: rawURL,
			Detail: fmt.Sprintf("could not connect (or finish the TLS handshake) within %s", f.opts.ConnectTimeout), Err: err}
	}
	return &Error{Kind: KindNetwork, URL: rawURL, Detail: "network error", Err: err}
}

// unwrapURLError drops *url.Error's "Get \"...\":" or "parse \"...\":"
// prefix: Error already names the URL, redacted, and the quoted copy may
// not even be a URL that redaction can find (a password with a space).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// hostKey is the per-host limiter key: the host name, lower-cased, without
// the port (a publisher's server is the unit of politeness).
func hostKey(u *url.URL) string {
	return strings.ToLower(u.Hostname())
}
