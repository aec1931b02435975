package fetch

import (
	"fmt"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/internal/redact"
)

// Kind classifies a fetch failure so that callers can decide what to do
// (back off, obey Retry-After, tell an operator) without parsing messages.
type Kind string

// The kinds of fetch failure.
const (
	// KindNetwork: DNS, connection refused or reset, TLS, a broken body.
	KindNetwork Kind = "network"
	// KindTimeout: the connect timeout or the whole-request timeout expired.
	KindTimeout Kind = "timeout"
	// KindTooLarge: the (decompressed) body exceeds Options.MaxBytes.
	KindTooLarge Kind = "too large"
	// KindPrivateAddress: the host resolved to a loopback, private,
	// link-local, metadata or otherwise special address that is not allowed.
	KindPrivateAddress Kind = "private address"
	// KindHTTPStatus: the server answered with a status that is not 2xx/304.
	KindHTTPStatus Kind = "http status"
	// KindRateLimited: 429, or 503 with Retry-After. See Error.RetryAfter.
	KindRateLimited Kind = "rate limited"
	// KindTooManyRedirects: more than Options.MaxRedirects redirects (a
	// redirect loop ends here too).
	KindTooManyRedirects Kind = "too many redirects"
	// KindCanceled: the caller's context was canceled (shutdown).
	KindCanceled Kind = "canceled"
	// KindInvalidURL: the feed URL cannot be fetched at all (bad syntax, or
	// a scheme other than http/https, also as a redirect target).
	KindInvalidURL Kind = "invalid url"
)

// Kinds returns every kind of fetch failure, in the order above. The
// metrics give each its own value of the fetch result label.
func Kinds() []Kind {
	return []Kind{KindNetwork, KindTimeout, KindTooLarge, KindPrivateAddress, KindHTTPStatus,
		KindRateLimited, KindTooManyRedirects, KindCanceled, KindInvalidURL}
}

// Label is the kind as a metric label value: spaces as underscores
// ("too large" is "too_large").
func (k Kind) Label() string { return strings.ReplaceAll(string(k), " ", "_") }

// Error is the only error type Fetch returns.
type Error struct {
	Kind   Kind
	URL    string // the URL that was asked for (the feed URL, not a hop); Error() redacts it
	Status int    // HTTP status for KindHTTPStatus and KindRateLimited
	// RetryAfter is the server's Retry-After (seconds or HTTP-date, made
	// relative to now) on 429/503 answers; 0 when absent.
	RetryAfter time.Duration
	Detail     string // a short human explanation, part of Error()
	Err        error  // the cause, if any
}

// Error names the URL with its user info and query values redacted, also
// inside the cause's text (a redirect target, Go's *url.Error): feed URLs
// carry publishers' passwords and API keys, and this text goes to logs,
// the store's last_error and the status page.
func (e *Error) Error() string {
	msg := fmt.Sprintf("fetching %s failed (%s): %s", redact.URL(e.URL), e.Kind, redact.Text(e.Detail))
	if e.Err != nil {
		msg += ": " + redact.Text(e.Err.Error())
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
