package slackapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
)

// The /wirewatch slash command. Every answer is private (ephemeral, on the
// command's response_url). Everyone may list rules, try a query, see the
// status and ask for help; editors may also create, edit, mute, unmute and
// retire rules.

const helpText = "*Wirewatch* watches the desk's feeds and posts what its rules match.\n" +
	"• `%[1]s rules`: every rule, its alerts in the last 24 h and 7 days and how many were marked not relevant\n" +
	"• `%[1]s try QUERY`: what a query would have matched among the items Wirewatch has seen\n" +
	"• `%[1]s status`: failing feeds, alerts waiting for Slack, mutes in force\n" +
	"• `%[1]s new`, `%[1]s edit RULE`: the rule editor (editors)\n" +
	"• `%[1]s mute RULE [1h|6h|24h|2d|forever]`, `%[1]s unmute RULE` (editors; no duration: until unmuted)\n" +
	"• `%[1]s retire RULE`: stop a rule; its versions are kept (editors)\n" +
	"On every alert: *Not relevant* (anyone: the item becomes a counterexample of the rule), *Mute story* (anyone: no more follow-ups), *Mute rule…* (editors).\n" +
	"The app's Home tab has the same rules and actions."

func (a *App) command(ctx context.Context, cmd slack.SlashCommand) {
	to := replyTo{user: cmd.UserID, responseURL: cmd.ResponseURL, channel: cmd.ChannelID}
	if cmd.UserID == "" {
		return
	}
	if len(cmd.Text) > maxCommandText || !utf8.ValidString(cmd.Text) {
		a.say(ctx, to, fmt.Sprintf("That command is too long (at most %d characters).", maxCommandText))
		return
	}
	verb, rest := parseCommand(cmd.Text)
	key := "command:" + cmd.TriggerID
	switch verb {
	case "", "help":
		a.help(ctx, to)
	case "rules", "list":
		a.listRules(ctx, to)
	case "status":
		a.status(ctx, to)
	case "try":
		a.try(ctx, to, rest)
	case "new", "create":
		if a.mayEdit(ctx, to, "create rules") {
			a.openRuleForm(ctx, cmd.TriggerID, cmd.UserID, "", to)
		}
	case "edit":
		if a.mayEdit(ctx, to, "edit rules") {
			a.openRuleForm(ctx, cmd.TriggerID, cmd.UserID, unquote(rest), to)
		}
	case "mute":
		if cmd.TriggerID == "" {
			return
		}
		if a.mayEdit(ctx, to, "mute rules") {
			a.muteCommand(ctx, to, rest, key)
		}
	case "unmute":
		if cmd.TriggerID == "" {
			return
		}
		if a.mayEdit(ctx, to, "unmute rules") {
			a.unmute(ctx, to, unquote(rest), key)
		}
	case "retire", "delete":
		if cmd.TriggerID == "" {
			return
		}
		if a.mayEdit(ctx, to, "retire rules") {
			a.retire(ctx, to, unquote(rest), key)
		}
	default:
		a.say(ctx, to, fmt.Sprintf("I don't know %q.\n\n", truncate(verb, 40))+fmt.Sprintf(helpText, a.o.Command))
	}
}

// parseCommand splits a command's text into its verb (lower case) and the
// rest (trimmed), with typographic quotes made plain.
func parseCommand(text string) (verb, rest string) {
	text = normalizeQuotes(strings.TrimSpace(text))
	verb, rest, _ = strings.Cut(text, " ")
	return strings.ToLower(verb), strings.TrimSpace(rest)
}

// splitMute reads "RULE [DURATION]": a last word that is a duration is
// the duration, else the mute is until unmuted (0).
func splitMute(rest string) (name string, d time.Duration) {
	if f := strings.Fields(rest); len(f) >= 2 {
		if dd, ok := parseMuteFor(f[len(f)-1]); ok {
			return unquote(strings.Join(f[:len(f)-1], " ")), dd
		}
	}
	return unquote(rest), 0
}

// normalizeQuotes turns typographic quotes (which some Slack clients type
// for ") into plain ones, so phrases in a query stay phrases.
func normalizeQuotes(s string) string {
	return strings.NewReplacer("“", `"`, "”", `"`, "„", `"`, "″", `"`).Replace(s)
}

// unquote takes a rule name out of quotes or backticks.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	for _, q := range []string{`"`, "`", "'"} {
		if len(s) >= 2 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q) {
			return strings.TrimSpace(s[1 : len(s)-1])
		}
	}
	return s
}

func (a *App) help(ctx context.Context, to replyTo) {
	who := "You can mark alerts not relevant and mute stories; editors can also change rules: " + a.authz().editorsText() + "."
	if ok, _ := a.authz().isEditor(ctx, to.user); ok {
		who = "You are an editor: you can create, edit, mute and retire rules."
	}
	a.say(ctx, to, fmt.Sprintf(helpText, a.o.Command)+"\n"+who)
}

func (a *App) listRules(ctx context.Context, to replyTo) {
	rows, _, err := a.rows(ctx)
	if err != nil {
		a.log.Error("slack: listing rules", "err", err)
		a.say(ctx, to, unavailable)
		return
	}
	editor, _ := a.authz().isEditor(ctx, to.user)
	blocks := append([]slack.Block{section(fmt.Sprintf("*%d rules* (alerts in the last 24 h and 7 days; not relevant: marked by readers)", len(rows)))},
		listBlocks(rows, editor, 48)...)
	a.say(ctx, to, fmt.Sprintf("%d rules", len(rows)), blocks...)
}

func (a *App) status(ctx context.Context, to replyTo) {
	mutes, err := a.o.Store.Mutes(ctx, a.o.Now())
	if err != nil {
		a.log.Error("slack: reading mutes", "err", err)
		a.say(ctx, to, unavailable)
		return
	}
	var st *DeskStatus
	if a.o.Status != nil {
		s, err := a.o.Status.DeskStatus(ctx, a.o.Now())
		if err != nil {
			a.log.Error("slack: reading the status", "err", err)
			a.say(ctx, to, unavailable)
			return
		}
		st = &s
	}
	a.say(ctx, to, statusText(st, mutes))
}

// compileQuery checks a query as `wirewatch check` does; the problem is
// told with its place in the query.
func compileQuery(name, q string) (*rules.Rule, string) {
	if p := checkQueryShape(q); p != "" {
		return nil, p
	}
	r, err := rules.Compile(name, q)
	if err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return nil, atPosition(q, re.Offset, re.Msg)
		}
		return nil, err.Error()
	}
	return r, ""
}

// atPosition says msg with its line and column in q (byte offset off).
func atPosition(q string, off int, msg string) string {
	off = min(max(off, 0), len(q))
	line := strings.Count(q[:off], "\n") + 1
	col := utf8.RuneCountInString(q[strings.LastIndexByte(q[:off], '\n')+1:off]) + 1
	if line == 1 {
		return fmt.Sprintf("Column %d: %s", col, msg)
	}
	return fmt.Sprintf("Line %d, column %d: %s", line, col, msg)
}

const tryLimit = 10

func (a *App) try(ctx context.Context, to replyTo, q string) {
	q = strings.Trim(strings.TrimSpace(q), "`")
	if q == "" {
		a.say(ctx, to, fmt.Sprintf("Give a query: `%s try strike* AND \"deep into Afghanistan\"`", a.o.Command))
		return
	}
	if _, problem := compileQuery("try", q); problem != "" {
		a.say(ctx, to, "That query does not compile: "+esc(problem, 500))
		return
	}
	if a.o.Try == nil {
		a.say(ctx, to, "Trying queries is not available here.")
		return
	}
	res, err := a.o.Try.Try(ctx, q, tryLimit)
	if err != nil {
		a.log.Error("slack: trying a query", "err", err)
		a.say(ctx, to, "Wirewatch could not run that query now: "+esc(err.Error(), 300))
		return
	}
	head := fmt.Sprintf("`%s` matches *%d* of %s.", esc(q, 300), res.Total, esc(res.Source, 200))
	if res.Total == 0 {
		a.say(ctx, to, head+" Nothing matched.")
		return
	}
	var b strings.Builder
	for i, m := range res.Matches {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("• " + linked(m.Link, m.Title))
		var meta []string
		if m.Feed != "" {
			meta = append(meta, esc(m.Feed, 80))
		}
		if !m.Published.IsZero() {
			meta = append(meta, m.Published.UTC().Format("2 Jan 15:04"))
		}
		if len(meta) > 0 {
			b.WriteString(" — " + strings.Join(meta, " · "))
		}
		if sn := boldMarks(m.Snippet, m.Marks, 240); sn != "" {
			b.WriteString("\n    " + sn)
		}
	}
	blocks := []slack.Block{section(head)}
	for _, chunk := range chunks(b.String(), 2900) {
		blocks = append(blocks, section(chunk))
	}
	if res.Total > len(res.Matches) {
		blocks = append(blocks, contextText(fmt.Sprintf("The first %d of %d. `wirewatch try -since 7d -query …` on the server shows them all.", len(res.Matches), res.Total)))
	}
	a.say(ctx, to, head, blocks...)
}

// linked is a mrkdwn link to an http(s) URL with an escaped label, or the
// escaped label alone.
func linked(link, label string) string {
	if label == "" {
		label = link
	}
	if u := notify.SafeURL(link); u != "" {
		return "<" + strings.ReplaceAll(u, "&", "&amp;") + "|" + esc(label, 200) + ">"
	}
	return esc(label, 200)
}

// boldMarks escapes s (cut to n runes) with the byte ranges marks in bold.
func boldMarks(s string, marks [][2]int, n int) string {
	ms := slices.Clone(marks)
	slices.SortFunc(ms, func(x, y [2]int) int { return x[0] - y[0] })
	var b strings.Builder
	pos := 0
	for _, m := range ms {
		if m[0] < pos || m[1] > len(s) || m[0] >= m[1] || !utf8.RuneStart(s[m[0]]) || (m[1] < len(s) && !utf8.RuneStart(s[m[1]])) {
			continue
		}
		b.WriteString(esc(s[pos:m[0]], n))
		b.WriteString("*" + esc(strings.TrimSpace(s[m[0]:m[1]]), n) + "*")
		pos = m[1]
	}
	b.WriteString(esc(s[pos:], n))
	return truncate(strings.Join(strings.Fields(b.String()), " "), n)
}

// chunks cuts s into pieces of at most n runes at line ends.
func chunks(s string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(l) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(truncate(l, n))
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// muteCommand handles "mute RULE [DURATION]".
func (a *App) muteCommand(ctx context.Context, to replyTo, rest, key string) {
	name, d := splitMute(rest)
	row, ok := a.findRule(ctx, to, name)
	if !ok {
		return
	}
	if m, done := a.muteRule(ctx, to, row.Name, d, key); done == muted {
		a.say(ctx, to, muteDone(m))
	}
}

// findRule finds a rule (config or store) by name for a command, telling
// the user when there is none.
func (a *App) findRule(ctx context.Context, to replyTo, name string) (ruleRow, bool) {
	if name == "" {
		a.say(ctx, to, "Name a rule: `"+a.o.Command+" rules` lists them.")
		return ruleRow{}, false
	}
	rows, _, err := a.rows(ctx)
	if err != nil {
		a.log.Error("slack: listing rules", "err", err)
		a.say(ctx, to, unavailable)
		return ruleRow{}, false
	}
	r, ok := findRow(rows, name)
	if !ok {
		a.say(ctx, to, fmt.Sprintf("There is no rule %q. `%s rules` lists them.", truncate(name, MaxNameRunes), a.o.Command))
	}
	return r, ok
}

func (a *App) unmute(ctx context.Context, to replyTo, name, key string) {
	row, ok := a.findRule(ctx, to, name)
	if !ok {
		return
	}
	now := a.o.Now()
	was, err := a.o.Store.Unmute(ctx, MuteRule, row.Name, Action{Key: key, User: to.user, At: now, Action: ActUnmuteRule, Target: row.Name})
	switch {
	case errors.Is(err, ErrDuplicate):
	case err != nil:
		a.log.Error("slack: unmuting a rule", "rule", row.Name, "err", err)
		a.say(ctx, to, unavailable)
	case !was:
		a.say(ctx, to, fmt.Sprintf("Rule *%s* was not muted.", esc(row.Name, 80)))
	default:
		a.log.Info("slack: rule unmuted", "rule", row.Name, "user", to.user)
		a.changed()
		a.say(ctx, to, fmt.Sprintf("Rule *%s* is unmuted: its alerts come again within seconds.", esc(row.Name, 80)))
	}
}

// retire retires a store rule: a new version marked deleted.
func (a *App) retire(ctx context.Context, to replyTo, name, key string) {
	row, ok := a.findRule(ctx, to, name)
	if !ok {
		return
	}
	if row.Config {
		a.say(ctx, to, fmt.Sprintf("*%s* is in the config file: only an operator can remove it there. You can mute it: `%s mute %s`.", esc(row.Name, 80), a.o.Command, esc(row.Name, 80)))
		return
	}
	cur, err := a.o.Store.EditorRule(ctx, row.Name)
	if err != nil {
		a.log.Error("slack: reading a rule", "rule", row.Name, "err", err)
		a.say(ctx, to, unavailable)
		return
	}
	now := a.o.Now()
	next := cur
	next.Deleted, next.Author, next.CreatedAt = true, to.user, now
	saved, err := a.o.Store.SaveEditorRule(ctx, next, cur.Version, Action{Key: key, User: to.user, At: now, Action: ActRetireRule, Target: cur.Name, Details: fmt.Sprintf("version %d", cur.Version+1)})
	switch {
	case errors.Is(err, ErrDuplicate):
	case errors.Is(err, ErrConflict), errors.Is(err, store.ErrNotFound):
		a.say(ctx, to, fmt.Sprintf("*%s* changed meanwhile; nothing was retired. Look again with `%s rules`.", esc(cur.Name, 80), a.o.Command))
	case err != nil:
		a.log.Error("slack: retiring a rule", "rule", cur.Name, "err", err)
		a.say(ctx, to, unavailable)
	default:
		a.log.Info("slack: rule retired", "rule", cur.Name, "user", to.user, "version", saved.Version)
		a.changed()
		a.say(ctx, to, fmt.Sprintf("Rule *%s* is retired (version %d): no more alerts from it within seconds. Its versions are kept; `%s new` with the same name brings it back.", esc(cur.Name, 80), saved.Version, a.o.Command))
	}
}
