package metrics

// StoreUp sets wirewatch_store_up: whether the store takes writes now.
func (s *Set) StoreUp(up bool) {
	if s == nil {
		return
	}
	if up {
		s.storeUp.Set(1)
	} else {
		s.storeUp.Set(0)
	}
}

// StoreOutage counts an outage of the store (wirewatch_store_outages_total).
func (s *Set) StoreOutage() {
	if s == nil {
		return
	}
	s.storeOutages.Inc()
}
