// Package notify owns delivery: it takes alerts from the store's outbox and
// gets each into Slack exactly once where Slack lets it, in order per
// channel, without flooding a channel and without letting feed text ping
// anyone. It reads only from store (and writes delivery state back there),
// never from the feed or the configuration.
//
// The pipeline, modelled on Prometheus Alertmanager's notify stages, runs
// for one leased channel at a time:
//
//	claim    store.ClaimChannel leases a channel and its due alerts, in order
//	dedupe   alerts whose last post had an unknown outcome are looked up in the
//	         channel's history (message metadata carries the alert ids) and
//	         marked sent if found, instead of being posted again
//	plan     digests become one summary per (channel, digest); a burst of more
//	         than Options.BurstGroup alerts becomes grouped messages; past
//	         Options.ChannelCap top-level messages in the last hour, the rest
//	         becomes one summary
//	story    a story follow-up (Alert.StoryID set to another alert's id) is
//	         posted as a reply in its parent's thread, and the parent message
//	         is updated with the sources so far (chat.update); see Options
//	pace     about one message per second per channel, short bursts allowed
//	render   Block Kit with every piece of feed text escaped (Render)
//	post     chat.postMessage (bot token), an incoming webhook, or stdout
//	record   MarkSent only after Slack accepted; a 429 waits its Retry-After
//	         (never given up within RetryFor); 5xx and network errors back off
//	         exponentially with jitter; after RetryFor, or on a permanent
//	         error, MarkFailed and one ops message. Refused credentials
//	         (invalid_auth, a revoked webhook) hold the alerts instead, retried
//	         until RetryFor, so a fixed token delivers them.
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
	"crypto/sha256"
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
	Store store.Store

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
	// replies, ops messages and digests are not counted. The count is kept
	// in memory per process: with several replicas, each replica applies
	// the cap to the messages it posts (per replica), and a restart starts
	// counting afresh.
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

	// HTTPClient is used for Slack (default: 20s timeout).
	HTTPClient *http.Client
	// Metrics, if set, counts alerts sent and failed.
	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Notifier delivers the store's outbox. Create it with New.
type Notifier struct {
	o   Options
	st  store.Store
	tr  transport
	log *slog.Logger
	pc  *pacer

	mu       sync.Mutex
	reported map[string]bool      // channel + error code reported once
	refused  string               // the credential error code Slack last answered, until a post succeeds
	firstDue map[string]time.Time // digest alert id → when it first came due
	hold     map[string]holdInfo  // channel → why and until when it waits
	rnd      *mrand.Rand
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
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			n.log.Warn("claiming alerts failed", "err", err)
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

// Drain delivers everything due now and returns when nothing due is left:
// alerts due when it was called, alerts it retried since, and ops messages
// it queued. It waits through 429 Retry-After and pacing however long they
// take (ctx permitting), and through 5xx/network backoff up to DrainWait;
// alerts still failing after that stay queued for the next run and Drain
// returns an error wrapping ErrUndelivered. Used by `wirewatch once`.
func (n *Notifier) Drain(ctx context.Context) error {
	start := n.o.Now()
	touched := map[string]bool{}
	for {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			ch, batch, err := n.st.ClaimChannel(ctx, n.o.Owner, n.o.Now(), n.o.Lease, claimLimit)
			if err != nil {
				return fmt.Errorf("notify: drain: claim channel: %w", err)
			}
			if ch == "" {
				break
			}
			for _, a := range batch {
				touched[a.ID] = true
			}
			n.deliverChannel(ctx, n.o.Owner, ch, batch)
		}
		queued, err := n.st.Alerts(ctx, store.AlertFilter{State: store.StateQueued})
		if err != nil {
			return fmt.Errorf("notify: drain: listing queued alerts: %w", err)
		}
		now := n.o.Now()
		var (
			wake    time.Time
			waiting int
			left    int
			leftAt  time.Time
		)
		for _, a := range queued {
			due := !a.NextAttempt.After(start)
			if !due && !touched[a.ID] && !(a.Kind == store.KindOps && !a.CreatedAt.Before(start)) {
				continue // not ours to wait for (a digest later today, …)
			}
			t := a.NextAttempt
			n.mu.Lock()
			h := n.hold[a.Channel]
			n.mu.Unlock()
			if h.until.After(t) {
				t = h.until
			}
			if h.backoff && t.After(start.Add(n.o.DrainWait)) {
				left++
				if leftAt.IsZero() || t.Before(leftAt) {
					leftAt = t
				}
				continue
			}
			waiting++
			if !t.After(now) {
				t = now.Add(n.o.PollInterval) // leased elsewhere, or store pacing: look again soon
			}
			if wake.IsZero() || t.Before(wake) {
				wake = t
			}
		}
		if waiting == 0 {
			if left > 0 {
				return fmt.Errorf("notify: %d alerts could not be delivered yet (Slack kept failing; next attempt %s): %w",
					left, leftAt.UTC().Format(time.RFC3339), ErrUndelivered)
			}
			return nil
		}
		if err := n.o.Sleep(ctx, wake.Sub(now)); err != nil {
			return err
		}
	}
}

// opsID is the id of an ops message about key, stable for a day so that
// several processes (or restarts) report a problem once a day.
func opsID(now time.Time, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(now.UTC().Format("2006-01-02")))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return "ops-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// reportOps queues an ops message (if an ops channel is set and the
// problem is not about the ops channel itself).
func (n *Notifier) reportOps(ctx context.Context, about string, text string, key ...string) {
	if n.o.OpsChannel == "" || sameChannel(about, n.o.OpsChannel) {
		return
	}
	now := n.o.Now()
	a := store.Alert{
		ID: opsID(now, key...), Kind: store.KindOps, Channel: n.o.OpsChannel,
		Text: text, CreatedAt: now, NextAttempt: now,
	}
	q, err := n.st.Enqueue(ctx, []store.Alert{a})
	if err != nil {
		n.log.Error("queueing ops message failed", "err", err, "channel", n.o.OpsChannel)
	}
	n.o.Metrics.AlertQueued(q)
}

func sameChannel(a, b string) bool { return channelArg(a) == channelArg(b) }

// pacer spaces messages per channel: Interval apart on average, with up to
// Burst at once (a generic cell-rate algorithm on a theoretical arrival
// time per channel).
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tat      map[string]time.Time
}

// ready is when the next message to ch may go.
func (p *pacer) ready(ch string, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	tat := p.tat[ch]
	if tat.Before(now) {
		tat = now
	}
	return tat.Add(-time.Duration(p.burst-1) * p.interval)
}

// take records a message sent to ch at now.
func (p *pacer) take(ch string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tat := p.tat[ch]
	if tat.Before(now) {
		tat = now
	}
	p.tat[ch] = tat.Add(p.interval)
}

// block holds ch until until (after a 429), then allows one message.
func (p *pacer) block(ch string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := until.Add(time.Duration(p.burst-1) * p.interval)
	if t.After(p.tat[ch]) {
		p.tat[ch] = t
	}
}

// capWindow is the rolling period of Options.ChannelCap.
const capWindow = time.Hour

// The cap's posts live in the store (RecordPost, Posts), so that replicas
// share one count per channel and a restart keeps it. If the store cannot
// be read the cap is not applied this time: an extra message is better than
// a story held back.

// capRecent returns the channel's top-level posts in the window at now,
// oldest first.
func (n *Notifier) capRecent(ctx context.Context, ch string, now time.Time) []time.Time {
	posts, err := n.st.Posts(ctx, channelArg(ch), now.Add(-capWindow).Add(time.Microsecond))
	if err != nil {
		n.log.Warn("reading the channel cap's posts failed; not capping this time", "channel", ch, "err", err)
		return nil
	}
	return posts
}

// capBudget is how many more top-level messages ch may get at now (a large
// number without a cap).
func (n *Notifier) capBudget(ctx context.Context, ch string, now time.Time) int {
	if n.o.ChannelCap <= 0 {
		return int(^uint(0) >> 1)
	}
	return max(n.o.ChannelCap-len(n.capRecent(ctx, ch, now)), 0)
}

// capFreeAt is when ch may get its next top-level message: now if the cap
// allows one, else when the oldest post of the window ages out.
func (n *Notifier) capFreeAt(ctx context.Context, ch string, now time.Time) time.Time {
	if n.o.ChannelCap <= 0 {
		return now
	}
	posts := n.capRecent(ctx, ch, now)
	if len(posts) < n.o.ChannelCap {
		return now
	}
	return posts[len(posts)-n.o.ChannelCap].Add(capWindow)
}

// capTake records a top-level message posted to ch at now.
func (n *Notifier) capTake(ctx context.Context, ch string, now time.Time) {
	if n.o.ChannelCap <= 0 {
		return
	}
	if err := n.st.RecordPost(ctx, channelArg(ch), now, now.Add(-capWindow)); err != nil {
		n.log.Warn("recording a post for the channel cap failed", "channel", ch, "err", err)
	}
}
