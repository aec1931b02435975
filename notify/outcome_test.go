package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// TestClassify: every answer to a post lands in the outcome that decides
// what happens to its alerts (record.go).
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want outcome
		code string
		wait time.Duration
	}{
		{nil, outOK, "", 0},
		{&slack.RateLimitedError{RetryAfter: 42 * time.Second}, outRateLimited, "ratelimited", 42 * time.Second},
		{&slack.RateLimitedError{}, outRateLimited, "ratelimited", time.Second}, // never less than a second
		{slack.SlackErrorResponse{Err: "ratelimited"}, outRateLimited, "ratelimited", time.Second},
		{slack.SlackErrorResponse{Err: "token_revoked"}, outRefused, "token_revoked", 0},
		{slack.SlackErrorResponse{Err: "no_service"}, outRefused, "no_service", 0},
		{slack.SlackErrorResponse{Err: "not_in_channel"}, outPermanent, "not_in_channel", 0},
		{slack.SlackErrorResponse{Err: "internal_error"}, outTransient, "internal_error", 0}, // Slack answered: not posted
		{slack.StatusCodeError{Code: 502}, outUncertain, "502", 0},                           // a proxy may have posted it
		{slack.StatusCodeError{Code: 404}, outTransient, "404", 0},
		{fmt.Errorf("post: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), outTransient, "", 0},
		{&net.DNSError{Err: "no such host", Name: "slack.com"}, outTransient, "", 0},
		{context.DeadlineExceeded, outUncertain, "", 0},
		{errors.New("unexpected EOF"), outUncertain, "", 0},
	} {
		o, code, wait := classify(c.err)
		if o != c.want || code != c.code || wait != c.wait {
			t.Errorf("classify(%v) = %v %q %v, want %v %q %v", c.err, o, code, wait, c.want, c.code, c.wait)
		}
	}
	for code := range credentialCodes {
		if permanentCodes[code] == "" {
			t.Errorf("credential code %q has no explanation in permanentCodes", code)
		}
	}
}
