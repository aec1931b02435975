package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode, as Slack speaks it (https://api.slack.com/apis/connections/socket):
//
//	apps.connections.open   with an app-level token (xapp-…) answers a one-time
//	                        WebSocket URL on the fake's own port
//	hello                   the first message on every new connection
//	envelopes               {"envelope_id", "type": events_api | slash_commands |
//	                        interactive, "payload", "accepts_response_payload",
//	                        "retry_attempt", "retry_reason"}
//	acknowledgements        the app answers {"envelope_id", "payload"?}; the fake
//	                        records each with its time, latency and payload, and
//	                        applies a view_submission's response_action to the view
//	disconnect              {"type":"disconnect","reason":…} asks the app to reconnect
//	pings                   WebSocket pings every PingEvery, as Slack sends them
//
// Envelopes go to the open connections in turn (Slack spreads them over an
// app's connections). An envelope sent while no connection is open waits for
// the next one. DropSockets cuts every connection without a close frame; the
// envelopes not yet acknowledged are delivered again, with retry_attempt
// counted up, on the next connection, as Slack retries them.

// Envelope types.
const (
	EnvelopeEventsAPI   = "events_api"
	EnvelopeSlash       = "slash_commands"
	EnvelopeInteractive = "interactive"
)

// MethodConnectionsOpen is apps.connections.open.
const MethodConnectionsOpen = "apps.connections.open"

// AckDeadline is how long Slack waits for an acknowledgement.
const AckDeadline = 3 * time.Second

// Envelope is one Socket Mode delivery as the fake recorded it.
type Envelope struct {
	ID      string
	Type    string
	Payload json.RawMessage
	// AcceptsResponsePayload is true for slash commands and interactive
	// payloads: the acknowledgement may carry a response.
	AcceptsResponsePayload bool
	// RetryAttempt counts redeliveries (0: first delivery); RetryReason says why.
	RetryAttempt int
	RetryReason  string
	// Deliveries counts the times it was written to a socket; SentAt is the last.
	Deliveries int
	SentAt     time.Time
	// Conn is the connection (from 1, in order of opening) it was last sent on.
	Conn int

	Acked bool
	// AckedAt, AckLatency (from the last delivery) and AckPayload describe
	// the first acknowledgement; Acks counts them all.
	AckedAt    time.Time
	AckLatency time.Duration
	AckPayload json.RawMessage
	Acks       int
}

// Late says whether the envelope was acknowledged after Slack's 3 seconds
// (or not at all, when asked after them).
func (e Envelope) Late() bool {
	if !e.Acked {
		return !e.SentAt.IsZero() && time.Since(e.SentAt) > AckDeadline
	}
	return e.AckLatency > AckDeadline
}

// Ack is one acknowledgement the app sent.
type Ack struct {
	EnvelopeID string
	At         time.Time
	Payload    json.RawMessage
	Conn       int
	Known      bool // the envelope id was one the fake sent
}

type sockConn struct {
	n      int
	ws     *websocket.Conn
	wmu    sync.Mutex
	opened time.Time
	done   chan struct{}
	once   sync.Once
}

func (c *sockConn) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

func (c *sockConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.ws.Close()
	})
}

// socketState is the fake's Socket Mode side; its fields are guarded by Server.mu.
type socketState struct {
	appToken  string        // "" accepts any xapp- token
	pingEvery time.Duration // WebSocket pings to the app
	refuse    string        // apps.connections.open answers this error while set

	tickets   map[string]bool // one-time WebSocket tickets not yet used
	ticketSeq int
	conns     []*sockConn // open connections, oldest first
	connSeq   int
	next      int // round-robin position
	envSeq    int
	envs      []*Envelope
	byEnv     map[string]*Envelope
	pending   []string // envelope ids waiting for a connection
	acks      []Ack
}

// WithAppToken makes apps.connections.open accept only this app-level
// token. By default any token starting with "xapp-" is accepted.
func WithAppToken(tok string) Option { return func(s *Server) { s.sock.appToken = tok } }

// WithPingEvery sets how often the fake pings each socket (default 5s).
func WithPingEvery(d time.Duration) Option { return func(s *Server) { s.sock.pingEvery = d } }

func (s *Server) initSocket() {
	if s.sock.pingEvery <= 0 {
		s.sock.pingEvery = 5 * time.Second
	}
	s.sock.tickets = map[string]bool{}
	s.sock.byEnv = map[string]*Envelope{}
}

// connectionsOpenLocked answers apps.connections.open.
func (s *Server) connectionsOpenLocked(req *request) (any, string) {
	if !strings.HasPrefix(req.token, "xapp-") {
		return nil, "not_allowed_token_type"
	}
	if s.sock.appToken != "" && req.token != s.sock.appToken {
		return nil, "invalid_auth"
	}
	if s.sock.refuse != "" {
		return nil, s.sock.refuse
	}
	s.sock.ticketSeq++
	t := fmt.Sprintf("fake-ticket-%d", s.sock.ticketSeq)
	s.sock.tickets[t] = true
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + t + "&app_id=A0000FAKE"
	return map[string]any{"ok": true, "url": u}, ""
}

// RefuseConnections makes apps.connections.open answer the Slack error
// code (e.g. "invalid_auth") until called with "".
func (s *Server) RefuseConnections(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sock.refuse = code
}

var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	t := r.URL.Query().Get("ticket")
	s.mu.Lock()
	ok := s.sock.tickets[t]
	delete(s.sock.tickets, t)
	s.mu.Unlock()
	if !ok {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.sock.connSeq++
	c := &sockConn{n: s.sock.connSeq, ws: ws, opened: time.Now(), done: make(chan struct{})}
	s.sock.conns = append(s.sock.conns, c)
	n := len(s.sock.conns)
	s.mu.Unlock()

	hello := map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info":      map[string]any{"host": "applink-fake-" + strconv.Itoa(c.n), "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A0000FAKE"},
	}
	if err := c.write(hello); err != nil {
		s.removeConn(c)
		return
	}
	s.mu.Lock()
	s.notifyLocked()
	pend := s.sock.pending
	s.sock.pending = nil
	s.mu.Unlock()
	for _, id := range pend {
		s.deliver(id)
	}
	go s.pinger(c)
	s.readAcks(c)
}

func (s *Server) pinger(c *sockConn) {
	t := time.NewTicker(s.sock.pingEvery)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.wmu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
			c.wmu.Unlock()
			if err != nil {
				s.removeConn(c)
				return
			}
		}
	}
}

// readAcks reads the app's acknowledgements until the connection ends.
func (s *Server) readAcks(c *sockConn) {
	defer s.removeConn(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var a struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &a) != nil || a.EnvelopeID == "" {
			continue
		}
		now := time.Now()
		s.mu.Lock()
		e := s.sock.byEnv[a.EnvelopeID]
		s.sock.acks = append(s.sock.acks, Ack{EnvelopeID: a.EnvelopeID, At: now, Payload: a.Payload, Conn: c.n, Known: e != nil})
		if e != nil {
			e.Acks++
			if !e.Acked {
				e.Acked, e.AckedAt, e.AckLatency = true, now, now.Sub(e.SentAt)
				if len(a.Payload) > 0 && string(a.Payload) != "null" {
					e.AckPayload = a.Payload
				}
				s.applyAckLocked(e)
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *Server) removeConn(c *sockConn) {
	c.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := slices.Index(s.sock.conns, c); i >= 0 {
		s.sock.conns = slices.Delete(s.sock.conns, i, i+1)
		s.notifyLocked()
	}
}

// Deliver sends an envelope of type typ (EnvelopeEventsAPI,
// EnvelopeSlash, EnvelopeInteractive) with payload (marshalled to JSON
// unless it is already json.RawMessage or []byte) to the next open
// connection, or to the next connection to open, and returns its
// envelope id.
func (s *Server) Deliver(typ string, payload any) string {
	return s.deliverNew(typ, payload, nil)
}

// deliverNew is Deliver; hook, if set, learns the envelope's id before
// the app can see it.
func (s *Server) deliverNew(typ string, payload any, hook *responseHook) string {
	var raw json.RawMessage
	switch p := payload.(type) {
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			panic("slackfake: payload: " + err.Error())
		}
		raw = b
	}
	s.mu.Lock()
	s.sock.envSeq++
	e := &Envelope{
		ID:                     fmt.Sprintf("%08x-fake-%04d-envelope", s.sock.envSeq*7919, s.sock.envSeq),
		Type:                   typ,
		Payload:                raw,
		AcceptsResponsePayload: typ != EnvelopeEventsAPI,
	}
	s.sock.envs = append(s.sock.envs, e)
	s.sock.byEnv[e.ID] = e
	if hook != nil {
		hook.envelope = e.ID
	}
	s.mu.Unlock()
	s.deliver(e.ID)
	return e.ID
}

// Redeliver sends envelope id again, as Slack retries an envelope it got
// no acknowledgement for: same envelope id and payload, retry_attempt
// counted up, retry_reason set (default "timeout").
func (s *Server) Redeliver(id, reason string) {
	if reason == "" {
		reason = "timeout"
	}
	s.mu.Lock()
	e := s.sock.byEnv[id]
	if e == nil {
		s.mu.Unlock()
		panic("slackfake: Redeliver: unknown envelope " + id)
	}
	e.RetryAttempt++
	e.RetryReason = reason
	s.mu.Unlock()
	s.deliver(id)
}

// deliver writes envelope id to the next open connection, or queues it.
func (s *Server) deliver(id string) {
	for {
		s.mu.Lock()
		e := s.sock.byEnv[id]
		if len(s.sock.conns) == 0 {
			if !slices.Contains(s.sock.pending, id) {
				s.sock.pending = append(s.sock.pending, id)
			}
			s.mu.Unlock()
			return
		}
		s.sock.next = (s.sock.next + 1) % len(s.sock.conns)
		c := s.sock.conns[s.sock.next]
		msg := map[string]any{
			"envelope_id":              e.ID,
			"type":                     e.Type,
			"payload":                  e.Payload,
			"accepts_response_payload": e.AcceptsResponsePayload,
		}
		if e.RetryAttempt > 0 {
			msg["retry_attempt"], msg["retry_reason"] = e.RetryAttempt, e.RetryReason
		}
		e.Deliveries++
		e.SentAt = time.Now()
		e.Conn = c.n
		s.mu.Unlock()
		if err := c.write(msg); err != nil {
			s.removeConn(c)
			continue // try another connection, or queue
		}
		return
	}
}

// DropSockets cuts every open connection at once, without a close frame,
// as a network failure does. Envelopes not acknowledged yet are delivered
// again (retry_attempt + 1, retry_reason "timeout") on the next connection.
func (s *Server) DropSockets() {
	s.mu.Lock()
	conns := slices.Clone(s.sock.conns)
	s.sock.conns = nil
	for _, e := range s.sock.envs {
		if !e.Acked && e.Deliveries > 0 && !slices.Contains(s.sock.pending, e.ID) {
			e.RetryAttempt++
			e.RetryReason = "timeout"
			s.sock.pending = append(s.sock.pending, e.ID)
		}
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Disconnect sends {"type":"disconnect","reason":reason} on every open
// connection ("refresh_requested", "warning", "link_disabled"), as Slack
// does before it recycles a connection, and closes them after grace (the
// app is expected to open a new connection meanwhile).
func (s *Server) Disconnect(reason string, grace time.Duration) {
	s.mu.Lock()
	conns := slices.Clone(s.sock.conns)
	s.mu.Unlock()
	msg := map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": "applink-fake"},
	}
	for _, c := range conns {
		_ = c.write(msg)
	}
	time.AfterFunc(grace, func() {
		for _, c := range conns {
			c.wmu.Lock()
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, reason), time.Now().Add(time.Second))
			c.wmu.Unlock()
			s.removeConn(c)
		}
	})
}

// Connections is how many sockets are open now.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sock.conns)
}

// ConnectionsOpened counts the sockets ever opened.
func (s *Server) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sock.connSeq
}

// WaitConnections blocks until at least n sockets are open.
func (s *Server) WaitConnections(ctx context.Context, n int) error {
	return s.waitCond(ctx, func() bool { return len(s.sock.conns) >= n },
		func() string { return fmt.Sprintf("%d of %d sockets open", len(s.sock.conns), n) })
}

// WaitOpened blocks until at least n sockets were ever opened.
func (s *Server) WaitOpened(ctx context.Context, n int) error {
	return s.waitCond(ctx, func() bool { return s.sock.connSeq >= n },
		func() string { return fmt.Sprintf("%d of %d sockets opened", s.sock.connSeq, n) })
}

// Envelope returns envelope id as it is now.
func (s *Server) Envelope(id string) (Envelope, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.sock.byEnv[id]
	if e == nil {
		return Envelope{}, false
	}
	return *e, true
}

// Envelopes returns every envelope sent, in order.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, len(s.sock.envs))
	for i, e := range s.sock.envs {
		out[i] = *e
	}
	return out
}

// Acks returns every acknowledgement received, in order (duplicates and
// unknown envelope ids included).
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sock.acks)
}

// AckLatencies returns the latency of every acknowledged envelope, in the
// order they were sent.
func (s *Server) AckLatencies() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, e := range s.sock.envs {
		if e.Acked {
			out = append(out, e.AckLatency)
		}
	}
	return out
}

// WaitAck blocks until envelope id is acknowledged and returns it.
func (s *Server) WaitAck(ctx context.Context, id string) (Envelope, error) {
	err := s.waitCond(ctx, func() bool { e := s.sock.byEnv[id]; return e != nil && e.Acked },
		func() string { return "acknowledgement of envelope " + id })
	e, _ := s.Envelope(id)
	return e, err
}

// waitCond blocks until cond (called with s.mu held) is true after a
// change, or ctx is done; what describes the wait in the error.
func (s *Server) waitCond(ctx context.Context, cond func() bool, what func() string) error {
	for {
		s.mu.Lock()
		ch := s.changed
		ok := cond()
		desc := ""
		if !ok {
			desc = what()
		}
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackfake: waiting for %s: %w", desc, ctx.Err())
		}
	}
}

// closeSockets closes every socket (Close).
func (s *Server) closeSockets() {
	s.mu.Lock()
	conns := slices.Clone(s.sock.conns)
	s.sock.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}
