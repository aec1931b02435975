package postgres_test

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
)

// tcpProxy forwards loopback connections to the PostgreSQL server until
// cut, which closes the listener and every connection: to the store, the
// server is gone.
type tcpProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, addr, target string) *tcpProxy {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{l: l, target: target}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) cut() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A server that goes away makes every call fail with an error that wraps
// store.ErrUnavailable (the store as a whole is down, no data is at
// fault); once it is back, the same store works again without reopening.
func TestServerGoneIsUnavailable(t *testing.T) {
	base := testURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p := newProxy(t, "127.0.0.1:0", target)
	addr := p.l.Addr().String()
	u.Host = addr
	st, err := postgres.Open(t.Context(), u.String(), postgres.WithSchema(freshSchema(t, base)), postgres.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if err := st.Heartbeat(t.Context(), "me", now); err != nil {
		t.Fatal(err)
	}

	p.cut()
	for _, call := range []struct {
		what string
		err  func() error
	}{
		{"heartbeat (connection cut)", func() error { return st.Heartbeat(t.Context(), "me", now) }},
		{"heartbeat (connection refused)", func() error { return st.Heartbeat(t.Context(), "me", now) }},
		{"enqueue", func() error {
			_, err := st.Enqueue(t.Context(), []store.Alert{{ID: "a1", Kind: store.KindOps, Channel: "#ops", Text: "x", CreatedAt: now, NextAttempt: now}})
			return err
		}},
		{"claim", func() error { _, _, err := st.ClaimChannel(t.Context(), "me", now, time.Minute, 10); return err }},
	} {
		err := call.err()
		if err == nil || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the server gone: %v, want an error wrapping store.ErrUnavailable", call.what, err)
		}
	}

	// The server is back (at the same address): the pool reconnects.
	p2 := newProxy(t, addr, target)
	defer p2.cut()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := st.Heartbeat(t.Context(), "me", now)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heartbeat once the server is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
