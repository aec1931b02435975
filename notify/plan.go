package notify

import (
	"context"

	"github.com/wirewatch/wirewatch/store"
)

// plan turns a batch into messages, in channel order: ops and single alerts
// one message each; the due alerts of one digest one summary (or several,
// if they exceed one message); and, when more than BurstGroup plain alerts
// are due at once, grouped messages listing them. A group takes the place
// of its first alert.
func (n *Notifier) plan(ctx context.Context, ch string, batch []store.Alert) []*message {
	batch = parentsFirst(batch)
	if _, ok := n.tr.(*stdoutTransport); ok {
		out := make([]*message, 0, len(batch))
		for _, a := range batch {
			out = append(out, &message{channel: ch, alerts: []store.Alert{a}, ids: []string{a.ID}, followUp: isFollowUp(a)})
		}
		return out
	}
	plain := 0
	for _, a := range batch {
		if a.Kind != store.KindOps && a.Digest == "" && !isFollowUp(a) {
			plain++
		}
	}
	burst := n.o.BurstGroup >= 0 && plain > n.o.BurstGroup

	type unit struct {
		digest   bool
		group    bool
		followUp bool
		alerts   []store.Alert
	}
	var units []*unit
	groups := map[string]*unit{}
	for _, a := range batch {
		key := ""
		switch {
		case a.Kind == store.KindOps:
		case isFollowUp(a): // rendered when its turn comes, never grouped
			units = append(units, &unit{followUp: true, alerts: []store.Alert{a}})
			continue
		case a.Digest != "":
			key = "d\x00" + a.Digest
		case burst:
			key = "burst"
		}
		if key == "" {
			units = append(units, &unit{alerts: []store.Alert{a}})
			continue
		}
		u := groups[key]
		if u == nil {
			u = &unit{digest: a.Digest != "", group: true}
			groups[key] = u
			units = append(units, u)
		}
		u.alerts = append(u.alerts, a)
	}

	// The channel cap: top-level item messages (singles and burst groups)
	// beyond the budget left this hour go into one summary, which takes the
	// last message the budget allows (or waits for one, if none is left).
	counted := func(u *unit) bool {
		return !u.digest && !u.followUp && u.alerts[0].Kind != store.KindOps
	}
	if n.o.ChannelCap > 0 {
		var idx []int
		for i, u := range units {
			if counted(u) {
				idx = append(idx, i)
			}
		}
		if budget := n.capBudget(ctx, ch, n.o.Now()); len(idx) > budget {
			keep := max(budget-1, 0)
			sum := &unit{group: true}
			drop := map[int]bool{}
			for _, i := range idx[keep:] {
				sum.alerts = append(sum.alerts, units[i].alerts...)
				drop[i] = true
			}
			merged := units[:0:0]
			for i, u := range units {
				switch {
				case i == idx[keep]:
					merged = append(merged, sum)
				case !drop[i]:
					merged = append(merged, u)
				}
			}
			units = merged
		}
	}

	var out []*message
	for _, u := range units {
		if u.followUp {
			a := u.alerts[0]
			out = append(out, &message{channel: ch, alerts: u.alerts, ids: []string{a.ID}, followUp: true})
			continue
		}
		if !u.group {
			a := u.alerts[0]
			text, blocks := n.render(a)
			out = append(out, &message{channel: ch, text: text, blocks: blocks, alerts: u.alerts, ids: []string{a.ID}, capped: counted(u)})
			continue
		}
		rest := u.alerts
		for len(rest) > 0 {
			text, blocks, k := RenderGroup(u.digest, rest)
			m := &message{channel: ch, text: text, blocks: blocks, alerts: rest[:k], capped: counted(u)}
			for _, a := range rest[:k] {
				m.ids = append(m.ids, a.ID)
			}
			out = append(out, m)
			rest = rest[k:]
		}
	}
	return out
}
