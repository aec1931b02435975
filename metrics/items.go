package metrics

// Reasons an item of a fetched document was not recorded (the reason
// label of wirewatch_items_skipped_total).
const (
	// SkipStoreRefused: the store refused to record the item even after
	// its text was made valid; the poll recorded the feed's other items.
	SkipStoreRefused = "store_refused"
)

var skipReasons = []string{SkipStoreRefused}

// ItemSkipped counts an item a poll left out, by reason (one of the Skip
// constants; anything else is not counted).
func (s *Set) ItemSkipped(reason string) {
	if s == nil {
		return
	}
	for _, r := range skipReasons {
		if r == reason {
			s.itemsSkipped.WithLabelValues(reason).Inc()
			return
		}
	}
}
