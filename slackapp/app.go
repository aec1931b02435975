package slackapp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/wirewatch/wirewatch/notify"
)

// Options configure an App. AppToken, BotToken and Store are required.
type Options struct {
	// AppToken (xapp-…, scope connections:write) opens Socket Mode;
	// BotToken (xoxb-…) answers: messages, modals, the Home tab.
	AppToken string
	BotToken string
	// APIURL overrides Slack's Web API base URL (proxies, tests).
	APIURL     string
	HTTPClient *http.Client

	// Editors are user ids (U…, W…) and user group ids (S…) who may
	// change rules.
	Editors []string
	// Command is the slash command's name (default "/wirewatch").
	Command string
	// DefaultChannel is where a rule that names no channel posts.
	DefaultChannel string

	Store Store
	// ConfigRules returns the rules of the config file as loaded now
	// (they change with a reload); read-only in Slack.
	ConfigRules func() []ConfigRule
	// Render draws an alert's message for chat.update after a click.
	Render Renderer
	// Try runs /wirewatch try; nil answers that trying is not available.
	Try Tryer
	// Status feeds /wirewatch status; nil shows mutes only.
	Status Statuser
	// Changed, if set, is called after this process changed rules or
	// mutes in the store, so it applies them at once (the other replicas
	// pick them up from the store's change marker within seconds).
	Changed func()

	// SubmitBudget bounds a modal submission's checks and save (default
	// 2s), so its acknowledgement leaves within Slack's 3 seconds.
	SubmitBudget time.Duration
	// HandlerTimeout bounds the work after an acknowledgement (default 20s).
	HandlerTimeout time.Duration
	// Grace is how long Run waits for handlers after its context ends
	// (default 5s).
	Grace time.Duration
	// Workers handle that many envelopes at once (default 16).
	Workers int

	Now    func() time.Time
	Logger *slog.Logger
}

// App is Wirewatch's Slack app. Create it with New and call Run.
type App struct {
	o   Options
	api *slack.Client
	z   atomic.Pointer[authz]
	log *slog.Logger
	sem chan struct{}
	wg  sync.WaitGroup
}

// New checks the options and builds the App; it does no I/O.
func New(o Options) (*App, error) {
	switch {
	case !strings.HasPrefix(o.AppToken, "xapp-"):
		return nil, errors.New("slackapp: Options.AppToken must be an app-level token (xapp-…)")
	case o.BotToken == "":
		return nil, errors.New("slackapp: Options.BotToken is required")
	case o.Store == nil:
		return nil, errors.New("slackapp: Options.Store is required")
	}
	if o.Command == "" {
		o.Command = "/wirewatch"
	}
	if o.DefaultChannel == "" {
		o.DefaultChannel = "#news-alerts"
	}
	if o.ConfigRules == nil {
		o.ConfigRules = func() []ConfigRule { return nil }
	}
	if o.SubmitBudget <= 0 {
		o.SubmitBudget = 2 * time.Second
	}
	if o.HandlerTimeout <= 0 {
		o.HandlerTimeout = 20 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []slack.Option{slack.OptionAppLevelToken(o.AppToken), slack.OptionHTTPClient(o.HTTPClient)}
	if o.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(o.APIURL))
	}
	a := &App{o: o, api: slack.New(o.BotToken, opts...), log: o.Logger, sem: make(chan struct{}, o.Workers)}
	a.SetEditors(o.Editors)
	return a, nil
}

// SetEditors replaces who the editors are (a config reload).
func (a *App) SetEditors(editors []string) {
	z := newAuthz(editors, func(ctx context.Context, g string) ([]string, error) {
		return a.api.GetUserGroupMembersContext(ctx, g)
	}, a.o.Now)
	a.z.Store(z)
}

func (a *App) authz() *authz { return a.z.Load() }

// changed tells the process that rules or mutes changed.
func (a *App) changed() {
	if a.o.Changed != nil {
		a.o.Changed()
	}
}

// replyTo says where an answer only the user sees can go: the response_url
// of a command or message button, an ephemeral message in a channel, or
// (from the Home tab or a modal, which have neither) a small modal.
type replyTo struct {
	user        string
	responseURL string
	channel     string
	triggerID   string
	// notice, when set, takes the answer instead (it is shown on the Home
	// tab published next).
	notice *string
}

// say answers the user privately with text (mrkdwn) and optional blocks.
func (a *App) say(ctx context.Context, to replyTo, text string, blocks ...slack.Block) {
	var err error
	switch {
	case to.notice != nil:
		*to.notice = text
	case to.responseURL != "":
		err = a.respond(ctx, to.responseURL, text, blocks)
	case to.channel != "":
		opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
		if len(blocks) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(blocks...))
		}
		_, err = a.api.PostEphemeralContext(ctx, to.channel, to.user, opts...)
	case to.triggerID != "":
		if len(blocks) == 0 {
			blocks = []slack.Block{section(text)}
		}
		_, err = a.api.OpenViewContext(ctx, to.triggerID, slack.ModalViewRequest{
			Type:   slack.VTModal,
			Title:  plain("Wirewatch"),
			Close:  plain("Close"),
			Blocks: slack.Blocks{BlockSet: blocks},
		})
	default:
		err = errors.New("nowhere to answer")
	}
	if err != nil {
		a.log.Warn("slack: cannot answer the user", "user", to.user, "err", err)
	}
}

// respond posts an ephemeral answer to a response_url.
func (a *App) respond(ctx context.Context, url, text string, blocks []slack.Block) error {
	msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
	if len(blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	return slack.PostWebhookCustomHTTPContext(ctx, url, a.o.HTTPClient, msg)
}

// --- Block Kit helpers ---

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, truncate(s, 75), false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, 3000), false, false)
}

func section(s string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

func contextText(s string) *slack.ContextBlock {
	return slack.NewContextBlock("", mrkdwn(s))
}

func button(actionID, value, label string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, plain(label))
}

// truncate cuts s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string { return notify.TruncRunes(s, n) }

// esc makes text typed by people or feeds inert in mrkdwn (no mention, no
// link, no formatting of "<" and "&"), cut to n runes.
func esc(s string, n int) string { return notify.Escape(truncate(s, n)) }
