package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Surfaces an app shows to one person: modals (views.open, views.push,
// views.update, and the response_action of a view_submission's
// acknowledgement), the App Home tab (views.publish), ephemeral messages
// (chat.postEphemeral, a slash command's acknowledgement text, and
// response_url posts), and user groups (usergroups.users.list).
//
// Like Slack, a trigger_id (issued with an injected slash command or click)
// opens one modal, within TriggerTTL of the payload; a modal stack holds at
// most three views.

// Method names of the surfaces.
const (
	MethodViewsOpen      = "views.open"
	MethodViewsUpdate    = "views.update"
	MethodViewsPush      = "views.push"
	MethodViewsPublish   = "views.publish"
	MethodPostEphemeral  = "chat.postEphemeral"
	MethodUserGroupUsers = "usergroups.users.list"
	// ViaResponseURL and ViaAck name how an Ephemeral reached the user
	// besides chat.postEphemeral.
	ViaResponseURL = "response_url"
	ViaAck         = "ack"
)

// TriggerTTL is how long a trigger_id may open a modal (Slack: 3 seconds).
const TriggerTTL = 3 * time.Second

// View is a modal or a Home tab as the fake holds it now.
type View struct {
	ID     string
	Type   string // "modal" or "home"
	User   string
	RootID string // the first view of a modal stack
	Hash   string
	// Raw is the view JSON as the app last set it; Title, CallbackID,
	// PrivateMetadata, ExternalID and Blocks are read from it.
	Raw             json.RawMessage
	Title           string
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Blocks          json.RawMessage
	// Open is true while a modal is on the user's screen (a Home tab is
	// always open).
	Open bool
	// Errors holds the last response_action "errors" by block_id; a
	// successful submission clears them.
	Errors map[string]string
	// Updates counts changes after the view was first shown; Via says how
	// it was last set (views.open, views.update, response_action:update, ...).
	Updates int
	Via     string
	// Submissions counts view_submission acknowledgements received for it.
	Submissions int
}

// Text returns every text of the view's blocks joined by newlines, for
// assertions on what the user reads.
func (v View) Text() string { return BlocksText(v.Blocks) }

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Seq     int
	Via     string // MethodPostEphemeral, ViaResponseURL or ViaAck
	Channel string
	User    string
	Text    string
	Blocks  json.RawMessage
	At      time.Time
	// Envelope is the envelope the ephemeral answers (ViaAck, ViaResponseURL).
	Envelope string
	// TS is the ephemeral message's timestamp (clicks on it carry it).
	TS string
}

// All returns the ephemeral's text and the texts of its blocks.
func (e Ephemeral) All() string { return e.Text + "\n" + BlocksText(e.Blocks) }

type trigger struct {
	user   string
	issued time.Time
	used   bool
}

type responseHook struct {
	envelope  string
	user      string
	channel   string
	messageTS string
	uses      int
}

// surfaceState is guarded by Server.mu.
type surfaceState struct {
	triggerTTL time.Duration
	trigSeq    int
	triggers   map[string]*trigger
	viewSeq    int
	views      map[string]*View
	stacks     map[string][]string // root view id → view ids, bottom first
	home       map[string]string   // user → home view id
	publishes  map[string]int
	ephSeq     int
	ephemerals []Ephemeral
	hookSeq    int
	hooks      map[string]*responseHook
	groups     map[string][]string
}

// WithTriggerTTL changes how long a trigger_id stays usable (default 3s,
// as Slack).
func WithTriggerTTL(d time.Duration) Option { return func(s *Server) { s.surf.triggerTTL = d } }

func (s *Server) initSurfaces() {
	if s.surf.triggerTTL <= 0 {
		s.surf.triggerTTL = TriggerTTL
	}
	s.surf.triggers = map[string]*trigger{}
	s.surf.views = map[string]*View{}
	s.surf.stacks = map[string][]string{}
	s.surf.home = map[string]string{}
	s.surf.publishes = map[string]int{}
	s.surf.hooks = map[string]*responseHook{}
	s.surf.groups = map[string][]string{}
}

// AddUserGroup makes usergroups.users.list answer members for group id
// ("S…").
func (s *Server) AddUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.surf.groups[id] = slices.Clone(members)
}

// issueTriggerLocked returns a new trigger_id for user.
func (s *Server) issueTriggerLocked(user string) string {
	s.surf.trigSeq++
	id := fmt.Sprintf("%d.1000000000.fake%08x", s.surf.trigSeq, s.surf.trigSeq*104729)
	s.surf.triggers[id] = &trigger{user: user, issued: time.Now()}
	return id
}

// issueHookLocked returns a new response_url.
func (s *Server) issueHookLocked(h *responseHook) string {
	s.surf.hookSeq++
	id := "T0000FAKE/" + strconv.Itoa(s.surf.hookSeq) + "/fakehooksecret"
	s.surf.hooks[id] = h
	return s.srv.URL + "/actions/" + id
}

// useTriggerLocked checks and spends a trigger_id.
func (s *Server) useTriggerLocked(id string) (*trigger, string) {
	t := s.surf.triggers[id]
	switch {
	case id == "":
		return nil, "invalid_arguments"
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "trigger_exchanged"
	case time.Since(t.issued) > s.surf.triggerTTL:
		return nil, "expired_trigger_id"
	}
	t.used = true
	return t, ""
}

// parseView decodes a view argument into v's fields.
func parseView(raw string, v *View) string {
	var body struct {
		Type            string          `json:"type"`
		Title           json.RawMessage `json:"title"`
		CallbackID      string          `json:"callback_id"`
		PrivateMetadata string          `json:"private_metadata"`
		ExternalID      string          `json:"external_id"`
		Blocks          json.RawMessage `json:"blocks"`
	}
	if raw == "" || json.Unmarshal([]byte(raw), &body) != nil {
		return "invalid_arguments"
	}
	if body.Type != "modal" && body.Type != "home" {
		return "invalid_arguments"
	}
	if len(body.PrivateMetadata) > 3000 || len(body.CallbackID) > 255 {
		return "invalid_arguments"
	}
	var blocks []json.RawMessage
	if len(body.Blocks) > 0 && json.Unmarshal(body.Blocks, &blocks) != nil {
		return "invalid_blocks"
	}
	if len(blocks) > 100 {
		return "invalid_blocks"
	}
	var title struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(body.Title, &title)
	if body.Type == "modal" && (title.Text == "" || len([]rune(title.Text)) > 24) {
		return "invalid_arguments"
	}
	v.Type, v.Raw, v.Title = body.Type, json.RawMessage(raw), title.Text
	v.CallbackID, v.PrivateMetadata, v.ExternalID, v.Blocks = body.CallbackID, body.PrivateMetadata, body.ExternalID, body.Blocks
	return ""
}

func (s *Server) newViewIDLocked() string {
	s.surf.viewSeq++
	return fmt.Sprintf("V%010d", s.surf.viewSeq)
}

func (s *Server) rehashLocked(v *View) {
	v.Hash = fmt.Sprintf("%d.fake%04d", time.Now().UnixNano(), s.surf.viewSeq)
}

func viewResp(v *View) map[string]any {
	var body map[string]any
	_ = json.Unmarshal(v.Raw, &body)
	if body == nil {
		body = map[string]any{}
	}
	body["id"], body["hash"], body["root_view_id"], body["team_id"], body["app_id"] = v.ID, v.Hash, v.RootID, "T0000FAKE", "A0000FAKE"
	return map[string]any{"ok": true, "view": body}
}

func (s *Server) viewsOpenLocked(req *request) (any, string) {
	t, code := s.useTriggerLocked(req.form.Get("trigger_id"))
	if t == nil {
		return nil, code
	}
	v := &View{User: t.user, Open: true, Via: MethodViewsOpen}
	if code := parseView(req.form.Get("view"), v); code != "" {
		return nil, code
	}
	if v.Type != "modal" {
		return nil, "invalid_arguments"
	}
	v.ID = s.newViewIDLocked()
	v.RootID = v.ID
	s.rehashLocked(v)
	s.surf.views[v.ID] = v
	s.surf.stacks[v.ID] = []string{v.ID}
	return viewResp(v), ""
}

func (s *Server) viewsPushLocked(req *request) (any, string) {
	t, code := s.useTriggerLocked(req.form.Get("trigger_id"))
	if t == nil {
		return nil, code
	}
	// The trigger must come from an open modal of the same user.
	var root string
	for r, st := range s.surf.stacks {
		if len(st) == 0 {
			continue
		}
		top := s.surf.views[st[len(st)-1]]
		if top.User == t.user && top.Open {
			root = r
		}
	}
	if root == "" {
		return nil, "not_found"
	}
	if len(s.surf.stacks[root]) >= 3 {
		return nil, "push_limit_reached"
	}
	v := &View{User: t.user, Open: true, Via: MethodViewsPush, RootID: root}
	if code := parseView(req.form.Get("view"), v); code != "" {
		return nil, code
	}
	v.ID = s.newViewIDLocked()
	s.rehashLocked(v)
	s.surf.views[v.ID] = v
	s.surf.stacks[root] = append(s.surf.stacks[root], v.ID)
	return viewResp(v), ""
}

func (s *Server) viewsUpdateLocked(req *request) (any, string) {
	var v *View
	if id := req.form.Get("view_id"); id != "" {
		v = s.surf.views[id]
	} else if ext := req.form.Get("external_id"); ext != "" {
		for _, x := range s.surf.views {
			if x.ExternalID == ext {
				v = x
			}
		}
	}
	if v == nil {
		return nil, "not_found"
	}
	if h := req.form.Get("hash"); h != "" && h != v.Hash {
		return nil, "hash_conflict"
	}
	nv := *v
	if code := parseView(req.form.Get("view"), &nv); code != "" {
		return nil, code
	}
	if nv.Type != v.Type {
		return nil, "invalid_arguments"
	}
	nv.Updates++
	nv.Via = MethodViewsUpdate
	s.rehashLocked(&nv)
	*v = nv
	return viewResp(v), ""
}

func (s *Server) viewsPublishLocked(req *request) (any, string) {
	user := req.form.Get("user_id")
	if user == "" {
		return nil, "invalid_arguments"
	}
	var v *View
	if id := s.surf.home[user]; id != "" {
		v = s.surf.views[id]
		if h := req.form.Get("hash"); h != "" && h != v.Hash {
			return nil, "hash_conflict"
		}
		nv := *v
		if code := parseView(req.form.Get("view"), &nv); code != "" {
			return nil, code
		}
		nv.Updates++
		*v = nv
	} else {
		v = &View{User: user, Open: true}
		if code := parseView(req.form.Get("view"), v); code != "" {
			return nil, code
		}
		v.ID = s.newViewIDLocked()
		v.RootID = v.ID
		s.surf.views[v.ID] = v
		s.surf.home[user] = v.ID
	}
	if v.Type != "home" {
		return nil, "invalid_arguments"
	}
	v.Via = MethodViewsPublish
	s.rehashLocked(v)
	s.surf.publishes[user]++
	return viewResp(v), ""
}

func (s *Server) postEphemeralLocked(req *request) (any, string) {
	ch, user := req.form.Get("channel"), req.form.Get("user")
	if ch == "" {
		return nil, "channel_not_found"
	}
	if user == "" {
		return nil, "user_not_found"
	}
	if c := s.channelLocked(ch, false); c != nil && c.reject != "" {
		return nil, c.reject
	}
	if req.form.Get("text") == "" && req.form.Get("blocks") == "" {
		return nil, "no_text"
	}
	if b := req.form.Get("blocks"); b != "" && !json.Valid([]byte(b)) {
		return nil, "invalid_blocks_format"
	}
	e := Ephemeral{Via: MethodPostEphemeral, Channel: ch, User: user, Text: req.form.Get("text")}
	if b := req.form.Get("blocks"); b != "" {
		e.Blocks = json.RawMessage(b)
	}
	s.addEphemeralLocked(e)
	return map[string]any{"ok": true, "message_ts": s.nextTSLocked()}, ""
}

func (s *Server) addEphemeralLocked(e Ephemeral) {
	s.surf.ephSeq++
	e.Seq, e.At, e.TS = s.surf.ephSeq, time.Now(), s.nextTSLocked()
	s.surf.ephemerals = append(s.surf.ephemerals, e)
}

func (s *Server) userGroupUsersLocked(req *request) (any, string) {
	members, ok := s.surf.groups[req.form.Get("usergroup")]
	if !ok {
		return nil, "no_such_subteam"
	}
	return map[string]any{"ok": true, "users": slices.Clone(members)}, ""
}

// surfaceLocked answers the surface methods; ok is false for others.
func (s *Server) surfaceLocked(method string, req *request) (resp any, code string, ok bool) {
	switch method {
	case MethodViewsOpen:
		resp, code = s.viewsOpenLocked(req)
	case MethodViewsPush:
		resp, code = s.viewsPushLocked(req)
	case MethodViewsUpdate:
		resp, code = s.viewsUpdateLocked(req)
	case MethodViewsPublish:
		resp, code = s.viewsPublishLocked(req)
	case MethodPostEphemeral:
		resp, code = s.postEphemeralLocked(req)
	case MethodUserGroupUsers:
		resp, code = s.userGroupUsersLocked(req)
	default:
		return nil, "", false
	}
	return resp, code, true
}

// handleResponseURL answers a POST to a response_url: an ephemeral reply
// (default), a message in the channel (response_type "in_channel"), or
// the original message replaced (replace_original) or deleted
// (delete_original). A response_url takes at most five posts, as Slack's.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/actions/")
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordCallLocked(Call{Method: ViaResponseURL, Status: http.StatusOK})
	h := s.surf.hooks[id]
	fail := func(st int, msg string) {
		w.WriteHeader(st)
		_, _ = io.WriteString(w, msg)
	}
	if h == nil {
		fail(http.StatusNotFound, "no_service")
		return
	}
	if h.uses >= 5 {
		fail(http.StatusNotFound, "used_url")
		return
	}
	if json.Unmarshal(raw, &body) != nil {
		fail(http.StatusBadRequest, "invalid_payload")
		return
	}
	if body.Text == "" && len(body.Blocks) == 0 && !body.DeleteOriginal {
		fail(http.StatusBadRequest, "no_text")
		return
	}
	h.uses++
	switch {
	case (body.ReplaceOriginal || body.DeleteOriginal) && h.messageTS != "":
		for _, m := range s.messages {
			if m.ChannelID == h.channel && m.TS == h.messageTS {
				if body.DeleteOriginal {
					m.Text, m.Blocks = "(deleted)", nil
				} else {
					m.Text = body.Text
					if len(body.Blocks) > 0 {
						m.Blocks = body.Blocks
					}
				}
				m.Updates++
			}
		}
	case body.ResponseType == "in_channel":
		c := s.channelLocked(h.channel, true)
		m := &Message{Method: ViaResponseURL, Channel: c.id, ChannelID: c.id, ChannelName: c.name, Text: body.Text, RawBody: raw}
		if len(body.Blocks) > 0 {
			m.Blocks = body.Blocks
		}
		m.TS = s.nextTSLocked()
		s.seq++
		m.Seq = s.seq
		s.messages = append(s.messages, m)
	default:
		e := Ephemeral{Via: ViaResponseURL, Channel: h.channel, User: h.user, Text: body.Text, Envelope: h.envelope}
		if len(body.Blocks) > 0 {
			e.Blocks = body.Blocks
		}
		s.addEphemeralLocked(e)
	}
	s.notifyLocked()
	_, _ = io.WriteString(w, "ok")
}

// --- reading surfaces ---

// View returns view id as it is now.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.surf.views[id]
	if v == nil {
		return View{}, false
	}
	return copyView(v), true
}

func copyView(v *View) View {
	c := *v
	if v.Errors != nil {
		c.Errors = map[string]string{}
		for k, e := range v.Errors {
			c.Errors[k] = e
		}
	}
	return c
}

// Views returns every modal of user, oldest first (open or not).
func (s *Server) Views(user string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, v := range s.surf.views {
		if v.User == user && v.Type == "modal" {
			out = append(out, copyView(v))
		}
	}
	slices.SortFunc(out, func(a, b View) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// OpenModal returns the modal on top of user's screen, if any.
func (s *Server) OpenModal(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.openModalLocked(user)
}

func (s *Server) openModalLocked(user string) (View, bool) {
	var best *View
	for _, st := range s.surf.stacks {
		if len(st) == 0 {
			continue
		}
		top := s.surf.views[st[len(st)-1]]
		if top.User == user && top.Open && (best == nil || top.ID > best.ID) {
			best = top
		}
	}
	if best == nil {
		return View{}, false
	}
	return copyView(best), true
}

// WaitModal blocks until cond holds for the modal on top of user's
// screen, and returns it. cond is called with the fake's lock held: it
// must not call the Server's methods.
func (s *Server) WaitModal(ctx context.Context, user string, cond func(View) bool) (View, error) {
	var v View
	err := s.waitCond(ctx, func() bool {
		var ok bool
		v, ok = s.openModalLocked(user)
		return ok && (cond == nil || cond(v))
	}, func() string { return "a modal for " + user })
	return v, err
}

// HomeView returns user's Home tab as last published.
func (s *Server) HomeView(user string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.surf.home[user]
	if id == "" {
		return View{}, false
	}
	return copyView(s.surf.views[id]), true
}

// Publishes counts views.publish calls for user.
func (s *Server) Publishes(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.surf.publishes[user]
}

// WaitHome blocks until user's Home tab was published at least n times
// and cond holds for it (called with the fake's lock held, as WaitModal's).
func (s *Server) WaitHome(ctx context.Context, user string, n int, cond func(View) bool) (View, error) {
	var v View
	err := s.waitCond(ctx, func() bool {
		id := s.surf.home[user]
		if id == "" || s.surf.publishes[user] < n {
			return false
		}
		v = copyView(s.surf.views[id])
		return cond == nil || cond(v)
	}, func() string { return "the Home tab of " + user })
	return v, err
}

// Ephemerals returns the ephemeral messages user saw, in order ("" for
// everyone's).
func (s *Server) Ephemerals(user string) []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ephemeral
	for _, e := range s.surf.ephemerals {
		if user == "" || e.User == user {
			out = append(out, e)
		}
	}
	return out
}

// WaitEphemeral blocks until user has an ephemeral message after seq
// (0: any) for which cond holds, and returns the first such (cond is
// called with the fake's lock held, as WaitModal's).
func (s *Server) WaitEphemeral(ctx context.Context, user string, after int, cond func(Ephemeral) bool) (Ephemeral, error) {
	var found Ephemeral
	err := s.waitCond(ctx, func() bool {
		for _, e := range s.surf.ephemerals {
			if e.User == user && e.Seq > after && (cond == nil || cond(e)) {
				found = e
				return true
			}
		}
		return false
	}, func() string { return "an ephemeral message for " + user })
	return found, err
}

// LastEphemeralSeq is the sequence number of the latest ephemeral message,
// to wait for ones after it.
func (s *Server) LastEphemeralSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.surf.ephSeq
}

// BlocksText is every "text" string of a Block Kit JSON value (a
// message's or view's blocks), one per line: what a person reads.
func BlocksText(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if s, ok := t["text"].(string); ok {
				out = append(out, s)
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if k != "text" {
					walk(t[k])
				} else if _, ok := t[k].(string); !ok {
					walk(t[k])
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}
