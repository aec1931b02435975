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
//
// An item that matched several rules of the channel is one report: its
// alerts go in one message (the first alert's, naming the other rules),
// wherever that message goes.
func (n *Notifier) plan(ctx context.Context, ch string, batch []store.Alert) []*message {
	batch, sib := oneReport(parentsFirst(batch))
	// with returns the alerts and ids of the message of one (a
	// one-element slice of batch): with its item's other alerts, if any.
	with := func(one []store.Alert) ([]store.Alert, []string) {
		a := one[0]
		if len(sib[a.ID]) == 0 {
			return one, []string{a.ID}
		}
		alerts := append([]store.Alert{a}, sib[a.ID]...)
		ids := make([]string, len(alerts))
		for i, x := range alerts {
			ids[i] = x.ID
		}
		return alerts, ids
	}
	if _, ok := n.tr.(*stdoutTransport); ok {
		out := make([]*message, 0, len(batch))
		for i := range batch {
			alerts, ids := with(batch[i : i+1 : i+1])
			out = append(out, &message{channel: ch, alerts: alerts, ids: ids, followUp: isFollowUp(batch[i]), also: len(alerts) > 1})
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
			alerts, ids := with(u.alerts)
			out = append(out, &message{channel: ch, alerts: alerts, ids: ids, followUp: true})
			continue
		}
		if !u.group {
			alerts, ids := with(u.alerts)
			text, blocks := n.render(alerts[0], alerts[1:]...)
			out = append(out, &message{channel: ch, text: text, blocks: blocks, alerts: alerts, ids: ids, capped: counted(u)})
			continue
		}
		rest := u.alerts
		for len(rest) > 0 {
			text, blocks, k := RenderGroup(u.digest, rest)
			m := &message{channel: ch, text: text, blocks: blocks, capped: counted(u)}
			for j := range rest[:k] {
				alerts, ids := with(rest[j : j+1 : j+1])
				m.alerts = append(m.alerts, alerts...)
				m.ids = append(m.ids, ids...)
			}
			out = append(out, m)
			rest = rest[k:]
		}
	}
	return out
}

// oneReport keeps, of the alerts of one item in one story of the channel
// (the item matched several rules routed here), the first in the batch,
// and returns the others by its id: they go out in its message. Alerts
// outside a story (digests, ungrouped rules, ops) are left alone.
func oneReport(batch []store.Alert) (firsts []store.Alert, also map[string][]store.Alert) {
	type key struct{ feed, item, story string }
	var first map[key]string
	for _, a := range batch {
		if a.Kind == store.KindItem && a.StoryID != "" && a.Digest == "" {
			first = make(map[key]string, len(batch))
			break
		}
	}
	if first == nil {
		return batch, nil // nothing grouped in stories
	}
	firsts = batch[:0:0]
	for _, a := range batch {
		if a.Kind != store.KindItem || a.StoryID == "" || a.Digest != "" {
			firsts = append(firsts, a)
			continue
		}
		k := key{a.FeedKey, a.ItemID, a.StoryID}
		if id, ok := first[k]; ok {
			if also == nil {
				also = map[string][]store.Alert{}
			}
			also[id] = append(also[id], a)
			continue
		}
		first[k] = a.ID
		firsts = append(firsts, a)
	}
	return firsts, also
}
