package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/slackfake"
	"github.com/wirewatch/wirewatch/notify"
)

// The desk run from Slack, through the real daemon (`wirewatch run` as a
// process) and the fake Slack's Socket Mode: editors create, test, tune,
// mute and retire rules; readers mark alerts not relevant; every click is
// acknowledged within Slack's 3 seconds and recorded once.

const (
	editor  = "UEDITOR1" // listed in [slack] editors
	editor2 = "UEDITOR2" // a member of the user group listed there
	reader  = "UREADER1" // anyone in the channel
)

// deskRig is a running desk: a live feed, a fake Slack and one or more
// `wirewatch run` processes on one store.
type deskRig struct {
	t     *testing.T
	dir   string
	cfg   string
	wire  *liveWire   // the first feed
	wires []*liveWire // all of them
	slack *slackfake.Server
	logs  []string
	procs []*exec.Cmd
}

// startDesk starts replicas daemons on store (a `[store]` table's body)
// with the Slack app on, polling feeds live feeds every second.
func startDesk(t *testing.T, storeTOML string, replicas, feeds int) *deskRig {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the daemon")
	}
	r := &deskRig{t: t, dir: t.TempDir(), slack: slackfake.New()}
	t.Cleanup(r.slack.Close)
	r.slack.AddUserGroup("SDESKEDITORS", editor2)
	var fb strings.Builder
	for i := range feeds {
		w := &liveWire{}
		srv := httptest.NewServer(w)
		t.Cleanup(srv.Close)
		r.wires = append(r.wires, w)
		fmt.Fprintf(&fb, "\n[[feeds]]\nname = \"Live %d\"\nurl = %q\nschedule = \"@every 1s\"\n", i, srv.URL)
	}
	r.wire = r.wires[0]
	r.cfg = writeConfig(t, r.dir, fmt.Sprintf(`
[store]
%s
[slack]
token = "xoxb-desk"
app_token = "xapp-1-desk"
api_url = %q
channel = "#desk"
interval = "20ms"
group_after = -1
editors = [%q, "SDESKEDITORS"]
[fetch]
allow_private = true
[monitor]
min_poll_interval = "1s"

[[rules]]
name = "Cross-border strikes"
query = 'strike* AND Afghanistan'
channels = ["#desk"]

[[rules]]
name = "Talks collapse"
query = 'talks AND (collapse* OR fail*)'
channels = ["#desk"]
`, storeTOML, r.slack.APIURL(), editor)+fb.String())
	if _, stderr, code := wirewatch(t, nil, "migrate", "-config", r.cfg); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	for i := range replicas {
		path := filepath.Join(r.dir, fmt.Sprintf("run%d.log", i))
		logf, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		r.logs = append(r.logs, path)
		r.procs = append(r.procs, startRun(t, r.cfg, logf))
	}
	t.Cleanup(r.stop)
	r.must(r.slack.WaitConnections(r.ctx(20*time.Second), replicas))
	return r
}

func (r *deskRig) stop() {
	if r.procs == nil {
		return
	}
	for _, p := range r.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	r.procs = nil
	r.checkAcks()
}

// checkAcks fails the test if any envelope was acknowledged late or not
// at all, and logs the latencies.
func (r *deskRig) checkAcks() {
	var lat []time.Duration
	for _, e := range r.slack.Envelopes() {
		if !e.Acked || e.Late() {
			r.t.Errorf("envelope %s (%s) acknowledged: %v after %v", e.ID, e.Type, e.Acked, e.AckLatency)
		}
		if e.Acked {
			lat = append(lat, e.AckLatency)
		}
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	r.t.Logf("acknowledgements: %d envelopes, median %v, max %v", len(lat), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
}

func (r *deskRig) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	r.t.Cleanup(cancel)
	return ctx
}

func (r *deskRig) must(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("%v\n%s", err, r.logTail())
	}
}

func (r *deskRig) logTail() string {
	var b strings.Builder
	for i, p := range r.logs {
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "--- run %d log tail:\n%s\n", i, tail(string(data), 20))
	}
	return b.String()
}

// applied waits until every replica applied the store's n-th change of
// rules or mutes (its log says so).
func (r *deskRig) applied(n int) {
	r.t.Helper()
	want := fmt.Sprintf("editor rules and mutes in force\" marker=%d ", n)
	deadline := time.Now().Add(15 * time.Second)
	for i, p := range r.logs {
		for {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), want) {
				break
			}
			if time.Now().After(deadline) {
				r.t.Fatalf("replica %d did not apply change %d\n%s", i, n, r.logTail())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// acked waits for envelope id's acknowledgement.
func (r *deskRig) acked(id string) slackfake.Envelope {
	r.t.Helper()
	e, err := r.slack.WaitAck(r.ctx(10*time.Second), id)
	r.must(err)
	if e.Late() {
		r.t.Fatalf("envelope %s acknowledged after %v", id, e.AckLatency)
	}
	return e
}

// command types a slash command and returns the private answer.
func (r *deskRig) command(user, text string) slackfake.Ephemeral {
	r.t.Helper()
	id := r.slack.SlashCommand(user, "desk", "/wirewatch", text)
	r.acked(id)
	e, err := r.slack.WaitEphemeral(r.ctx(20*time.Second), user, 0, func(e slackfake.Ephemeral) bool { return e.Envelope == id })
	r.must(err)
	return e
}

// openForm types a command that opens the rule editor and returns it.
func (r *deskRig) openForm(user, text string) slackfake.View {
	r.t.Helper()
	old := map[string]bool{}
	for _, v := range r.slack.Views(user) {
		old[v.ID] = true
	}
	r.acked(r.slack.SlashCommand(user, "desk", "/wirewatch", text))
	v, err := r.slack.WaitModal(r.ctx(10*time.Second), user, func(v slackfake.View) bool { return !old[v.ID] })
	r.must(err)
	return v
}

// submit submits the open modal with values and returns the modal's
// answer: the acknowledgement's payload, and the view as it is after it.
func (r *deskRig) submit(user, viewID string, values map[string]string) (string, slackfake.View) {
	r.t.Helper()
	id, err := r.slack.SubmitView(user, viewID, values)
	r.must(err)
	e := r.acked(id)
	v, _ := r.slack.View(viewID)
	return string(e.AckPayload), v
}

// alertFor waits for the alert in #desk whose text has title (a story's
// first alert, or a reply in a story's thread).
func (r *deskRig) alertFor(title string) slackfake.Message {
	r.t.Helper()
	var found slackfake.Message
	err := r.slack.WaitFor(r.ctx(20*time.Second), func(ms []slackfake.Message) bool {
		for _, m := range ms {
			if m.ChannelName == "desk" && strings.Contains(m.Text, title) {
				found = m
				return true
			}
		}
		return false
	})
	r.must(err)
	return found
}

// posted says whether an alert whose text has title reached #desk.
func (r *deskRig) posted(title string) bool {
	for _, m := range r.slack.MessagesIn("desk") {
		if strings.Contains(m.Text, title) {
			return true
		}
	}
	return false
}

// quietFor publishes an item of the muted or retired rule, then one of
// the config rule, and checks once the second arrives that the first did
// not (they are in one feed, so the poll that carried the second saw the
// first).
func (r *deskRig) quietFor(n int, muted, control string) {
	r.t.Helper()
	r.wire.add(fmt.Sprintf("quiet-%d-a", n), muted)
	r.wire.add(fmt.Sprintf("quiet-%d-b", n), control)
	r.alertFor(control)
	if r.posted(muted) {
		r.t.Fatalf("%q was alerted", muted)
	}
}

// audit runs `wirewatch audit -json` and returns the entries.
func (r *deskRig) audit() []map[string]string {
	r.t.Helper()
	out, stderr, code := wirewatch(r.t, nil, "audit", "-config", r.cfg, "-json")
	if code != 0 {
		r.t.Fatalf("audit: %s", stderr)
	}
	var es []map[string]string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var e map[string]string
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			r.t.Fatalf("audit line %q: %v", l, err)
		}
		es = append(es, e)
	}
	return es
}

func actions(es []map[string]string) []string {
	var out []string
	for _, e := range es {
		out = append(out, e["action"]+" "+e["target"]+" by "+e["user"])
	}
	slices.Reverse(out) // oldest first
	return out
}

func hasButton(m slackfake.Message, action string) bool {
	return strings.Contains(string(m.Blocks), `"`+action+`"`)
}

// TestSlackEditorWorkflow: an editor, tried as a new user would, creates a
// rule in the modal, tests it, tunes it after a reader marks an alert not
// relevant, mutes, unmutes and retires it, without touching the server;
// a reader is refused what only editors may do; every effect is in the
// audit log once, and `wirewatch rules export` writes what `check` accepts.
func TestSlackEditorWorkflow(t *testing.T) {
	r := startDesk(t, fmt.Sprintf("path = %q", filepath.Join(t.TempDir(), "state.db")), 1, 1)

	// A reader may not create rules.
	if e := r.command(reader, "new"); !strings.HasPrefix(e.Text, "Only editors may create rules") {
		t.Fatalf("reader's new: %q", e.Text)
	}
	if _, ok := r.slack.OpenModal(reader); ok {
		t.Fatal("a modal opened for a reader")
	}

	// An editor (through the user group) creates a rule.
	const query = "flood* AND (Sindh OR Sukkur OR Larkana OR Hyderabad)"
	v := r.openForm(editor2, "new")
	ack, v := r.submit(editor2, v.ID, map[string]string{
		"name": "Floods", "query": query, "channels": "#desk",
		"examples": "Floods cut off villages in Larkana", "counterexamples": "Flood of tourists in Murree",
	})
	if !strings.Contains(ack, `"response_action":"update"`) || !strings.Contains(v.Text(), "Floods* saved as version 1") {
		t.Fatalf("save: ack %s, view %s", ack, v.Text())
	}
	r.applied(1)

	// Without a restart, the new rule alerts, with its buttons.
	r.wire.add("floods-1", "Floods submerge 40 villages in Sindh")
	m := r.alertFor("Floods submerge 40 villages in Sindh")
	for _, a := range []string{notify.ActionOpen, notify.ActionNotRelevant, notify.ActionMuteStory, notify.ActionMuteRule} {
		if !hasButton(m, a) {
			t.Fatalf("alert without %s: %s", a, m.Blocks)
		}
	}

	// It is tried on what the desk stored (keep_text).
	if e := r.command(editor2, "try flood* AND Sindh"); !strings.Contains(e.All(), "matches *1* of") || !strings.Contains(e.All(), "Floods submerge 40 villages in Sindh") {
		t.Fatalf("try: %s", e.All())
	}

	// A reader marks it not relevant: the message says so, for everyone.
	id, err := r.slack.ClickButton(reader, "desk", m.TS, notify.ActionNotRelevant)
	r.must(err)
	r.acked(id)
	r.must(r.slack.WaitFor(r.ctx(10*time.Second), func([]slackfake.Message) bool {
		m, _ = r.slack.Message("desk", m.TS)
		return strings.Contains(slackfake.BlocksText(m.Blocks), "Marked not relevant by <@"+reader+">")
	}))
	if hasButton(m, notify.ActionNotRelevant) {
		t.Fatal("the used button is still there")
	}
	rules := r.command(reader, "rules").All()
	for _, want := range []string{"Cross-border strikes", "Talks collapse", "config file, read-only", "Floods", "version 1 by <@" + editor2 + ">", "not relevant: 1 of 1 (100%)"} {
		if !strings.Contains(rules, want) {
			t.Errorf("rules list lacks %q:\n%s", want, rules)
		}
	}

	// The editor tunes the rule: the marked item is shown while it still
	// matches; "Edit again" opens the editor in the same modal.
	v = r.openForm(editor, "edit Floods")
	if !strings.Contains(string(v.Raw), "flood* AND (Sindh") {
		t.Fatalf("the editor does not show the rule: %s", v.Raw)
	}
	_, v = r.submit(editor, v.ID, map[string]string{"query": query})
	if !strings.Contains(v.Text(), "still matches 1 of the items readers marked not relevant") || !strings.Contains(v.Text(), "Floods submerge 40 villages in Sindh") {
		t.Fatalf("saved view: %s", v.Text())
	}
	id, err = r.slack.ClickInView(editor, v.ID, "ww.edit_rule", "")
	r.must(err)
	r.acked(id)
	v, err = r.slack.WaitModal(r.ctx(10*time.Second), editor, func(v slackfake.View) bool { return v.CallbackID == "ww.rule" })
	r.must(err)
	_, v = r.submit(editor, v.ID, map[string]string{"query": query + " NOT submerge"})
	if !strings.Contains(v.Text(), "saved as version 3") || strings.Contains(v.Text(), "still matches") {
		t.Fatalf("tuned: %s", v.Text())
	}
	r.applied(3)

	// Export: the store's rules as [[rules]] blocks that `check` accepts,
	// the marked item among the counterexamples.
	out, stderr, code := wirewatch(t, nil, "rules", "export", "-config", r.cfg)
	if code != 0 || !strings.Contains(out, "name = 'Floods'") || !strings.Contains(out, "query = '"+query+" NOT submerge'") || !strings.Contains(out, "'Floods submerge 40 villages in Sindh'") {
		t.Fatalf("export (%d): %s %s", code, out, stderr)
	}
	exported := writeConfig(t, t.TempDir(), "[[feeds]]\nname = \"x\"\nurl = \"https://example.org/feed\"\n"+out)
	if out, _, code := wirewatch(t, nil, "check", "-config", exported); code != 0 {
		t.Fatalf("check of the export: %s", out)
	}

	// Mute from the alert's menu: no more alerts of the rule.
	r.wire.add("floods-2", "Larkana hospitals overwhelmed after flooding")
	m = r.alertFor("Larkana hospitals overwhelmed after flooding")
	id, err = r.slack.ChooseOption(editor, "desk", m.TS, notify.ActionMuteRule, "1h")
	r.must(err)
	r.acked(id)
	r.must(r.slack.WaitFor(r.ctx(10*time.Second), func([]slackfake.Message) bool {
		m, _ = r.slack.Message("desk", m.TS)
		return strings.Contains(slackfake.BlocksText(m.Blocks), "Rule *Floods* muted until")
	}))
	r.applied(4)
	r.quietFor(1, "Hyderabad flood relief camps run short of tents", "Pakistan warns of strikes deep into Afghanistan")
	// A reader cannot unmute; the editor can.
	if e := r.command(reader, "unmute Floods"); !strings.HasPrefix(e.Text, "Only editors may") {
		t.Fatalf("reader's unmute: %q", e.Text)
	}
	if e := r.command(editor, "unmute Floods"); !strings.Contains(e.Text, "is unmuted") {
		t.Fatalf("unmute: %q", e.Text)
	}
	r.applied(5)
	r.wire.add("floods-3", "Sukkur flood defences breached overnight")
	r.alertFor("Sukkur flood defences breached overnight")

	// Retire: the rule stops, its versions stay.
	if e := r.command(editor, "retire Floods"); !strings.Contains(e.Text, "is retired (version 4)") {
		t.Fatalf("retire: %q", e.Text)
	}
	r.applied(6)
	r.quietFor(2, "Flooded Hyderabad roads closed to traffic", "Kabul condemns cross-border strikes on Afghanistan posts")

	want := []string{
		"rule.save Floods by " + editor2,
		"alert.not_relevant Floods by " + reader,
		"rule.save Floods by " + editor,
		"rule.save Floods by " + editor,
		"rule.mute Floods by " + editor,
		"rule.unmute Floods by " + editor,
		"rule.retire Floods by " + editor,
	}
	if got := actions(r.audit()); !slices.Equal(got, want) {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, _, _ = wirewatch(t, nil, "audit", "-config", r.cfg)
	if !strings.Contains(out, "TIME (UTC)") || strings.Count(out, "\n") != len(want)+1 {
		t.Fatalf("audit table:\n%s", out)
	}
}

// TestSlackModalRefusesBadInput: bad input gets its error in the modal, at
// its field, and nothing is saved.
func TestSlackModalRefusesBadInput(t *testing.T) {
	r := startDesk(t, fmt.Sprintf("path = %q", filepath.Join(t.TempDir(), "state.db")), 1, 1)
	v := r.openForm(editor, "new")
	tenThousand := strings.TrimSuffix(strings.Repeat("flood OR ", 10000), " OR ")
	for _, c := range []struct {
		name   string
		values map[string]string
		field  string
		want   string
	}{
		{"unbalanced quotes", map[string]string{"name": "Floods", "query": `flood AND "Sindh villages`}, "query", "Column 11: "},
		{"unknown field", map[string]string{"name": "Floods", "query": "headline:flood"}, "query", `unknown field \"headline\"`},
		{"10,000-term query", map[string]string{"name": "Floods", "query": tenThousand}, "query", "at most 3,000 characters"},
		{"name of a config rule", map[string]string{"name": "cross-border STRIKES", "query": "flood"}, "name", "The config file has a rule named"},
		{"failing example", map[string]string{"name": "Floods", "query": "flood", "examples": "Rain in Lahore"}, "examples", "Example 1 does not match"},
		{"matching counterexample", map[string]string{"name": "Floods", "query": "flood", "counterexamples": "Flood of tourists"}, "counterexamples", "Counterexample 1 matches"},
		{"bad channel", map[string]string{"name": "Floods", "query": "flood", "channels": "#desk <!channel>"}, "channels", "is not a channel name or id"},
		{"forged field", map[string]string{"name": "Floods", "query": "flood", "owner": "U1"}, "query", `field \"owner\"`},
	} {
		ack, after := r.submit(editor, v.ID, c.values)
		if !strings.Contains(ack, `"response_action":"errors"`) || !strings.Contains(ack, `"`+c.field+`":`) || !strings.Contains(ack, c.want) {
			t.Errorf("%s: ack %.300s", c.name, ack)
		}
		if !after.Open {
			t.Fatalf("%s: the modal closed", c.name)
		}
	}
	// A name clash with a store rule: another editor saved "Floods" first.
	other := r.openForm(editor2, "new")
	if _, v := r.submit(editor2, other.ID, map[string]string{"name": "Floods", "query": "flood"}); !strings.Contains(v.Text(), "saved as version 1") {
		t.Fatalf("first Floods: %s", v.Text())
	}
	if ack, _ := r.submit(editor, v.ID, map[string]string{"name": "floods", "query": "flood"}); !strings.Contains(ack, "A rule named \\\"Floods\\\" already exists") {
		t.Errorf("store name clash: %s", ack)
	}
	// Only the one valid save is in the store.
	if got := actions(r.audit()); !slices.Equal(got, []string{"rule.save Floods by " + editor2}) {
		t.Fatalf("audit after bad input: %v", got)
	}
	out, _, _ := wirewatch(t, nil, "rules", "export", "-config", r.cfg)
	if strings.Count(out, "[[rules]]") != 1 {
		t.Fatalf("export:\n%s", out)
	}
}

// TestSlackClicksExactlyOnce: a dropped socket reconnects, and no click is
// lost or applied twice: an envelope redelivered after its acknowledgement
// was lost, one cut off by a drop, and double clicks each make one effect.
func TestSlackClicksExactlyOnce(t *testing.T) {
	r := startDesk(t, fmt.Sprintf("path = %q", filepath.Join(t.TempDir(), "state.db")), 1, 1)
	r.wire.add("s1", "Pakistan will strike deep into Afghanistan, Asif warns")
	m := r.alertFor("Pakistan will strike deep into Afghanistan")

	// A double click on Not relevant: both clicks leave before the first
	// one's update takes the button away.
	var ids []string
	for range 2 {
		id, err := r.slack.ClickButton(reader, "desk", m.TS, notify.ActionNotRelevant)
		r.must(err)
		ids = append(ids, id)
	}
	for _, id := range ids {
		r.acked(id)
	}
	// Its acknowledgement lost: Slack delivers it again.
	r.slack.Redeliver(ids[0], "timeout")

	// Mute story, the socket dropped at once: delivered again on the new one.
	id, err := r.slack.ClickButton(reader, "desk", m.TS, notify.ActionMuteStory)
	r.must(err)
	r.slack.DropSockets()
	r.must(r.slack.WaitConnections(r.ctx(20*time.Second), 1))
	r.acked(id)

	// A double choice in the Mute rule menu.
	for range 2 {
		id, err := r.slack.ChooseOption(editor, "desk", m.TS, notify.ActionMuteRule, "6h")
		r.must(err)
		r.acked(id)
	}
	r.must(r.slack.WaitFor(r.ctx(10*time.Second), func([]slackfake.Message) bool {
		m, _ = r.slack.Message("desk", m.TS)
		txt := slackfake.BlocksText(m.Blocks)
		return strings.Contains(txt, "Marked not relevant") && strings.Contains(txt, "Story muted by") && strings.Contains(txt, "muted until")
	}))
	// After the reconnect, a new action goes through.
	if e := r.command(editor, "unmute Cross-border strikes"); !strings.Contains(e.Text, "is unmuted") {
		t.Fatalf("unmute after the reconnect: %q", e.Text)
	}
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for { // every effect is recorded before its message is updated; the unmute's before its answer
		got = actions(r.audit())
		if len(got) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	slices.Sort(got)
	want := []string{
		"alert.not_relevant Cross-border strikes by " + reader,
		"rule.mute Cross-border strikes by " + editor,
		"rule.unmute Cross-border strikes by " + editor,
		"story.mute " + mustStory(m) + " by " + reader,
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("audit:\n%s\nwant one entry per effect:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.slack.ConnectionsOpened() < 2 {
		t.Fatal("the socket was not reopened")
	}
}

// mustStory is the story id of an alert's message: its alert id.
func mustStory(m slackfake.Message) string {
	return fmt.Sprint(m.Payload["alert_id"])
}

// TestSlackMuteAcrossReplicas: a Mute rule click on one of three replicas
// (PostgreSQL) is in force on all three within 10 seconds: no more alerts
// of that rule from any of them, while the others keep coming.
func TestSlackMuteAcrossReplicas(t *testing.T) {
	const feeds = 6
	r := startDesk(t, fmt.Sprintf("postgres = %q", pgSchemaURL(t)), 3, feeds)
	r.wires[0].add("s0", "Pakistan will strike deep into Afghanistan, Asif warns")
	m := r.alertFor("Pakistan will strike deep into Afghanistan")
	if !hasButton(m, notify.ActionMuteRule) {
		t.Fatalf("alert without the Mute rule menu: %s", m.Blocks)
	}

	// The click reaches one of the three sockets.
	id, err := r.slack.ChooseOption(editor, "desk", m.TS, notify.ActionMuteRule, "forever")
	r.must(err)
	e := r.acked(id)
	clicked := e.AckedAt
	r.applied(1) // every replica's log says the mute is in force
	took := time.Since(clicked)
	if took > 10*time.Second {
		t.Fatalf("the mute took %v to reach every replica", took)
	}
	t.Logf("mute clicked on socket %d; in force on all three within %v", e.Conn, took.Round(time.Millisecond))

	// Every feed gets an item of the muted rule, then one of the other:
	// the second ones all arrive, the first ones never.
	for i, w := range r.wires {
		w.add(fmt.Sprintf("m%d", i), fmt.Sprintf("Strikes %d deep inside Afghanistan reported", i))
		w.add(fmt.Sprintf("c%d", i), fmt.Sprintf("Istanbul talks %d collapse without a deal", i))
	}
	for i := range feeds {
		r.alertFor(fmt.Sprintf("Istanbul talks %d collapse", i))
	}
	for i := range feeds {
		if r.posted(fmt.Sprintf("Strikes %d deep inside", i)) {
			t.Errorf("an alert of the muted rule came from feed %d", i)
		}
	}
	// Each replica polled while the mute was in force.
	for i, p := range r.logs {
		b, _ := os.ReadFile(p)
		log := string(b)
		at := strings.Index(log, "editor rules and mutes in force\" marker=1 ")
		t.Logf("replica %d: %d polls after the mute", i, strings.Count(log[at:], `msg="feed polled"`))
	}
}

// TestConfigRuleNamedLikeAStoreRule: a config rule and a rule editors keep
// in the store cannot share a name: a reload that adds one is refused
// (the running config goes on), and so is a start.
func TestConfigRuleNamedLikeAStoreRule(t *testing.T) {
	r := startDesk(t, fmt.Sprintf("path = %q", filepath.Join(t.TempDir(), "state.db")), 1, 1)
	v := r.openForm(editor, "new")
	if _, v := r.submit(editor, v.ID, map[string]string{"name": "Floods", "query": "flood*"}); !strings.Contains(v.Text(), "saved as version 1") {
		t.Fatalf("save: %s", v.Text())
	}
	body, err := os.ReadFile(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clash := string(body) + "\n[[rules]]\nname = \"FLOODS\"\nquery = \"flood\"\n"
	atomicWrite(t, r.cfg, clash)
	r.procs[0].Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(r.logTail(), `rule \"FLOODS\" has the name of a rule editors keep in Slack`) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged\n%s", r.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(r.logTail(), "config reload refused") {
		t.Fatalf("the reload was not refused\n%s", r.logTail())
	}
	r.stop()
	_, stderr, code := wirewatch(t, nil, "run", "-config", r.cfg)
	if code == 0 || !strings.Contains(stderr, `rule "FLOODS" has the name of a rule editors keep in Slack ("Floods", version 1 by `+editor) || !strings.Contains(stderr, "/wirewatch retire Floods") {
		t.Fatalf("start with a clashing config (%d): %s", code, stderr)
	}
}
