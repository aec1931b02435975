// Package notify owns delivery: it takes alerts from the store's outbox and
// gets each into Slack exactly once where Slack lets it, in order per
// channel, without flooding a channel and without letting feed text ping
// anyone. It reads only from the store (through Store, the part of it
// delivery needs, and writes delivery state back there), never from the
// feed or the configuration.
//
// Delivery is a pipeline of stages, modelled on Prometheus Alertmanager's
// notify package: one file per stage, assembled in one place
// (deliverChannel in pipeline.go), run for one leased channel at a time:
//
//	claim    Store.ClaimChannel leases a channel and its due alerts, in order
//	dedupe   alerts whose last post had an unknown outcome are looked up in the
//	         channel's history (message metadata carries the alert ids) and
//	         marked sent if found, instead of being posted again
//	plan     digests become one summary per (channel, digest); a burst of more
//	         than Options.BurstGroup alerts becomes grouped messages; past
//	         Options.ChannelCap top-level messages in the last hour, the rest
//	         becomes one summary; an item matching several rules of the
//	         channel is one message
//	then, for each message:
//	lease    the batch stops when shutting down or half the lease is gone
//	story    a story follow-up (Alert.StoryID set to another alert's id) is
//	         posted as a reply in its parent's thread, and the parent message
//	         is updated with the outlets so far (chat.update); a story
//	         reported by enough outlets in time is breaking (breaking.go):
//	         marked on its parent, and escalated once; see Options
//	cap      a top-level message waits while the channel cap is reached
//	pace     about one message per second per channel, short bursts allowed
//	post     chat.postMessage (bot token), an incoming webhook, or stdout,
//	         rendered as Block Kit with every piece of feed text escaped
//	         (render.go)
//	record   MarkSent only after Slack accepted; a 429 waits its Retry-After
//	         (never given up within RetryFor); 5xx and network errors back off
//	         exponentially with jitter (retry.go); after RetryFor, or on a
//	         permanent error, MarkFailed and one ops message (ops.go). Refused
//	         credentials (invalid_auth, a revoked webhook) hold the alerts
//	         instead, retried until RetryFor, so a fixed token delivers them.
//
// Guarantees (bot token, with the channels:history / groups:history scopes):
// an alert is marked sent only after Slack accepted it, and an alert whose
// post had an unknown outcome (connection lost after sending, 5xx, a crash
// between the post and the store write) is posted again only if its id is
// not in the metadata of the channel's last 1,000 messages. So each alert
// appears once, unless Slack loses the answer AND the message is not yet
// visible in history (or more than 1,000 newer messages buried it). A story
// follow-up posted in its parent's thread is looked for in that thread
// (conversations.replies, same scopes), since history omits replies. With an
// incoming webhook or without the history scopes no history can be read, and
// delivery is at-least-once: a lost answer means the alert is posted again.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wirewatch/wirewatch/metrics"
	"github.com/wirewatch/wirewatch/store"
)

// Options configures a Notifier. Only Store is required.
type Options struct {
	Store Store // store.Store has all it needs

	// Token is a bot token (xoxb-…): messages go through chat.postMessage
	// with Block Kit and alert-id metadata.
	Token string
	// WebhookURL is an incoming webhook, used when Token is empty. Every
	// message goes to the webhook's own channel, whatever the alert's
	// channel; delivery is at-least-once.
	WebhookURL string
	// APIURL overrides the Slack Web API base URL (proxies, tests), e.g.
	// "http://127.0.0.1:1234/api/".
	APIURL string
	// Out receives alerts when neither Token nor WebhookURL is set, one
	// readable plain-text block each (see WriteText). Nil means os.Stdout.
	Out io.Writer

	// OpsChannel receives delivery failure reports; "" logs them only.
	OpsChannel string
	// Unfurl turns Slack's link and media previews on (default off).
	Unfurl bool
	// Owner identifies this process in leases; default hostname:pid:random.
	Owner string

	// Now is the clock (default time.Now); Sleep waits on it (default: a
	// real timer). Tests inject both so retries and pacing take no real time.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// RetryFor is how long an alert is retried before it is marked failed
	// and reported to OpsChannel (default 24h), counted from its creation
	// (for digest alerts: from when the digest first came due).
	RetryFor time.Duration
	// Interval is the sustained pace per channel (default 1s); Burst
	// messages may go at once before pacing applies (default 3).
	Interval time.Duration
	Burst    int
	// BurstGroup: when more than this many alerts are due at once for one
	// channel, they are posted as grouped messages listing the stories
	// (default 5; negative disables grouping). Story follow-ups never join
	// a group.
	BurstGroup int
	// ChannelCap is the most top-level item messages posted to one channel
	// per rolling hour (0: no cap). When more are due, the last message
	// the cap allows is one summary listing them all (RenderGroup); once
	// the cap is reached, the channel waits until a message of the last
	// hour ages out and then posts what is due as one summary. Thread
	// replies, ops messages and digests are not counted. The posts are
	// counted in the store (Store.RecordPost), so replicas share one count
	// per channel and a restart keeps it.
	ChannelCap int

	// Workers deliver to that many channels at once in Run (default 4).
	Workers int
	// Lease is how long a claimed channel stays ours (default 1m). A
	// process that dies holding a lease delays that channel by up to Lease;
	// its alerts then come back marked uncertain. A batch stops posting
	// after Lease/2 and releases the rest, so keep HTTPClient's timeout well
	// under Lease/2.
	Lease time.Duration
	// PollInterval is how often an idle Run looks for due alerts (default 1s).
	PollInterval time.Duration
	// DrainWait bounds how far Drain waits for retries after 5xx or network
	// errors (default 2m); 429 Retry-After and pacing are always waited for.
	DrainWait time.Duration

	// Interactive draws every alert with its buttons (RenderInteractive):
	// Wirewatch also runs as a Slack app (package slackapp), which handles
	// the clicks. Needs Token.
	Interactive bool
	// Mutes, if set, holds back the alerts of muted rules and the
	// follow-ups of muted stories (mute.go); States, if set, gives a story
	// message's update what readers did with it.
	Mutes  Mutes
	States AlertStates

	// HTTPClient is used for Slack (default: 20s timeout).
	HTTPClient *http.Client
	// Metrics, if set, counts alerts sent and failed.
	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Notifier delivers the store's outbox. Create it with New.
type Notifier struct {
	o   Options
	st  Store
	tr  transport
	log *slog.Logger
	pc  *pacer

	mu       sync.Mutex
	reported map[string]bool      // channel + error code reported once
	refused  string               // the credential error code Slack last answered, until a post succeeds
	firstDue map[string]time.Time // digest alert id → when it first came due
	hold     map[string]holdInfo  // channel → why and until when it waits
	rnd      *mrand.Rand

	claimLog store.Repeats // quiets the repeats while the store is unavailable
}

type holdInfo struct {
	until   time.Time
	backoff bool // the wait is a retry backoff (5xx/network), not 429 or pacing
}

// ErrUndelivered is wrapped by Drain's error when alerts that were due are
// still queued because Slack kept failing (they stay in the outbox).
var ErrUndelivered = errors.New("alerts still queued")

const claimLimit = 200

// New checks the options and builds a Notifier. It does no I/O.
func New(o Options) (*Notifier, error) {
	if o.Store == nil {
		return nil, errors.New("notify: Options.Store is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = realSleep
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Burst <= 0 {
		o.Burst = 3
	}
	if o.BurstGroup == 0 {
		o.BurstGroup = 5
	}
	if o.ChannelCap < 0 {
		return nil, errors.New("notify: Options.ChannelCap must not be negative")
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.DrainWait <= 0 {
		o.DrainWait = 2 * time.Minute
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	n := &Notifier{
		o: o, st: o.Store, log: o.Logger.With("component", "notify"),
		pc:       &pacer{interval: o.Interval, burst: o.Burst, tat: map[string]time.Time{}},
		reported: map[string]bool{}, firstDue: map[string]time.Time{}, hold: map[string]holdInfo{},
		rnd: mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15)),
	}
	switch {
	case o.Token != "":
		n.tr = newAPITransport(o.Token, o.APIURL, o.HTTPClient, o.Unfurl)
	case o.WebhookURL != "":
		if !strings.HasPrefix(o.WebhookURL, "https://") && !strings.HasPrefix(o.WebhookURL, "http://") {
			return nil, errors.New("notify: webhook URL must start with https://")
		}
		n.tr = &webhookTransport{url: o.WebhookURL, hc: o.HTTPClient, unfurl: o.Unfurl}
	default:
		n.tr = &stdoutTransport{w: o.Out}
	}
	return n, nil
}

// Mode says where alerts go: "slack-api", "slack-webhook" or "stdout".
func (n *Notifier) Mode() string { return n.tr.kind() }

// DefaultOwner is a lease owner id unique to this process:
// hostname:pid:random.
func DefaultOwner() string {
	h, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

func realSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Check verifies the Slack credentials (auth.test) when a bot token is
// configured; webhooks and stdout have nothing to check. Use it at start-up
// to refuse a wrong token before alerts are claimed.
// ErrAuth marks a Check failure that retrying cannot fix: the token is
// invalid, revoked, expired or lacks a scope.
var ErrAuth = errors.New("slack refused the credentials")

func (n *Notifier) Check(ctx context.Context) error {
	api, ok := n.tr.(*apiTransport)
	if !ok {
		return nil
	}
	r, err := api.c.AuthTestContext(ctx)
	if err != nil {
		if _, code, _ := classify(err); permanentCodes[code] != "" {
			return fmt.Errorf("slack auth.test: %s (%s): %w: %w", code, permanentCodes[code], ErrAuth, err)
		}
		return fmt.Errorf("slack auth.test: %w", err)
	}
	n.log.Info("slack connected", "team", r.Team, "bot_user", r.UserID)
	return nil
}

// Run delivers until ctx is done, with Options.Workers channels in flight
// at once. A message being posted when ctx ends is finished (bounded by the
// HTTP client's timeout) so its outcome is recorded. Run returns nil on a
// clean shutdown.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := range n.o.Workers {
		owner := n.o.Owner
		if n.o.Workers > 1 {
			owner = fmt.Sprintf("%s/%d", n.o.Owner, i)
		}
		wg.Go(func() { n.work(ctx, owner) })
	}
	wg.Wait()
	return nil
}

func (n *Notifier) work(ctx context.Context, owner string) {
	for ctx.Err() == nil {
		did, err := n.step(ctx, owner)
		lvl := n.claimLog.Level(err, slog.LevelWarn)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Log(ctx, lvl, "claiming alerts failed", "err", err)
			_ = n.o.Sleep(ctx, n.o.PollInterval)
			continue
		}
		if !did {
			_ = n.o.Sleep(ctx, n.o.PollInterval)
		}
	}
}

// step claims one channel and delivers what it can. It reports whether
// anything was claimed.
func (n *Notifier) step(ctx context.Context, owner string) (bool, error) {
	ch, batch, err := n.st.ClaimChannel(ctx, owner, n.o.Now(), n.o.Lease, claimLimit)
	if err != nil {
		return false, fmt.Errorf("claim channel: %w", err)
	}
	if ch == "" {
		return false, nil
	}
	n.deliverChannel(ctx, owner, ch, batch)
	return true, nil
}
