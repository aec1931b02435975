package slackapp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
)

// The rule editor: a modal with the rule's name, query, channels, examples
// and counterexamples. On submit it is checked as `wirewatch check` checks
// a rule of the config file (rules.Compile, the rule's warnings,
// rules.CheckExamples), the items readers marked not relevant are run
// against the new query, and only a valid rule is saved, as a new version.
// Errors go back into the modal at their field, with their place in the
// query; the whole path is bounded by Options.SubmitBudget so that its
// acknowledgement leaves within Slack's 3 seconds.

const ruleCallback = "ww.rule"

// feedbackChecked is how many not-relevant items of a rule a submission
// runs against the new query (the newest).
const feedbackChecked = 200

// openRuleForm opens the rule editor (views.open): a new rule, or the
// current version of rule name.
func (a *App) openRuleForm(ctx context.Context, trigger, user, name string, to replyTo) {
	v, ok := a.ruleForm(ctx, to, name)
	if !ok {
		return
	}
	if _, err := a.api.OpenViewContext(ctx, trigger, v); err != nil {
		a.log.Warn("slack: cannot open the rule editor", "user", user, "err", err)
		a.say(ctx, to, "Slack did not open the rule editor ("+esc(err.Error(), 100)+"); try again.")
	}
}

// editFromView opens the editor for rule name from a click in a modal (it
// replaces that modal) or elsewhere (a new modal).
func (a *App) editFromView(ctx context.Context, cb slack.InteractionCallback, name string, to replyTo) {
	if cb.Container.Type != "view" || cb.View.Type != slack.VTModal {
		a.openRuleForm(ctx, cb.TriggerID, cb.User.ID, name, to)
		return
	}
	v, ok := a.ruleForm(ctx, to, name)
	if !ok {
		return
	}
	if _, err := a.api.UpdateViewContext(ctx, v, "", "", cb.View.ID); err != nil {
		a.log.Warn("slack: cannot show the rule editor", "user", cb.User.ID, "err", err)
	}
}

// ruleForm builds the editor for a new rule (name "") or the current
// version of a store rule; false (the user was told why) otherwise.
func (a *App) ruleForm(ctx context.Context, to replyTo, name string) (slack.ModalViewRequest, bool) {
	meta := modalMeta{V: 1}
	var cur EditorRule
	var nFeedback int
	if name != "" {
		if c, ok := a.configRule(name); ok {
			a.say(ctx, to, fmt.Sprintf("*%s* is in the config file: it is the operator's and read-only here. Copy its query into `%s new` under another name, or ask an operator.", esc(c.Name, 80), a.o.Command))
			return slack.ModalViewRequest{}, false
		}
		r, err := a.o.Store.EditorRule(ctx, name)
		if err == nil && r.Deleted {
			err = store.ErrNotFound
		}
		if errors.Is(err, store.ErrNotFound) {
			a.say(ctx, to, fmt.Sprintf("There is no rule %q. `%s rules` lists them.", truncate(name, MaxNameRunes), a.o.Command))
			return slack.ModalViewRequest{}, false
		}
		if err != nil {
			a.log.Error("slack: reading a rule", "rule", name, "err", err)
			a.say(ctx, to, unavailable)
			return slack.ModalViewRequest{}, false
		}
		cur, meta.Rule, meta.Version = r, r.Name, r.Version
		if fb, err := a.o.Store.Feedback(ctx, r.Name, feedbackChecked); err == nil {
			nFeedback = len(fb)
		}
	}
	var blocks []slack.Block
	title := "New rule"
	if meta.Rule == "" {
		el := slack.NewPlainTextInputBlockElement(plain("Cross-border strikes"), inputAction)
		el.MaxLength = MaxNameRunes
		blocks = append(blocks, slack.NewInputBlock(fieldName, plain("Name"), nil, el))
	} else {
		title = "Edit rule"
		blocks = append(blocks, section(fmt.Sprintf("*%s*  ·  version %d by <@%s>, %s", esc(cur.Name, 80), cur.Version, cur.Author, slackDate(cur.CreatedAt))))
	}
	q := slack.NewPlainTextInputBlockElement(plain(`strike* AND "deep into Afghanistan"`), inputAction)
	q.Multiline, q.MaxLength, q.InitialValue = true, MaxQueryRunes, cur.Query
	blocks = append(blocks, slack.NewInputBlock(fieldQuery, plain("Query"),
		plain("Words, \"phrases\", AND, OR, NOT, NEAR/5, prefix*, title:… — checked as `wirewatch check` does"), q))
	ch := slack.NewPlainTextInputBlockElement(plain(a.o.DefaultChannel), inputAction)
	ch.InitialValue = strings.Join(cur.Channels, ", ")
	blocks = append(blocks, optionalInput(fieldChannels, "Channels", "Comma-separated; empty: "+a.o.DefaultChannel, ch))
	ex := slack.NewPlainTextInputBlockElement(nil, inputAction)
	ex.Multiline, ex.InitialValue = true, strings.Join(cur.Examples, "\n")
	blocks = append(blocks, optionalInput(fieldExamples, "Examples", "One headline per line that the rule must match", ex))
	cx := slack.NewPlainTextInputBlockElement(nil, inputAction)
	cx.Multiline, cx.InitialValue = true, strings.Join(cur.Counterexamples, "\n")
	hint := "One headline per line that the rule must not match"
	switch {
	case nFeedback == 1:
		hint += ". The item readers marked not relevant is checked too."
	case nFeedback > 1:
		hint += fmt.Sprintf(". The %d items readers marked not relevant are checked too.", nFeedback)
	}
	blocks = append(blocks, optionalInput(fieldCounter, "Counterexamples", hint, cx))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      ruleCallback,
		Title:           plain(title),
		Submit:          plain("Check and save"),
		Close:           plain("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}, true
}

func optionalInput(id, label, hint string, el *slack.PlainTextInputBlockElement) *slack.InputBlock {
	b := slack.NewInputBlock(id, plain(label), plain(hint), el)
	b.Optional = true
	return b
}

func (a *App) configRule(name string) (ConfigRule, bool) {
	for _, c := range a.o.ConfigRules() {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return ConfigRule{}, false
}

// submit checks and saves a rule editor submission and acknowledges it
// with the result: errors at their fields, or the saved rule's summary.
func (a *App) submit(ctx context.Context, c acker, req *socketmode.Request, cb slack.InteractionCallback) {
	if cb.View.CallbackID != ruleCallback {
		a.ack(c, req, nil) // a modal with nothing to save closes
		return
	}
	sctx, cancel := context.WithTimeout(ctx, a.o.SubmitBudget)
	defer cancel()
	var resp *slack.ViewSubmissionResponse
	func() {
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("slack: rule editor panicked", "panic", r)
				resp = slack.NewErrorsViewSubmissionResponse(map[string]string{fieldQuery: "Wirewatch failed to check this rule; nothing was saved."})
			}
		}()
		resp = a.checkAndSave(sctx, cb)
	}()
	a.ack(c, req, resp)
}

// checkAndSave is the rule editor's submission: errors, or the saved rule.
func (a *App) checkAndSave(ctx context.Context, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	user := cb.User.ID
	errs := func(m map[string]string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(m)
	}
	meta, ok := parseMeta(cb.View.PrivateMetadata)
	if !ok || user == "" {
		a.log.Warn("slack: rule editor with foreign private_metadata refused", "user", user)
		return errs(map[string]string{fieldQuery: "This form was changed outside Wirewatch; nothing was saved. Close it and start again."})
	}
	f, bad := readForm(cb.View.State)
	if bad != nil {
		a.log.Warn("slack: rule editor with unknown fields refused", "user", user)
		return errs(bad)
	}
	if ok, err := a.authz().isEditor(ctx, user); !ok {
		msg := "Only editors may save rules; nothing was saved."
		if err != nil {
			msg = "Wirewatch cannot check who the editors are right now; nothing was saved. Try again in a minute."
		}
		return errs(map[string]string{fieldQuery: msg})
	}

	problems := map[string]string{}
	name := strings.TrimSpace(f.Name)
	if meta.Rule != "" {
		if f.Name != "" {
			return errs(map[string]string{fieldQuery: "A rule's name cannot be changed; nothing was saved. Create a new rule and retire this one."})
		}
		name = meta.Rule
	} else if p := checkName(name); p != "" {
		problems[fieldName] = p
	} else if c, ok := a.configRule(name); ok {
		problems[fieldName] = fmt.Sprintf("The config file has a rule named %q (the operator's, read-only); choose another name.", c.Name)
	}
	query := normalizeQuotes(f.Query)
	r, p := compileQuery(name, query)
	if p != "" {
		problems[fieldQuery] = p
	}
	channels, p := splitChannels(f.Channels)
	if p != "" {
		problems[fieldChannels] = p
	}
	examples, p := splitLines(f.Examples, "Example")
	if p != "" {
		problems[fieldExamples] = p
	}
	counter, p := splitLines(f.Counterexamples, "Counterexample")
	if p != "" {
		problems[fieldCounter] = p
	}
	if r != nil && problems[fieldExamples] == "" && problems[fieldCounter] == "" {
		for field, msg := range examplesProblems(r, examples, counter) {
			problems[field] = msg
		}
	}
	if len(problems) > 0 {
		return errs(problems)
	}

	// A name clash with another store rule (any case).
	current, err := a.o.Store.EditorRules(ctx)
	if err != nil {
		return errs(map[string]string{fieldQuery: a.storeTrouble("reading rules", err)})
	}
	for _, e := range current {
		if strings.EqualFold(e.Name, name) && (meta.Rule == "" || e.Name != meta.Rule) {
			return errs(map[string]string{fieldName: fmt.Sprintf("A rule named %q already exists: edit it with `%s edit %s`.", e.Name, a.o.Command, e.Name)})
		}
	}
	var still []Feedback
	if fb, err := a.o.Store.Feedback(ctx, name, feedbackChecked); err == nil {
		for _, it := range fb {
			if _, ok := r.Match(rules.Analyze(rules.Document{Title: it.Title, Summary: it.Text})); ok {
				still = append(still, it)
			}
		}
	} else {
		return errs(map[string]string{fieldQuery: a.storeTrouble("reading not-relevant items", err)})
	}

	now := a.o.Now()
	rule := EditorRule{Name: name, Query: query, Channels: channels, Examples: examples, Counterexamples: counter, Author: user, CreatedAt: now}
	saved, err := a.o.Store.SaveEditorRule(ctx, rule, meta.Version,
		// A submission is one effect per view and version of the view:
		// a redelivery has both, "Edit again" in the same modal a new hash.
		Action{Key: "view:" + cb.View.ID + ":" + cb.View.Hash, User: user, At: now, Action: ActSaveRule, Target: name, Details: fmt.Sprintf("version %d: %s", meta.Version+1, truncate(query, 500))})
	switch {
	case errors.Is(err, ErrDuplicate):
		// The same submission came again (a redelivery): it is saved.
		saved, err = a.o.Store.EditorRule(ctx, name)
		if err != nil {
			return errs(map[string]string{fieldQuery: a.storeTrouble("reading the rule", err)})
		}
	case errors.Is(err, ErrConflict):
		if meta.Rule == "" {
			return errs(map[string]string{fieldName: fmt.Sprintf("A rule named %q was just created by someone else; choose another name.", name)})
		}
		return errs(map[string]string{fieldQuery: "Someone saved a newer version of this rule meanwhile; nothing was saved. Copy your query, close this form and edit the rule again."})
	case err != nil:
		return errs(map[string]string{fieldQuery: a.storeTrouble("saving", err)})
	default:
		a.log.Info("slack: rule saved", "rule", name, "version", saved.Version, "user", user)
		a.changed()
	}
	v := a.savedView(saved, r.Warnings(), still)
	return slack.NewUpdateViewSubmissionResponse(&v)
}

// examplesProblems runs the examples as `wirewatch check` does and says
// what fails, by field.
func examplesProblems(r *rules.Rule, examples, counter []string) map[string]string {
	var ex, cx []string
	for _, p := range rules.CheckExamples(r, examples, counter) {
		if p.Counter {
			cx = append(cx, fmt.Sprintf("Counterexample %d matches: “%s”", p.Index+1, truncate(p.Text, 80)))
		} else {
			ex = append(ex, fmt.Sprintf("Example %d does not match: “%s”", p.Index+1, truncate(p.Text, 80)))
		}
	}
	out := map[string]string{}
	if len(ex) > 0 {
		out[fieldExamples] = truncate(strings.Join(ex, " · "), 1000)
	}
	if len(cx) > 0 {
		out[fieldCounter] = truncate(strings.Join(cx, " · "), 1000)
	}
	return out
}

// storeTrouble logs a store error and words it for the form.
func (a *App) storeTrouble(what string, err error) string {
	a.log.Error("slack: rule editor: "+what, "err", err)
	if errors.Is(err, context.DeadlineExceeded) {
		return "Wirewatch's database did not answer in time; nothing was saved. Try again."
	}
	return "Wirewatch cannot reach its database right now; nothing was saved. Try again in a minute."
}

// savedView is what the editor shows after a save: the version, the
// check's warnings and the not-relevant items the query still matches.
func (a *App) savedView(r EditorRule, warnings []rules.Diagnostic, still []Feedback) slack.ModalViewRequest {
	blocks := []slack.Block{section(fmt.Sprintf(":white_check_mark: *%s* saved as version %d. Every Wirewatch process uses it within seconds; earlier versions are kept.", esc(r.Name, 80), r.Version))}
	if len(warnings) > 0 {
		var b strings.Builder
		b.WriteString("*The check warns:*")
		for i, w := range warnings {
			if i == 5 {
				break
			}
			b.WriteString("\n• " + esc(atPosition(r.Query, rules.ByteOffset(r.Query, w.Col), w.Msg), 400))
		}
		blocks = append(blocks, section(b.String()))
	}
	if len(still) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "*It still matches %d of the items readers marked not relevant:*", len(still))
		for i, f := range still {
			if i == 10 {
				fmt.Fprintf(&b, "\n• … and %d more", len(still)-i)
				break
			}
			b.WriteString("\n• " + linked(f.Link, f.Title))
		}
		b.WriteString("\nAdd a NOT term or a counterexample and save again.")
		blocks = append(blocks, section(b.String()))
	}
	blocks = append(blocks,
		contextText(fmt.Sprintf("Try it on what Wirewatch has seen: `%s try %s`", a.o.Command, esc(truncate(r.Query, 200), 300))),
		slack.NewActionBlock("", button(actionEditRule, r.Name, "Edit again")))
	return slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  plain("Rule saved"),
		Close:  plain("Done"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}
