// Package slackfake is a recording fake of the parts of the Slack Web API
// that Wirewatch uses, for tests. It owns nothing of Wirewatch's behaviour:
// it listens on a real loopback port (httptest), answers like Slack, records
// every message it accepts in order, and injects faults on demand.
//
// Methods served under APIURL() ("http://127.0.0.1:PORT/api/"):
//
//	chat.postMessage      records the message (channel, text, blocks, metadata, thread_ts, raw body)
//	chat.update           updates a recorded message in place: its text, blocks and metadata
//	                      become the update's (Message.Updates counts the edits)
//	conversations.history top-level messages of a channel, newest first (thread replies
//	                      excluded, as Slack does), metadata only with include_all_metadata
//	conversations.replies a thread: its parent first, then its replies oldest first,
//	                      metadata only with include_all_metadata
//	conversations.list    every channel the fake knows (created on first post, or by AddChannel)
//	auth.test             who the token is
//	apps.connections.open a one-time Socket Mode URL, for an app-level token (socket.go)
//	views.open, views.push, views.update, views.publish
//	                      modals and Home tabs, kept per user (views.go)
//	chat.postEphemeral    a message one user sees (views.go)
//	usergroups.users.list the members of a user group set with AddUserGroup
//
// Socket Mode (socket.go): a WebSocket server on the same port speaking
// Slack's envelope and acknowledgement protocol; tests deliver what people
// do in Slack (interact.go: a button click, a menu choice, a slash command,
// a modal submission, opening the Home tab) with the payloads Slack sends,
// and read what the app answered: acknowledgements with their latency,
// modals, Home tabs, ephemeral messages and response_url posts.
//
// and an incoming webhook at WebhookURL(), whose messages are recorded in
// the channel given to New (WithWebhookChannel), as a real webhook posts to
// one fixed channel.
//
// Channels: chat.postMessage accepts a channel ID or a name (with or without
// "#"), like Slack; a name seen for the first time creates the channel with
// a stable ID ("C" + counter). conversations.history, like Slack, accepts
// only IDs. Use Reject to make a channel answer channel_not_found or
// not_in_channel for good.
//
// Faults: Inject queues faults consumed by the next matching calls (per
// method, optionally per channel); FaultFunc decides per call. A fault can be
// a 429 with Retry-After, an HTTP 5xx, a Slack error ("ok":false), accepting
// the message and then dropping the connection without an answer (the
// unknown-outcome case), or accepting and hanging until the client gives up.
//
// The fake is safe for concurrent use. A test in another package can start
// it and hand APIURL() or WebhookURL() to a child process: no in-process
// hooks are needed.
package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Method names, as in the URL path after /api/. MethodWebhook is the
// incoming-webhook endpoint.
const (
	MethodPostMessage = "chat.postMessage"
	MethodUpdate      = "chat.update"
	MethodHistory     = "conversations.history"
	MethodReplies     = "conversations.replies"
	MethodList        = "conversations.list"
	MethodAuthTest    = "auth.test"
	MethodWebhook     = "webhook"
)

// FaultKind is what an injected fault does to a call.
type FaultKind int

const (
	// RateLimit answers 429 Too Many Requests with a Retry-After header.
	RateLimit FaultKind = iota + 1
	// ServerError answers an HTTP error status (default 500) with an HTML body.
	ServerError
	// SlackError answers HTTP 200 {"ok":false,"error":Error} (for the
	// webhook: a 4xx status with Error as the text body, as Slack does).
	SlackError
	// AcceptThenDrop accepts the call (a message is recorded) and closes the
	// connection without answering: the client cannot know it succeeded.
	AcceptThenDrop
	// AcceptThenHang accepts the call and answers nothing until the client
	// gives up (or Hang passes, then it drops the connection).
	AcceptThenHang
	// Drop closes the connection without accepting anything.
	Drop
)

func (k FaultKind) String() string {
	switch k {
	case RateLimit:
		return "rate_limit"
	case ServerError:
		return "server_error"
	case SlackError:
		return "slack_error"
	case AcceptThenDrop:
		return "accept_then_drop"
	case AcceptThenHang:
		return "accept_then_hang"
	case Drop:
		return "drop"
	}
	return "none"
}

// Fault describes one injected failure.
type Fault struct {
	Kind       FaultKind
	RetryAfter int           // seconds, for RateLimit (default 1)
	Status     int           // HTTP status for ServerError (default 500)
	Error      string        // Slack error code for SlackError, e.g. "channel_not_found"
	Hang       time.Duration // upper bound for AcceptThenHang (default 30s)
}

// Convenience constructors.
func RateLimited(retryAfterSeconds int) Fault {
	return Fault{Kind: RateLimit, RetryAfter: retryAfterSeconds}
}
func HTTPError(status int) Fault       { return Fault{Kind: ServerError, Status: status} }
func ErrorCode(code string) Fault      { return Fault{Kind: SlackError, Error: code} }
func AcceptDrop() Fault                { return Fault{Kind: AcceptThenDrop} }
func AcceptHang(d time.Duration) Fault { return Fault{Kind: AcceptThenHang, Hang: d} }

// Call is what the fake saw of one request, accepted or not.
type Call struct {
	Seq     int
	Method  string
	Channel string // as sent ("" when the method has none)
	Fault   FaultKind
	Status  int    // HTTP status answered (0 if the connection was dropped)
	Error   string // Slack error answered, if any
	At      time.Time
}

// Message is one message the fake accepted.
type Message struct {
	Seq         int    // order of acceptance across all channels, from 1
	Method      string // MethodPostMessage or MethodWebhook
	Channel     string // channel as the client sent it ("#news", "news" or "C0001")
	ChannelID   string
	ChannelName string // without "#"
	TS          string // Slack message timestamp assigned by the fake
	ThreadTS    string
	Text        string
	// Blocks is the "blocks" JSON as received (nil if none).
	Blocks json.RawMessage
	// Metadata is the "metadata" JSON as received (nil if none); EventType
	// and Payload are decoded from it.
	Metadata  json.RawMessage
	EventType string
	Payload   map[string]any
	// Params holds every form field except the token (for JSON bodies:
	// top-level string and bool fields), e.g. unfurl_links, parse, link_names.
	Params url.Values
	// RawBody is the request body exactly as received.
	RawBody []byte
	// Updates counts chat.update calls applied to this message.
	Updates int
	// Dropped is true when the fake accepted the message but dropped the
	// connection (the client saw an error).
	Dropped bool
}

// Rule matches calls for Inject.
type Rule struct {
	Method  string // "" matches every method
	Channel string // "" matches every channel; otherwise an ID or name (with or without "#")
}

type injected struct {
	rule  Rule
	fault Fault
	left  int // remaining uses; <0 forever
}

type channel struct {
	id, name string
	private  bool
	reject   string // permanent Slack error for this channel
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	token          string
	webhookChannel string
	historyPage    int

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every accepted message
	seq       int
	callSeq   int
	lastTS    time.Time
	messages  []*Message
	calls     []Call
	faults    []*injected
	faultFunc func(Call) *Fault
	channels  []*channel
	byKey     map[string]*channel // id and name → channel

	sock socketState  // Socket Mode (socket.go)
	surf surfaceState // modals, Home tabs, ephemerals, user groups (views.go)
}

// Option configures New.
type Option func(*Server)

// WithToken makes the fake accept only this token (others get invalid_auth).
// By default any non-empty token is accepted.
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithWebhookChannel names the channel incoming-webhook messages land in
// (default "webhook").
func WithWebhookChannel(name string) Option {
	return func(s *Server) { s.webhookChannel = name }
}

// WithHistoryPageLimit caps how many messages one conversations.history
// call returns, whatever limit the client asks (default: the client's
// limit, up to 999).
func WithHistoryPageLimit(n int) Option { return func(s *Server) { s.historyPage = n } }

// New starts a fake on a loopback port.
func New(opts ...Option) *Server {
	s := &Server{
		webhookChannel: "webhook",
		changed:        make(chan struct{}),
		byKey:          map[string]*channel{},
	}
	for _, o := range opts {
		o(s)
	}
	s.initSocket()
	s.initSurfaces()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/services/", s.handleWebhook)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/actions/", s.handleResponseURL)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base URL to give slack-go (slack.OptionAPIURL).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// WebhookURL is an incoming-webhook URL served by the fake.
func (s *Server) WebhookURL() string {
	return s.srv.URL + "/services/T0000FAKE/B0000FAKE/fakewebhooksecret"
}

// Close shuts the server down, dropping open connections.
func (s *Server) Close() {
	s.closeSockets()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// --- configuration ---

// AddChannel creates a channel (if not known) and returns its ID.
func (s *Server) AddChannel(name string, private bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(name, true)
	c.private = private
	return c.id
}

// ChannelID returns the ID of a channel known by name or ID, or "".
func (s *Server) ChannelID(nameOrID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelLocked(nameOrID, false); c != nil {
		return c.id
	}
	return ""
}

// Reject makes every call about channel answer the Slack error code (e.g.
// "channel_not_found", "not_in_channel", "is_archived") until Accept.
func (s *Server) Reject(channelName, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelLocked(channelName, true).reject = code
}

// Accept undoes Reject.
func (s *Server) Accept(channelName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelLocked(channelName, true).reject = ""
}

// Inject queues a fault for the next times calls matching r (times < 0:
// every matching call until ClearFaults). Queued faults are consumed in the
// order they were injected.
func (s *Server) Inject(r Rule, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times == 0 {
		return
	}
	s.faults = append(s.faults, &injected{rule: r, fault: f, left: times})
}

// FaultFunc installs a function consulted for every call that no queued
// fault matched; it returns the fault to apply or nil. It is called with the
// fake's lock held: it must not call the Server's methods.
func (s *Server) FaultFunc(f func(Call) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultFunc = f
}

// ClearFaults removes queued faults and the fault function.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	s.faultFunc = nil
}

// --- reading what was recorded ---

// Messages returns copies of every accepted message, in order of acceptance.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// MessagesIn returns the accepted messages of one channel (by ID or name,
// with or without "#"), in order.
func (s *Server) MessagesIn(ch string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(ch, false)
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range s.messages {
		if m.ChannelID == c.id {
			out = append(out, *m)
		}
	}
	return out
}

// TopLevel returns the accepted messages of one channel that are not
// thread replies, in order.
func (s *Server) TopLevel(ch string) []Message {
	var out []Message
	for _, m := range s.MessagesIn(ch) {
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

// Replies returns the accepted replies in the thread of message ts of one
// channel, in order.
func (s *Server) Replies(ch, ts string) []Message {
	var out []Message
	for _, m := range s.MessagesIn(ch) {
		if m.ThreadTS == ts && m.TS != ts {
			out = append(out, m)
		}
	}
	return out
}

// Message returns the message ts of one channel as it is now (after any
// chat.update), and whether it exists.
func (s *Server) Message(ch, ts string) (Message, bool) {
	for _, m := range s.MessagesIn(ch) {
		if m.TS == ts {
			return m, true
		}
	}
	return Message{}, false
}

// Calls returns every request seen, in order, accepted or not.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount counts the calls of one method ("" for all).
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			n++
		}
	}
	return n
}

// Len is the number of accepted messages.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// WaitFor blocks until cond, called with the accepted messages after every
// change, returns true, or ctx is done.
func (s *Server) WaitFor(ctx context.Context, cond func([]Message) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s.Messages()) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("slackfake: waiting for messages (have %d): %w", s.Len(), ctx.Err())
		}
	}
}

// WaitLen blocks until at least n messages were accepted or ctx is done.
func (s *Server) WaitLen(ctx context.Context, n int) error {
	return s.WaitFor(ctx, func(m []Message) bool { return len(m) >= n })
}

// Reset forgets every recorded message and call (channels and faults stay).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
	s.calls = nil
}

// --- HTTP handling ---

func normName(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "#") }

// channelLocked finds a channel by ID or name; create makes a missing one.
func (s *Server) channelLocked(key string, create bool) *channel {
	key = normName(key)
	if c, ok := s.byKey[key]; ok {
		return c
	}
	if !create || key == "" {
		return nil
	}
	c := &channel{id: fmt.Sprintf("C%08d", len(s.channels)+1), name: key}
	s.channels = append(s.channels, c)
	s.byKey[c.id] = c
	s.byKey[c.name] = c
	return c
}

// isID says whether s looks like a Slack conversation ID.
func isID(s string) bool {
	if len(s) < 9 || (s[0] != 'C' && s[0] != 'G' && s[0] != 'D') {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// nextTSLocked returns a unique, increasing message timestamp from the wall
// clock, as Slack does ("1700000000.000100").
func (s *Server) nextTSLocked() string {
	t := time.Now().Truncate(time.Microsecond)
	if !t.After(s.lastTS) {
		t = s.lastTS.Add(time.Microsecond)
	}
	s.lastTS = t
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// sameChannelLocked says whether two channel references (IDs or names)
// name the same channel.
func (s *Server) sameChannelLocked(a, b string) bool {
	if normName(a) == normName(b) {
		return true
	}
	ca, cb := s.channelLocked(a, false), s.channelLocked(b, false)
	return ca != nil && ca == cb
}

// pickFaultLocked returns the fault for a call, consuming a queued one.
func (s *Server) pickFaultLocked(c Call) *Fault {
	for i, f := range s.faults {
		if f.rule.Method != "" && f.rule.Method != c.Method {
			continue
		}
		if f.rule.Channel != "" && !s.sameChannelLocked(f.rule.Channel, c.Channel) {
			continue
		}
		fault := f.fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return &fault
	}
	if s.faultFunc != nil {
		return s.faultFunc(c)
	}
	return nil
}

type request struct {
	method string
	form   url.Values
	raw    []byte
	token  string
	json   bool
}

func readRequest(r *http.Request, method string) (*request, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	req := &request{method: method, raw: raw, form: url.Values{}}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/json") {
		req.json = true
		var m map[string]any
		if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, err
			}
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				req.form.Set(k, v)
			case bool:
				req.form.Set(k, strconv.FormatBool(v))
			case float64:
				req.form.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				b, _ := json.Marshal(v)
				req.form.Set(k, string(b))
			}
		}
	} else {
		q, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, err
		}
		req.form = q
	}
	for k, v := range r.URL.Query() {
		if _, ok := req.form[k]; !ok {
			req.form[k] = v
		}
	}
	req.token = req.form.Get("token")
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		req.token = strings.TrimPrefix(auth, "Bearer ")
	}
	req.form.Del("token")
	return req, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func slackErr(w http.ResponseWriter, code string) {
	writeJSON(w, map[string]any{"ok": false, "error": code})
}

func dropConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// answerFault applies a fault that answers before anything is accepted. It
// returns the HTTP status written (0 for a dropped connection) and false if
// the fault lets the call be accepted first.
func answerFault(w http.ResponseWriter, f *Fault, webhook bool) (status int, handled bool) {
	switch f.Kind {
	case RateLimit:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(ra))
		if webhook {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, "rate_limited")
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		}
		return http.StatusTooManyRequests, true
	case ServerError:
		st := f.Status
		if st == 0 {
			st = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(st)
		_, _ = io.WriteString(w, "<html><body>fake server error</body></html>")
		return st, true
	case SlackError:
		if webhook {
			st := webhookStatus(f.Error)
			w.WriteHeader(st)
			_, _ = io.WriteString(w, f.Error)
			return st, true
		}
		slackErr(w, f.Error)
		return http.StatusOK, true
	case Drop:
		dropConn(w)
		return 0, true
	}
	return 0, false
}

// webhookStatus is the HTTP status Slack uses for an incoming-webhook error.
func webhookStatus(code string) int {
	switch code {
	case "invalid_payload", "user_not_found":
		return http.StatusBadRequest
	case "action_prohibited", "invalid_token":
		return http.StatusForbidden
	case "channel_not_found", "no_service":
		return http.StatusNotFound
	case "channel_is_archived", "no_active_hooks":
		return http.StatusGone
	}
	return http.StatusBadRequest
}

// finishAccepted applies the part of a fault that happens after the
// message was accepted. It returns true if the connection was dropped.
func (s *Server) finishAccepted(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f == nil {
		return false
	}
	switch f.Kind {
	case AcceptThenDrop:
		dropConn(w)
		return true
	case AcceptThenHang:
		d := f.Hang
		if d <= 0 {
			d = 30 * time.Second
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		dropConn(w)
		return true
	}
	return false
}

func (s *Server) recordCallLocked(c Call) {
	s.callSeq++
	c.Seq = s.callSeq
	c.At = time.Now()
	s.calls = append(s.calls, c)
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	req, err := readRequest(r, method)
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	call := Call{Method: method, Channel: req.form.Get("channel")}

	s.mu.Lock()
	fault := s.pickFaultLocked(call)
	if fault != nil {
		call.Fault = fault.Kind
		if st, handled := answerFault(w, fault, false); handled {
			call.Status = st
			call.Error = fault.Error
			s.recordCallLocked(call)
			s.mu.Unlock()
			return
		}
	}
	appLevel := method == MethodConnectionsOpen
	if !appLevel && strings.HasPrefix(req.token, "xapp-") {
		// An app-level token opens sockets and nothing else.
		call.Status, call.Error = http.StatusOK, "not_allowed_token_type"
		s.recordCallLocked(call)
		s.mu.Unlock()
		slackErr(w, "not_allowed_token_type")
		return
	}
	if req.token == "" || (!appLevel && s.token != "" && req.token != s.token) {
		code := "invalid_auth"
		if req.token == "" {
			code = "not_authed"
		}
		call.Status, call.Error = http.StatusOK, code
		s.recordCallLocked(call)
		s.mu.Unlock()
		slackErr(w, code)
		return
	}
	var (
		resp    any
		errStr  string
		msg     *Message
		changed bool
	)
	switch method {
	case MethodPostMessage:
		resp, msg, errStr = s.postMessageLocked(req)
	case MethodUpdate:
		resp, errStr = s.updateLocked(req)
		changed = errStr == ""
	case MethodHistory:
		resp, errStr = s.historyLocked(req)
	case MethodReplies:
		resp, errStr = s.repliesLocked(req)
	case MethodList:
		resp, errStr = s.listLocked(req)
	case MethodConnectionsOpen:
		resp, errStr = s.connectionsOpenLocked(req)
	case MethodAuthTest:
		resp = map[string]any{
			"ok": true, "url": s.srv.URL + "/", "team": "Fake Newsroom", "user": "wirewatch",
			"team_id": "T0000FAKE", "user_id": "U0000BOT", "bot_id": "B0000BOT",
		}
	default:
		var known bool
		resp, errStr, known = s.surfaceLocked(method, req)
		if !known {
			errStr = "unknown_method"
		}
		changed = known && errStr == ""
	}
	call.Status, call.Error = http.StatusOK, errStr
	dropped := false
	if msg != nil && fault != nil && (fault.Kind == AcceptThenDrop || fault.Kind == AcceptThenHang) {
		msg.Dropped = true
		dropped = true
		call.Status = 0
	}
	s.recordCallLocked(call)
	if msg != nil || changed {
		s.notifyLocked()
	}
	s.mu.Unlock()

	if dropped {
		s.finishAccepted(w, r, fault)
		return
	}
	if errStr != "" {
		slackErr(w, errStr)
		return
	}
	writeJSON(w, resp)
}

// messageFrom builds a Message from a request's fields.
func messageFrom(req *request) *Message {
	m := &Message{
		Method:   req.method,
		Channel:  req.form.Get("channel"),
		ThreadTS: req.form.Get("thread_ts"),
		Text:     req.form.Get("text"),
		RawBody:  req.raw,
		Params:   url.Values{},
	}
	for k, v := range req.form {
		m.Params[k] = slices.Clone(v)
	}
	if b := req.form.Get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	if md := req.form.Get("metadata"); md != "" {
		m.Metadata = json.RawMessage(md)
		var meta struct {
			EventType    string         `json:"event_type"`
			EventPayload map[string]any `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &meta) == nil {
			m.EventType, m.Payload = meta.EventType, meta.EventPayload
		}
	}
	return m
}

func (s *Server) postMessageLocked(req *request) (any, *Message, string) {
	chName := req.form.Get("channel")
	if chName == "" {
		return nil, nil, "channel_not_found"
	}
	var c *channel
	if isID(chName) {
		c = s.channelLocked(chName, false)
		if c == nil {
			return nil, nil, "channel_not_found"
		}
	} else {
		c = s.channelLocked(chName, true)
	}
	if c.reject != "" {
		return nil, nil, c.reject
	}
	if req.form.Get("text") == "" && req.form.Get("blocks") == "" && req.form.Get("attachments") == "" {
		return nil, nil, "no_text"
	}
	if b := req.form.Get("blocks"); b != "" && !json.Valid([]byte(b)) {
		return nil, nil, "invalid_blocks_format"
	}
	if md := req.form.Get("metadata"); md != "" && !json.Valid([]byte(md)) {
		return nil, nil, "invalid_metadata_format"
	}
	m := messageFrom(req)
	m.ChannelID, m.ChannelName = c.id, c.name
	m.TS = s.nextTSLocked()
	s.seq++
	m.Seq = s.seq
	s.messages = append(s.messages, m)
	return map[string]any{
		"ok": true, "channel": c.id, "ts": m.TS,
		"message": map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "bot_id": "B0000BOT"},
	}, m, ""
}

func (s *Server) updateLocked(req *request) (any, string) {
	c := s.channelLocked(req.form.Get("channel"), false)
	if c == nil {
		return nil, "channel_not_found"
	}
	if c.reject != "" {
		return nil, c.reject
	}
	ts := req.form.Get("ts")
	for _, m := range s.messages {
		if m.ChannelID == c.id && m.TS == ts {
			u := messageFrom(req)
			if _, ok := req.form["text"]; ok {
				m.Text = u.Text
			}
			if u.Blocks != nil {
				m.Blocks = u.Blocks
			}
			if u.Metadata != nil {
				m.Metadata, m.EventType, m.Payload = u.Metadata, u.EventType, u.Payload
			}
			m.Updates++
			return map[string]any{"ok": true, "channel": c.id, "ts": ts, "text": m.Text}, ""
		}
	}
	return nil, "message_not_found"
}

// readableLocked returns the channel a history call names, or Slack's error:
// like Slack, these calls take only a channel ID.
func (s *Server) readableLocked(req *request) (*channel, string) {
	id := req.form.Get("channel")
	if !isID(id) {
		return nil, "channel_not_found"
	}
	c := s.channelLocked(id, false)
	if c == nil {
		return nil, "channel_not_found"
	}
	if c.reject != "" {
		return nil, c.reject
	}
	return c, ""
}

func (s *Server) historyLocked(req *request) (any, string) {
	c, code := s.readableLocked(req)
	if c == nil {
		return nil, code
	}
	limit := 100
	if l, err := strconv.Atoi(req.form.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	if s.historyPage > 0 {
		limit = min(limit, s.historyPage)
	}
	withMeta := req.form.Get("include_all_metadata") == "1" || req.form.Get("include_all_metadata") == "true"
	oldest, latest := req.form.Get("oldest"), req.form.Get("latest")
	skip := 0
	if cur := req.form.Get("cursor"); cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "next:"))
		if err != nil || n < 0 {
			return nil, "invalid_cursor"
		}
		skip = n
	}
	var all []*Message
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.ChannelID != c.id || m.ThreadTS != "" {
			continue
		}
		if oldest != "" && tsLess(m.TS, oldest) || latest != "" && !tsLess(m.TS, latest) {
			continue
		}
		all = append(all, m)
	}
	return pageOf(all, skip, limit, withMeta), ""
}

// pageOf answers one page of messages, from skip, at most limit.
func pageOf(all []*Message, skip, limit int, withMeta bool) map[string]any {
	var page []map[string]any
	end := min(skip+limit, len(all))
	for _, m := range all[min(skip, len(all)):end] {
		o := map[string]any{"type": "message", "text": m.Text, "ts": m.TS, "bot_id": "B0000BOT", "user": "U0000BOT"}
		if m.ThreadTS != "" {
			o["thread_ts"] = m.ThreadTS
		}
		if m.Blocks != nil {
			o["blocks"] = m.Blocks
		}
		if withMeta && m.Metadata != nil {
			o["metadata"] = m.Metadata
		}
		page = append(page, o)
	}
	if page == nil {
		page = []map[string]any{}
	}
	resp := map[string]any{"ok": true, "messages": page, "has_more": end < len(all)}
	next := ""
	if end < len(all) {
		next = "next:" + strconv.Itoa(end)
	}
	resp["response_metadata"] = map[string]any{"next_cursor": next}
	return resp
}

// repliesLocked answers conversations.replies: the thread of message ts,
// parent first, then its replies oldest first. Like Slack, it takes only a
// channel ID, and a ts that is no message of the channel is thread_not_found.
func (s *Server) repliesLocked(req *request) (any, string) {
	c, code := s.readableLocked(req)
	if c == nil {
		return nil, code
	}
	ts := req.form.Get("ts")
	limit := 100
	if l, err := strconv.Atoi(req.form.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	if s.historyPage > 0 {
		limit = min(limit, s.historyPage)
	}
	withMeta := req.form.Get("include_all_metadata") == "1" || req.form.Get("include_all_metadata") == "true"
	skip := 0
	if cur := req.form.Get("cursor"); cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "next:"))
		if err != nil || n < 0 {
			return nil, "invalid_cursor"
		}
		skip = n
	}
	var thread []*Message
	for _, m := range s.messages {
		if m.ChannelID == c.id && m.TS == ts && m.ThreadTS == "" {
			thread = append(thread, m)
		}
	}
	if len(thread) == 0 {
		return nil, "thread_not_found"
	}
	for _, m := range s.messages {
		if m.ChannelID == c.id && m.ThreadTS == ts && m.TS != ts {
			thread = append(thread, m)
		}
	}
	return pageOf(thread, skip, limit, withMeta), ""
}

// tsLess compares Slack timestamps numerically.
func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	return fa < fb
}

func (s *Server) listLocked(req *request) (any, string) {
	limit := 100
	if l, err := strconv.Atoi(req.form.Get("limit")); err == nil && l > 0 {
		limit = min(l, 1000)
	}
	skip := 0
	if cur := req.form.Get("cursor"); cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "next:"))
		if err != nil || n < 0 {
			return nil, "invalid_cursor"
		}
		skip = n
	}
	types := req.form.Get("types")
	var all []*channel
	for _, c := range s.channels {
		if c.reject == "channel_not_found" {
			continue // a channel Slack does not know is not listed
		}
		if types != "" {
			if c.private && !strings.Contains(types, "private_channel") || !c.private && !strings.Contains(types, "public_channel") {
				continue
			}
		}
		all = append(all, c)
	}
	end := min(skip+limit, len(all))
	list := []map[string]any{}
	for _, c := range all[min(skip, len(all)):end] {
		list = append(list, map[string]any{
			"id": c.id, "name": c.name, "is_channel": !c.private, "is_group": c.private,
			"is_private": c.private, "is_member": c.reject != "not_in_channel",
		})
	}
	next := ""
	if end < len(all) {
		next = "next:" + strconv.Itoa(end)
	}
	return map[string]any{"ok": true, "channels": list, "response_metadata": map[string]any{"next_cursor": next}}, ""
}

func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return
	}
	call := Call{Method: MethodWebhook, Channel: s.webhookChannel}
	var body struct {
		Text     string          `json:"text"`
		Blocks   json.RawMessage `json:"blocks"`
		ThreadTS string          `json:"thread_ts"`
		Channel  string          `json:"channel"`
	}
	s.mu.Lock()
	fault := s.pickFaultLocked(call)
	if fault != nil {
		call.Fault = fault.Kind
		if st, handled := answerFault(w, fault, true); handled {
			call.Status, call.Error = st, fault.Error
			s.recordCallLocked(call)
			s.mu.Unlock()
			return
		}
	}
	c := s.channelLocked(s.webhookChannel, true)
	fail := func(st int, code string) {
		call.Status, call.Error = st, code
		s.recordCallLocked(call)
		s.mu.Unlock()
		w.WriteHeader(st)
		_, _ = io.WriteString(w, code)
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		fail(http.StatusBadRequest, "invalid_payload")
		return
	}
	if c.reject != "" {
		fail(webhookStatus(c.reject), c.reject)
		return
	}
	if body.Text == "" && len(body.Blocks) == 0 {
		fail(http.StatusBadRequest, "no_text")
		return
	}
	params := url.Values{}
	var top map[string]any
	_ = json.Unmarshal(raw, &top)
	for k, v := range top {
		switch v := v.(type) {
		case string:
			params.Set(k, v)
		case bool:
			params.Set(k, strconv.FormatBool(v))
		}
	}
	m := &Message{
		Method: MethodWebhook, Channel: body.Channel, ChannelID: c.id, ChannelName: c.name,
		ThreadTS: body.ThreadTS, Text: body.Text, RawBody: raw, Params: params,
	}
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		m.Blocks = body.Blocks
	}
	m.TS = s.nextTSLocked()
	s.seq++
	m.Seq = s.seq
	s.messages = append(s.messages, m)
	dropped := fault != nil && (fault.Kind == AcceptThenDrop || fault.Kind == AcceptThenHang)
	m.Dropped = dropped
	call.Status = http.StatusOK
	if dropped {
		call.Status = 0
	}
	s.recordCallLocked(call)
	s.notifyLocked()
	s.mu.Unlock()
	if dropped {
		s.finishAccepted(w, r, fault)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}
