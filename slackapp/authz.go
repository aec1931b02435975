package slackapp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Who may do what:
//
//	everyone in an alert's channel    mark it Not relevant, mute its story
//	                                  (Slack only shows the buttons to them)
//	editors ([slack] editors)         create, edit, mute, unmute and retire rules
//	everyone                          list rules, try a query, status, help
//
// An editor is a user id listed in [slack] editors or a member of a user
// group listed there; group members are looked up with
// usergroups.users.list and kept for groupTTL.

// groupTTL is how long a user group's members are remembered.
const groupTTL = time.Minute

type authz struct {
	users   map[string]bool
	groups  []string
	members func(ctx context.Context, group string) ([]string, error)
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]groupEntry
}

type groupEntry struct {
	members map[string]bool
	at      time.Time
}

func newAuthz(editors []string, members func(ctx context.Context, group string) ([]string, error), now func() time.Time) *authz {
	z := &authz{users: map[string]bool{}, members: members, now: now, cache: map[string]groupEntry{}}
	for _, e := range editors {
		if strings.HasPrefix(e, "S") {
			z.groups = append(z.groups, e)
		} else {
			z.users[e] = true
		}
	}
	return z
}

// isEditor says whether user may change rules. An error means a user group
// could not be read; the user is then not an editor (yet).
func (z *authz) isEditor(ctx context.Context, user string) (bool, error) {
	if z.users[user] {
		return true, nil
	}
	var firstErr error
	for _, g := range z.groups {
		m, err := z.group(ctx, g)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("reading user group %s: %w", g, err)
			}
			continue
		}
		if m[user] {
			return true, nil
		}
	}
	return false, firstErr
}

func (z *authz) group(ctx context.Context, g string) (map[string]bool, error) {
	z.mu.Lock()
	e, ok := z.cache[g]
	z.mu.Unlock()
	if ok && z.now().Sub(e.at) < groupTTL {
		return e.members, nil
	}
	ids, err := z.members(ctx, g)
	if err != nil {
		if ok {
			return e.members, nil // Slack is away: the last known members stand in
		}
		return nil, err
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	z.mu.Lock()
	z.cache[g] = groupEntry{members: m, at: z.now()}
	z.mu.Unlock()
	return m, nil
}

// editorsText names the editors for a refusal: "<@U1>, user group S2"
// (a group is named by id, never mentioned: a mention could notify it).
func (z *authz) editorsText() string {
	var parts []string
	for u := range z.users {
		parts = append(parts, "<@"+u+">")
	}
	for _, g := range z.groups {
		parts = append(parts, "user group "+g)
	}
	if len(parts) == 0 {
		return "nobody yet (an operator lists editors in [slack] editors)"
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// mayEdit says whether the user may change rules, and tells them why not
// when they may not.
func (a *App) mayEdit(ctx context.Context, to replyTo, what string) bool {
	ok, err := a.authz().isEditor(ctx, to.user)
	if ok {
		return true
	}
	if err != nil {
		a.log.Warn("slack: cannot read the editors' user group", "err", err)
		a.say(ctx, to, "Wirewatch cannot check who the editors are right now (reading a user group failed; does the app have usergroups:read?). Nothing was changed; try again in a minute.")
		return false
	}
	a.log.Info("slack: refused: not an editor", "user", to.user, "wanted", what)
	a.say(ctx, to, fmt.Sprintf("Only editors may %s. Editors: %s. Ask one of them, or an operator to add you to [slack] editors. Anyone can mark an alert *Not relevant* or mute its story.", what, a.authz().editorsText()))
	return false
}
