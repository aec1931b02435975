// Package opsserver owns Wirewatch's HTTP endpoint for operators:
//
//	/healthz  the process is alive (200 "ok")
//	/readyz   the configuration is loaded, the store can write (a
//	          heartbeat row, within the deadline), and the process is not
//	          shutting down (200), else 503 with the reasons
//	/metrics  Prometheus metrics (from a metrics.Set)
//	/         a read-only HTML status page: every feed's health and the
//	          last alerts
//	/try      the rule playground: a rule tried, as it is typed, on the
//	          items stored over the last days (playground.go)
//
// It also owns Probe, the client side of /healthz for the container's
// HEALTHCHECK (the image has no curl). The server only reads: it never
// changes the store or the running configuration.
package opsserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirewatch/wirewatch/backtest"
	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// Source is what the status page reads; store.Store satisfies it.
type Source interface {
	Feeds(ctx context.Context) ([]store.FeedState, error)
	Alerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
}

// Options configure a Server.
type Options struct {
	// Addr is the listen address, e.g. "127.0.0.1:9090" (":0" picks a port;
	// see Server.Addr).
	Addr string
	// Metrics is served at /metrics; nil serves 404 there.
	Metrics *metrics.Set
	// Source feeds the status page; nil shows no feeds or alerts.
	Source Source
	// Ready reports whether the store can write (see StoreReady); nil
	// means it always can. It is called with a 2 s deadline on each /readyz.
	Ready func(ctx context.Context) error
	// Version is shown on the status page.
	Version string
	// Alerts is how many recent alerts the status page lists (default 50).
	Alerts int
	// Now is the clock for "3m ago" on the status page (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// Texts are the stored item texts the rule playground (/try) tries
	// rules on, over the last TextWindow ([store] keep_text); nil or 0: the
	// page says there is nothing to try rules on.
	Texts      backtest.Source
	TextWindow time.Duration
	// TryTimeout bounds one playground request (DefaultTryTimeout).
	TryTimeout time.Duration
}

// ConfigInfo describes the running configuration, for /readyz and the
// status page. Feed names by key label the feeds (the store knows keys).
type ConfigInfo struct {
	Path     string
	LoadedAt time.Time
	Feeds    map[string]string // key -> name
	Rules    int
	// RuleQueries are the configured rules, offered by the playground as
	// starting points.
	RuleQueries []RuleQuery
}

// Server is the operators' HTTP endpoint.
type Server struct {
	o    Options
	log  *slog.Logger
	mux  *http.ServeMux
	srv  *http.Server
	play *playground

	mu         sync.RWMutex
	cfg        *ConfigInfo
	reloadErr  string // the last rejected reload, "" once one succeeds
	reloadErrT time.Time
	draining   bool
	ln         net.Listener
	served     chan struct{} // closed when Serve returned
	serveErr   error
}

// Server timeouts: generous for a status page, tight enough that a slow
// client cannot hold connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	readyTimeout      = 2 * time.Second
	probeLimit        = 30 * time.Second
)

// New returns a Server; it listens only once started.
func New(o Options) *Server {
	if o.Alerts <= 0 {
		o.Alerts = 50
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, log: o.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", o.Metrics.Handler())
	mux.HandleFunc("GET /{$}", s.status)
	s.play = newPlayground(o)
	mux.HandleFunc("GET /try", s.playgroundPage)
	mux.HandleFunc("GET /try/results", s.playgroundResults)
	mux.HandleFunc("GET /try.js", s.playgroundAsset(playgroundJS, "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /try.css", s.playgroundAsset(playgroundCSS, "text/css; charset=utf-8"))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.mux = mux
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

// Handler is the server's routes, with security headers, for use in tests
// or behind another server.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		s.mux.ServeHTTP(w, r)
	})
}

// SetConfig records the running configuration (at start and after each
// successful reload); until it is called /readyz answers 503. It clears
// the last reload error.
func (s *Server) SetConfig(c ConfigInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = &c
	s.reloadErr, s.reloadErrT = "", time.Time{}
}

// ReloadFailed records a rejected reload (the old configuration keeps
// running), shown on the status page until the next successful one.
func (s *Server) ReloadFailed(err error, at time.Time) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reloadErr, s.reloadErrT = err.Error(), at
}

// SetDraining makes /readyz answer 503 from now on: the process is shutting
// down and takes no new work. /healthz, /metrics and / keep answering.
func (s *Server) SetDraining() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
}

// Start listens on Options.Addr and serves in the background. It returns
// the listen error, if any, at once.
func (s *Server) Start(ctx context.Context) error {
	if s.o.Addr == "" {
		return errors.New("opsserver: no listen address")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.o.Addr)
	if err != nil {
		return fmt.Errorf("opsserver: listening on %s: %w", s.o.Addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	served := make(chan struct{})
	s.served = served
	s.mu.Unlock()
	s.log.Info("ops endpoint listening", "addr", ln.Addr().String())
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			s.log.Error("ops endpoint stopped", "err", err)
		}
		s.mu.Lock()
		s.serveErr = err
		s.mu.Unlock()
		close(served)
	}()
	return nil
}

// Addr is the address the server listens on ("" before Start).
func (s *Server) Addr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops listening and waits for open requests to finish until ctx
// is done (then it closes them).
func (s *Server) Shutdown(ctx context.Context) error {
	s.SetDraining()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		err = errors.Join(err, s.srv.Close())
	}
	s.mu.RLock()
	served := s.served
	s.mu.RUnlock()
	if served != nil {
		select {
		case <-served:
			s.mu.RLock()
			err = errors.Join(err, s.serveErr)
			s.mu.RUnlock()
		case <-ctx.Done():
		}
	}
	return err
}

// Run starts the server, serves until ctx is done, then shuts it down
// (waiting at most grace for open requests).
func (s *Server) Run(ctx context.Context, grace time.Duration) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	return s.Shutdown(sctx)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz answers 200 when the process can do its work: configuration
// loaded, store writable, not shutting down. The body lists each check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	cfg, draining, refused, refusedAt := s.cfg, s.draining, s.reloadErr, s.reloadErrT
	s.mu.RUnlock()
	var lines []string
	ok := true
	if draining {
		ok = false
		lines = append(lines, "shutdown: in progress")
	}
	if cfg == nil {
		ok = false
		lines = append(lines, "config: not loaded")
	} else if refused != "" {
		// Still ready: the previous configuration keeps working.
		lines = append(lines, "config: ok, but not the file on disk: the reload at "+refusedAt.UTC().Format(time.RFC3339)+
			" was refused, so the previous configuration (loaded "+cfg.LoadedAt.UTC().Format(time.RFC3339)+") keeps running: "+oneLine(refused, 300))
	} else {
		lines = append(lines, "config: ok (loaded "+cfg.LoadedAt.UTC().Format(time.RFC3339)+")")
	}
	if s.o.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		err := s.o.Ready(ctx)
		cancel()
		if err != nil {
			ok = false
			lines = append(lines, "store: "+oneLine(err.Error(), 300))
		} else {
			lines = append(lines, "store: ok")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	io.WriteString(w, strings.Join(lines, "\n")+"\n")
}

// StoreWriter is what readiness needs of the store (store.Store has it).
type StoreWriter interface {
	Heartbeat(ctx context.Context, owner string, now time.Time) error
}

// StoreReady returns a Ready check for st: a small write (owner's
// heartbeat row) that must succeed within the deadline, so that a store
// that answers but cannot write (a full disk, a read-only file or
// database) is not ready. (It used to read a key beginning with a NUL
// byte, which PostgreSQL refuses, so PostgreSQL was never ready; and a
// read said nothing about writes.) Only one probe runs at a time: while a
// write hangs, later checks report it instead of piling up.
func StoreReady(st StoreWriter, owner string) func(ctx context.Context) error {
	busy := make(chan struct{}, 1)
	var since atomic.Int64 // when the probe in flight started (Unix ns)
	return func(ctx context.Context) error {
		select {
		case busy <- struct{}{}:
		default:
			return fmt.Errorf("store not reachable or not writable: the write probe started %s has not finished",
				time.Unix(0, since.Load()).UTC().Format(time.RFC3339))
		}
		since.Store(time.Now().UnixNano())
		done := make(chan error, 1)
		go func() {
			defer func() { <-busy }()
			// The probe outlives this check's deadline (the next checks
			// report it) but not probeLimit.
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeLimit)
			defer cancel()
			done <- st.Heartbeat(pctx, owner, time.Now())
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("store not reachable or not writable: %w", err)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("store not reachable or not writable: no answer to a write within the deadline: %w", ctx.Err())
		}
	}
}

// oneLine flattens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
