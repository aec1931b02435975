package slackapp

import (
	"context"
	"log"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// The Socket Mode connection. slack-go's socketmode client opens it with
// the app-level token (apps.connections.open, then the WebSocket), answers
// Slack's pings, and reconnects by itself when the socket drops or Slack
// asks with a disconnect message (backing off while reconnecting fails).
// Run wraps it for what it gives up on (a refused token, Socket Mode
// switched off): the error is logged and the connection tried again with
// backoff, so an operator's fix is picked up without a restart.
//
// Acknowledge first, then work: every envelope is acknowledged as soon as
// it is read, before any store or Slack call, so Slack's 3 seconds are
// never at the mercy of the database. The one exception is a modal
// submission, whose acknowledgement carries the validation errors; its
// checks and save run under SubmitBudget (2 s by default), and it is
// acknowledged with whatever they found by then.

const (
	minReconnect = time.Second
	maxReconnect = 5 * time.Minute
)

// Run keeps the Socket Mode connection open and serves it until ctx ends,
// then waits (up to the grace period of Options) for work in progress.
func (a *App) Run(ctx context.Context) error {
	wait := minReconnect
	for {
		started := time.Now()
		err := a.session(ctx)
		if ctx.Err() != nil {
			a.drain()
			return nil
		}
		if time.Since(started) > 2*time.Minute {
			wait = minReconnect // it worked for a while: start over
		}
		d := wait/2 + rand.N(wait/2+1)
		a.log.Error("slack socket mode: cannot stay connected; trying again", "err", err, "in", d.Round(time.Millisecond))
		wait = min(wait*2, maxReconnect)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			a.drain()
			return nil
		case <-t.C:
		}
	}
}

// drain waits for handlers in progress, at most the grace period.
func (a *App) drain() {
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(a.o.Grace):
		a.log.Warn("slack: shutting down with handlers still running")
	}
}

// session runs one socketmode client until it gives up or ctx ends.
func (a *App) session(ctx context.Context) error {
	c := socketmode.New(a.api, socketmode.OptionLog(log.New(slogWriter{a.log}, "", 0)))
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.RunContext(sctx) }()
	for {
		select {
		case err := <-errc:
			return err
		case ev := <-c.Events:
			a.event(ctx, c, ev)
		}
	}
}

// acker sends acknowledgements (socketmode.Client does).
type acker interface {
	Ack(req socketmode.Request, payload ...any) error
}

// event handles one event of the socketmode client.
func (a *App) event(ctx context.Context, c acker, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeConnecting:
		a.log.Debug("slack socket mode: connecting")
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode: connected")
	case socketmode.EventTypeConnectionError:
		a.log.Warn("slack socket mode: cannot connect now; retrying", "err", errOf(ev.Data))
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode: Slack refused the app-level token (slack.app_token)")
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack socket mode: "+string(ev.Type), "err", errOf(ev.Data))
	case socketmode.EventTypeHello, socketmode.EventTypeDisconnect:
		a.log.Debug("slack socket mode: " + string(ev.Type))
	case socketmode.EventTypeSlashCommand:
		a.ack(c, ev.Request, nil)
		if cmd, ok := ev.Data.(slack.SlashCommand); ok {
			a.spawn(ctx, func(ctx context.Context) { a.command(ctx, cmd) })
		}
	case socketmode.EventTypeInteractive:
		cb, ok := ev.Data.(slack.InteractionCallback)
		if ok && cb.Type == slack.InteractionTypeViewSubmission {
			// Acknowledged by submit, with the form's errors if any.
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				a.submit(ctx, c, ev.Request, cb)
			}()
			return
		}
		a.ack(c, ev.Request, nil)
		if ok {
			a.spawn(ctx, func(ctx context.Context) { a.interaction(ctx, cb) })
		}
	case socketmode.EventTypeEventsAPI:
		a.ack(c, ev.Request, nil)
		if e, ok := ev.Data.(slackevents.EventsAPIEvent); ok {
			if h, ok := e.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && h.Tab == "home" {
				user := h.User
				a.spawn(ctx, func(ctx context.Context) { a.publishHome(ctx, user, "") })
			}
		}
	default:
		a.ack(c, ev.Request, nil)
	}
}

// ack acknowledges an envelope (with an optional response payload).
func (a *App) ack(c acker, req *socketmode.Request, payload any) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	var err error
	if payload == nil {
		err = c.Ack(*req)
	} else {
		err = c.Ack(*req, payload)
	}
	if err != nil {
		a.log.Warn("slack socket mode: cannot acknowledge", "envelope", req.EnvelopeID, "type", req.Type, "err", err)
		return
	}
	if req.RetryAttempt > 0 {
		a.log.Info("slack socket mode: redelivered envelope acknowledged", "envelope", req.EnvelopeID, "retry_attempt", req.RetryAttempt, "reason", req.RetryReason)
	}
}

// spawn runs work after the acknowledgement, at most Workers at once; a
// panic in one handler is logged and never stops the others.
func (a *App) spawn(ctx context.Context, work func(context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		select {
		case a.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-a.sem }()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("slack: handler panicked", "panic", r)
			}
		}()
		// The work outlives a dropped socket, not the process: it gets the
		// grace period after ctx ends.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.o.HandlerTimeout)
		defer cancel()
		stop := context.AfterFunc(ctx, func() {
			time.AfterFunc(a.o.Grace, cancel)
		})
		defer stop()
		work(wctx)
	}()
}

func errOf(data any) any {
	switch d := data.(type) {
	case *slack.ConnectionErrorEvent:
		return d.ErrorObj
	case *slack.IncomingEventError:
		return d.ErrorObj
	case *socketmode.ErrorBadMessage:
		return d.Cause
	case *socketmode.ErrorWriteFailed:
		return d.Cause
	}
	return data
}

// slogWriter turns socketmode's standard-library log lines into debug events.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("slack socket mode: " + strings.TrimSpace(string(p)))
	return len(p), nil
}
