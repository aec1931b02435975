package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What people do in Slack, delivered over Socket Mode as Slack sends it:
// a button click or a menu choice on a message (block_actions), a slash
// command, a modal submission (view_submission), a click in a modal or
// the Home tab, and opening the Home tab (app_home_opened). Each helper
// builds the payload Slack would build from what the fake recorded (the
// message's blocks, the view's blocks and private_metadata), issues a
// trigger_id and a response_url for it, and returns the envelope id.
// Interactive delivers a hand-made (for example forged) payload.

// TeamID and AppID are the fake workspace's and app's ids.
const (
	TeamID = "T0000FAKE"
	AppID  = "A0000FAKE"
)

func userObj(id string) map[string]any {
	name := "user-" + strings.ToLower(id)
	return map[string]any{"id": id, "username": name, "name": name, "team_id": TeamID}
}

func actionTS() string {
	t := time.Now()
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// element is an interactive element found in blocks.
type element struct {
	blockID string
	raw     map[string]any
}

// findElements returns the elements with actionID in blocks (actions
// blocks, section accessories and input blocks), in order: several
// blocks may carry menus with the same action id.
func findElements(blocks json.RawMessage, actionID string) []element {
	var bs []map[string]any
	if json.Unmarshal(blocks, &bs) != nil {
		return nil
	}
	var out []element
	for _, b := range bs {
		bid, _ := b["block_id"].(string)
		var cands []any
		if els, ok := b["elements"].([]any); ok {
			cands = append(cands, els...)
		}
		if acc, ok := b["accessory"]; ok {
			cands = append(cands, acc)
		}
		if el, ok := b["element"]; ok {
			cands = append(cands, el)
		}
		for _, c := range cands {
			m, ok := c.(map[string]any)
			if ok && m["action_id"] == actionID {
				out = append(out, element{blockID: bid, raw: m})
			}
		}
	}
	return out
}

// pick builds the action for the first element with actionID in blocks
// that can take value (a button for "", a menu with that option).
func pick(blocks json.RawMessage, actionID, value, where string) (map[string]any, error) {
	els := findElements(blocks, actionID)
	if len(els) == 0 {
		return nil, fmt.Errorf("slackfake: %s has no element %q", where, actionID)
	}
	var err error
	for _, el := range els {
		var a map[string]any
		if a, err = action(el, value); err == nil {
			return a, nil
		}
	}
	return nil, err
}

// action builds the "actions" entry for a click on el (a button) or a
// choice of value (a static_select, overflow or radio option).
func action(el element, value string) (map[string]any, error) {
	a := map[string]any{
		"action_id": el.raw["action_id"],
		"block_id":  el.blockID,
		"type":      el.raw["type"],
		"action_ts": actionTS(),
	}
	switch el.raw["type"] {
	case "button":
		a["text"] = el.raw["text"]
		if v, ok := el.raw["value"]; ok {
			a["value"] = v
		}
		if st, ok := el.raw["style"]; ok {
			a["style"] = st
		}
	case "static_select", "overflow", "radio_buttons":
		opts, _ := el.raw["options"].([]any)
		if groups, ok := el.raw["option_groups"].([]any); ok {
			for _, g := range groups {
				if gm, ok := g.(map[string]any); ok {
					more, _ := gm["options"].([]any)
					opts = append(opts, more...)
				}
			}
		}
		for _, o := range opts {
			om, _ := o.(map[string]any)
			if om["value"] == value {
				a["selected_option"] = om
				if p, ok := el.raw["placeholder"]; ok {
					a["placeholder"] = p
				}
				return a, nil
			}
		}
		return nil, fmt.Errorf("slackfake: menu %v has no option %q", el.raw["action_id"], value)
	default:
		return nil, fmt.Errorf("slackfake: element %v of type %v cannot be clicked", el.raw["action_id"], el.raw["type"])
	}
	return a, nil
}

// ClickButton delivers a click by user on the button actionID of message
// ts in channel (ID or name): a block_actions payload with the message,
// its container, the button's block_id and value, a trigger_id and a
// response_url. It fails if the message or the button does not exist.
func (s *Server) ClickButton(user, channel, ts, actionID string) (string, error) {
	return s.messageAction(user, channel, ts, actionID, "")
}

// ChooseOption delivers user's choice of option value in the menu
// (static_select or overflow) actionID of message ts in channel.
func (s *Server) ChooseOption(user, channel, ts, actionID, value string) (string, error) {
	return s.messageAction(user, channel, ts, actionID, value)
}

func (s *Server) messageAction(user, channel, ts, actionID, value string) (string, error) {
	s.mu.Lock()
	c := s.channelLocked(channel, false)
	var msg *Message
	for _, m := range s.messages {
		if c != nil && m.ChannelID == c.id && m.TS == ts {
			msg = m
		}
	}
	if msg == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: no message %s in %s", ts, channel)
	}
	a, err := pick(msg.Blocks, actionID, value, "message "+ts+" in "+channel)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	var blocks any
	_ = json.Unmarshal(msg.Blocks, &blocks)
	m := map[string]any{"type": "message", "user": "U0000BOT", "bot_id": "B0000BOT", "ts": msg.TS, "text": msg.Text, "blocks": blocks}
	if msg.ThreadTS != "" {
		m["thread_ts"] = msg.ThreadTS
	}
	if msg.Metadata != nil {
		m["metadata"] = msg.Metadata
	}
	payload := map[string]any{
		"type":                  "block_actions",
		"user":                  userObj(user),
		"api_app_id":            AppID,
		"token":                 "fakeverificationtoken",
		"container":             map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": c.id, "is_ephemeral": false},
		"trigger_id":            s.issueTriggerLocked(user),
		"team":                  map[string]any{"id": TeamID, "domain": "fake-newsroom"},
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               map[string]any{"id": c.id, "name": c.name},
		"message":               m,
		"state":                 map[string]any{"values": map[string]any{}},
		"actions":               []any{a},
	}
	hook := &responseHook{user: user, channel: c.id, messageTS: msg.TS}
	payload["response_url"] = s.issueHookLocked(hook)
	s.mu.Unlock()
	return s.deliverNew(EnvelopeInteractive, payload, hook), nil
}

// ClickInEphemeral delivers user's click on the button actionID (value
// "") or choice of option value in the menu actionID of the ephemeral
// message seq, as Slack sends it: a block_actions payload whose container
// is the ephemeral message (is_ephemeral), with a response_url and no
// "message" (Slack keeps no copy of an ephemeral message).
func (s *Server) ClickInEphemeral(user string, seq int, actionID, value string) (string, error) {
	s.mu.Lock()
	var eph *Ephemeral
	for i := range s.surf.ephemerals {
		if e := &s.surf.ephemerals[i]; e.Seq == seq && e.User == user {
			eph = e
		}
	}
	if eph == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: %s has no ephemeral message %d", user, seq)
	}
	a, err := pick(eph.Blocks, actionID, value, fmt.Sprintf("ephemeral message %d", seq))
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	c := s.channelLocked(eph.Channel, true)
	hook := &responseHook{user: user, channel: c.id}
	payload := map[string]any{
		"type":       "block_actions",
		"user":       userObj(user),
		"api_app_id": AppID,
		"token":      "fakeverificationtoken",
		"container":  map[string]any{"type": "message", "message_ts": eph.TS, "channel_id": c.id, "is_ephemeral": true},
		"trigger_id": s.issueTriggerLocked(user),
		"team":       map[string]any{"id": TeamID, "domain": "fake-newsroom"},
		"channel":    map[string]any{"id": c.id, "name": c.name},
		"state":      map[string]any{"values": map[string]any{}},
		"actions":    []any{a},
	}
	payload["response_url"] = s.issueHookLocked(hook)
	s.mu.Unlock()
	return s.deliverNew(EnvelopeInteractive, payload, hook), nil
}

// ClickInView delivers user's click on the button actionID (value "") or
// choice of option value in the menu actionID of view id (a modal or the
// Home tab).
func (s *Server) ClickInView(user, viewID, actionID, value string) (string, error) {
	s.mu.Lock()
	v := s.surf.views[viewID]
	if v == nil || v.User != user {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: %s has no view %s", user, viewID)
	}
	a, err := pick(v.Blocks, actionID, value, "view "+viewID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	payload := map[string]any{
		"type":       "block_actions",
		"user":       userObj(user),
		"api_app_id": AppID,
		"token":      "fakeverificationtoken",
		"container":  map[string]any{"type": "view", "view_id": v.ID},
		"trigger_id": s.issueTriggerLocked(user),
		"team":       map[string]any{"id": TeamID, "domain": "fake-newsroom"},
		"view":       s.viewPayloadLocked(v, nil),
		"actions":    []any{a},
	}
	s.mu.Unlock()
	return s.Deliver(EnvelopeInteractive, payload), nil
}

// viewPayloadLocked is a view as Slack sends it in a payload, with the
// state of its inputs.
func (s *Server) viewPayloadLocked(v *View, values map[string]any) map[string]any {
	var body map[string]any
	_ = json.Unmarshal(v.Raw, &body)
	if body == nil {
		body = map[string]any{}
	}
	if values == nil {
		values = map[string]any{}
	}
	body["id"], body["team_id"], body["hash"], body["root_view_id"] = v.ID, TeamID, v.Hash, v.RootID
	body["app_id"], body["bot_id"] = AppID, "B0000BOT"
	body["state"] = map[string]any{"values": values}
	if _, ok := body["private_metadata"]; !ok {
		body["private_metadata"] = ""
	}
	if _, ok := body["callback_id"]; !ok {
		body["callback_id"] = ""
	}
	body["previous_view_id"] = nil
	if st := s.surf.stacks[v.RootID]; len(st) > 1 {
		if i := slices.Index(st, v.ID); i > 0 {
			body["previous_view_id"] = st[i-1]
		}
	}
	return body
}

// SubmitView delivers user's submission of modal viewID with the given
// input values, by block_id: a plain_text_input gets the text, a menu the
// option with that value. A block_id the view does not have is sent as a
// plain_text_input under action_id "value" (a forged field). It fails if
// the view is not open on user's screen.
func (s *Server) SubmitView(user, viewID string, values map[string]string) (string, error) {
	s.mu.Lock()
	v := s.surf.views[viewID]
	if v == nil || v.User != user || !v.Open || v.Type != "modal" {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: no open modal %s for %s", viewID, user)
	}
	state := map[string]any{}
	var bs []map[string]any
	_ = json.Unmarshal(v.Blocks, &bs)
	known := map[string]bool{}
	for _, b := range bs {
		if b["type"] != "input" {
			continue
		}
		bid, _ := b["block_id"].(string)
		el, _ := b["element"].(map[string]any)
		aid, _ := el["action_id"].(string)
		known[bid] = true
		val, given := values[bid]
		typ, _ := el["type"].(string)
		entry := map[string]any{"type": typ}
		switch typ {
		case "static_select", "radio_buttons":
			entry["selected_option"] = nil
			if given {
				opts, _ := el["options"].([]any)
				for _, o := range opts {
					if om, _ := o.(map[string]any); om["value"] == val {
						entry["selected_option"] = om
					}
				}
			} else if io, ok := el["initial_option"]; ok {
				entry["selected_option"] = io
			}
		default:
			if given {
				entry["value"] = val
			} else if iv, ok := el["initial_value"].(string); ok {
				entry["value"] = iv
			} else {
				entry["value"] = nil
			}
		}
		state[bid] = map[string]any{aid: entry}
	}
	for bid, val := range values {
		if !known[bid] {
			state[bid] = map[string]any{"value": map[string]any{"type": "plain_text_input", "value": val}}
		}
	}
	payload := map[string]any{
		"type":                  "view_submission",
		"team":                  map[string]any{"id": TeamID, "domain": "fake-newsroom"},
		"user":                  userObj(user),
		"api_app_id":            AppID,
		"token":                 "fakeverificationtoken",
		"trigger_id":            s.issueTriggerLocked(user),
		"view":                  s.viewPayloadLocked(v, state),
		"response_urls":         []any{},
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	s.mu.Unlock()
	return s.Deliver(EnvelopeInteractive, payload), nil
}

// SlashCommand delivers command (e.g. "/wirewatch") with text, typed by
// user in channel (an ID or name), as Slack's slash_commands envelope.
func (s *Server) SlashCommand(user, channel, command, text string) string {
	s.mu.Lock()
	c := s.channelLocked(channel, true)
	hook := &responseHook{user: user, channel: c.id}
	payload := map[string]any{
		"token":                 "fakeverificationtoken",
		"team_id":               TeamID,
		"team_domain":           "fake-newsroom",
		"channel_id":            c.id,
		"channel_name":          c.name,
		"user_id":               user,
		"user_name":             "user-" + strings.ToLower(user),
		"command":               command,
		"text":                  text,
		"api_app_id":            AppID,
		"is_enterprise_install": "false",
		"response_url":          s.issueHookLocked(hook),
		"trigger_id":            s.issueTriggerLocked(user),
	}
	s.mu.Unlock()
	return s.deliverNew(EnvelopeSlash, payload, hook)
}

// OpenHome delivers the app_home_opened event for user opening the app's
// Home tab (an events_api envelope, as Slack sends Events API events).
func (s *Server) OpenHome(user string) string {
	s.mu.Lock()
	now := time.Now()
	event := map[string]any{
		"type":     "app_home_opened",
		"user":     user,
		"channel":  "D" + strings.TrimPrefix(user, "U") + "FAKE",
		"tab":      "home",
		"event_ts": fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000),
	}
	if id := s.surf.home[user]; id != "" {
		event["view"] = s.viewPayloadLocked(s.surf.views[id], nil)
	}
	s.sock.envSeq++ // event ids are unique like envelope ids
	payload := map[string]any{
		"token":          "fakeverificationtoken",
		"team_id":        TeamID,
		"api_app_id":     AppID,
		"event":          event,
		"type":           "event_callback",
		"event_id":       fmt.Sprintf("Ev%08d", s.sock.envSeq),
		"event_time":     now.Unix(),
		"authorizations": []any{map[string]any{"team_id": TeamID, "user_id": "U0000BOT", "is_bot": true}},
	}
	s.mu.Unlock()
	return s.Deliver(EnvelopeEventsAPI, payload)
}

// Interactive delivers a hand-made interactive payload (a forged click or
// submission, for tests of what the app refuses).
func (s *Server) Interactive(payload map[string]any) string {
	return s.Deliver(EnvelopeInteractive, payload)
}

// Trigger issues a trigger_id for user, for hand-made payloads.
func (s *Server) Trigger(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTriggerLocked(user)
}

// applyAckLocked does what Slack does with an acknowledgement's payload:
// a view_submission's response_action changes the modal, a slash
// command's text is shown to the user.
func (s *Server) applyAckLocked(e *Envelope) {
	switch e.Type {
	case EnvelopeSlash:
		if len(e.AckPayload) == 0 {
			return
		}
		var p struct {
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		}
		var cmd struct {
			User    string `json:"user_id"`
			Channel string `json:"channel_id"`
		}
		_ = json.Unmarshal(e.Payload, &cmd)
		if json.Unmarshal(e.AckPayload, &p) == nil && (p.Text != "" || len(p.Blocks) > 0) {
			s.addEphemeralLocked(Ephemeral{Via: ViaAck, Channel: cmd.Channel, User: cmd.User, Text: p.Text, Blocks: p.Blocks, Envelope: e.ID})
		}
	case EnvelopeInteractive:
		var p struct {
			Type string `json:"type"`
			View struct {
				ID string `json:"id"`
			} `json:"view"`
		}
		if json.Unmarshal(e.Payload, &p) != nil || p.Type != "view_submission" {
			return
		}
		v := s.surf.views[p.View.ID]
		if v == nil {
			return
		}
		v.Submissions++
		var r struct {
			ResponseAction string            `json:"response_action"`
			Errors         map[string]string `json:"errors"`
			View           json.RawMessage   `json:"view"`
		}
		if len(e.AckPayload) > 0 {
			_ = json.Unmarshal(e.AckPayload, &r)
		}
		stack := s.surf.stacks[v.RootID]
		switch r.ResponseAction {
		case "errors":
			v.Errors = r.Errors
		case "update":
			nv := *v
			if parseView(string(r.View), &nv) == "" {
				nv.Errors, nv.Updates, nv.Via = nil, v.Updates+1, "response_action:update"
				s.rehashLocked(&nv)
				*v = nv
			}
		case "push":
			if len(stack) < 3 {
				nv := &View{User: v.User, Open: true, Via: "response_action:push", RootID: v.RootID}
				if parseView(string(r.View), nv) == "" {
					nv.ID = s.newViewIDLocked()
					s.rehashLocked(nv)
					s.surf.views[nv.ID] = nv
					s.surf.stacks[v.RootID] = append(stack, nv.ID)
				}
			}
			v.Errors = nil
		case "clear":
			for _, id := range stack {
				s.surf.views[id].Open = false
			}
		default: // close this view, back to the one under it
			v.Errors = nil
			v.Open = false
			if i := slices.Index(stack, v.ID); i > 0 {
				s.surf.stacks[v.RootID] = stack[:i]
			} else if i == 0 {
				delete(s.surf.stacks, v.RootID)
			}
		}
	}
}
