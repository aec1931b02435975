package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// callState carries what one Fetch needs to learn from its transport.
type callState struct {
	busy atomic.Pointer[hostBusyError]
}

type callStateKey struct{}

// hostLimiter bounds concurrent requests per host. Entries exist only
// while a host has requests in flight or waiting, so 10,000 feeds on
// 10,000 hosts cost nothing at rest.
type hostLimiter struct {
	limit int
	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem  chan struct{}
	refs int // holders + waiters
}

func newHostLimiter(limit int) *hostLimiter {
	return &hostLimiter{limit: limit, hosts: make(map[string]*hostSlot)}
}

// acquire waits for a slot for host; the returned func releases it (call it
// exactly once).
func (l *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlot{sem: make(chan struct{}, l.limit)}
		l.hosts[host] = s
	}
	s.refs++
	l.mu.Unlock()

	select {
	case s.sem <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-s.sem
				l.unref(host, s)
			})
		}, nil
	case <-ctx.Done():
		l.unref(host, s)
		return nil, &hostBusyError{host: host, limit: l.limit, cause: context.Cause(ctx)}
	}
}

// hostBusyError: the request never left, it waited for a slot to its host.
type hostBusyError struct {
	host  string
	limit int
	cause error
}

func (e *hostBusyError) Error() string {
	return fmt.Sprintf("still waiting for a free slot to %s (at most %d requests at a time per host)", e.host, e.limit)
}

func (e *hostBusyError) Unwrap() error { return e.cause }

func (l *hostLimiter) unref(host string, s *hostSlot) {
	l.mu.Lock()
	s.refs--
	if s.refs == 0 {
		delete(l.hosts, host)
	}
	l.mu.Unlock()
}

// limitedTransport takes a host slot for each request (each redirect hop
// separately) and gives it back when the response body is closed.
type limitedTransport struct {
	next  http.RoundTripper
	hosts *hostLimiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := t.hosts.acquire(req.Context(), hostKey(req.URL))
	if err != nil {
		// http.Client may report the context's cause instead of this
		// error; leave a note for Fetch.
		if st, ok := req.Context().Value(callStateKey{}).(*callState); ok {
			var hb *hostBusyError
			if errors.As(err, &hb) {
				st.busy.Store(hb)
			}
		}
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
