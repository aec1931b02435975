package notify

// What became of a post, as the record stage needs to know it.

import (
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

type outcome int

const (
	outOK outcome = iota
	outRateLimited
	outTransient // not delivered, try again later
	outUncertain // may have been delivered: look before posting again
	outPermanent // will not work by retrying
	outRefused   // Slack refuses the credentials: hold, retry until someone fixes them
)

func (o outcome) String() string {
	return [...]string{"ok", "rate_limited", "transient", "uncertain", "permanent", "refused"}[o]
}

// permanentCodes are Slack error codes that retrying cannot fix.
var permanentCodes = map[string]string{
	"channel_not_found":                 "the channel does not exist or the app cannot see it",
	"not_in_channel":                    "the app is not a member of the channel: invite it with /invite @app",
	"is_archived":                       "the channel is archived",
	"channel_is_archived":               "the channel is archived",
	"invalid_auth":                      "the bot token is invalid",
	"not_authed":                        "no bot token was sent",
	"account_inactive":                  "the token's user or app was deactivated",
	"token_revoked":                     "the bot token was revoked",
	"token_expired":                     "the bot token expired",
	"no_permission":                     "the token lacks permission for this channel",
	"missing_scope":                     "the app lacks the chat:write scope",
	"restricted_action":                 "the workspace restricts posting in this channel",
	"ekm_access_denied":                 "administrators suspended posting",
	"team_access_not_granted":           "the token has no access to this workspace",
	"msg_too_long":                      "the message is too long",
	"invalid_blocks":                    "Slack rejected the message blocks",
	"invalid_blocks_format":             "Slack rejected the message blocks",
	"invalid_metadata_format":           "Slack rejected the message metadata",
	"invalid_metadata_schema":           "Slack rejected the message metadata",
	"metadata_too_large":                "the message metadata is too large",
	"too_many_attachments":              "too many attachments",
	"action_prohibited":                 "the webhook's workspace prohibits this action",
	"invalid_token":                     "the webhook URL is invalid or revoked",
	"no_service":                        "the webhook is disabled or revoked",
	"no_active_hooks":                   "the webhook is disabled",
	"invalid_payload":                   "Slack rejected the webhook payload",
	"posting_to_general_channel_denied": "only admins may post in #general",
}

// credentialCodes are the permanent codes that concern the token or the
// webhook, not a channel or a message. Every alert would fail the same way,
// and an operator's fix (a new token and a restart) makes them all work,
// so alerts are held and retried for RetryFor instead of failed at once.
var credentialCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "team_access_not_granted": true, "invalid_token": true,
	"no_service": true, "no_active_hooks": true,
}

// channelWide reports whether a permanent error concerns the channel (or
// the whole app), so every alert for that channel would fail the same way.
func channelWide(code string) bool {
	switch code {
	case "msg_too_long", "invalid_blocks", "invalid_blocks_format", "invalid_metadata_format",
		"invalid_metadata_schema", "metadata_too_large", "too_many_attachments", "invalid_payload":
		return false
	}
	return true
}

// classify sorts a post error into an outcome; code is Slack's error code
// if any, wait the Retry-After of a 429.
func classify(err error) (o outcome, code string, wait time.Duration) {
	if err == nil {
		return outOK, "", 0
	}
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return outRateLimited, "ratelimited", max(rl.RetryAfter, time.Second)
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		switch {
		case se.Err == "ratelimited" || se.Err == "rate_limited":
			return outRateLimited, se.Err, time.Second
		case credentialCodes[se.Err]:
			return outRefused, se.Err, 0
		case permanentCodes[se.Err] != "":
			return outPermanent, se.Err, 0
		}
		// internal_error, fatal_error, service_unavailable, request_timeout …:
		// Slack answered, so the message was not posted.
		return outTransient, se.Err, 0
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		if sc.Code >= 500 {
			// A proxy or Slack may have accepted the post before failing.
			return outUncertain, strconv.Itoa(sc.Code), 0
		}
		return outTransient, strconv.Itoa(sc.Code), 0
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
		return outTransient, "", 0 // never connected: nothing was sent
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return outTransient, "", 0
	}
	// Connection reset or closed, timeout, unreadable answer: the request
	// may have reached Slack.
	return outUncertain, "", 0
}
