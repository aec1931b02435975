package monitor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// scripted answers each request with the next status of its script (the
// last one repeats), with Retry-After on 429s.
type scripted struct {
	mu         sync.Mutex
	script     []int
	retryAfter string
	hits       int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.script[min(s.hits, len(s.script)-1)]
	s.hits++
	if code == http.StatusTooManyRequests && s.retryAfter != "" {
		w.Header().Set("Retry-After", s.retryAfter)
	}
	w.WriteHeader(code)
}

// TestRateLimitsDoNotGrowTheBackoff is issue 18.6: ten 429 answers, each
// waited out for its Retry-After, then one 500. The 429s say when to come
// back and are obeyed; they must not count as failures that grow the error
// backoff, so the 500 is retried as a first failure is (between half the
// interval and the interval), and the backoff grows from there.
func TestRateLimitsDoNotGrowTheBackoff(t *testing.T) {
	script := make([]int, 0, 14)
	for range 10 {
		script = append(script, http.StatusTooManyRequests)
	}
	script = append(script, 500, 500, 500, http.StatusTooManyRequests, 500)
	srv := httptest.NewServer(&scripted{script: script, retryAfter: "120"})
	defer srv.Close()
	h := newHarness(t, []Feed{{Key: "busy", Name: "Busy", URL: srv.URL, Every: time.Minute}}, map[string]string{"R": "x"}, nil)
	delay := func() time.Duration {
		t.Helper()
		h.pollAll()
		st, err := h.store.Feed(context.Background(), "busy")
		if err != nil {
			t.Fatal(err)
		}
		d := st.NextDue.Sub(h.clock.Now())
		h.clock.Advance(d)
		return d
	}
	for i := range 10 {
		if d := delay(); d != 2*time.Minute {
			t.Errorf("429 #%d: next attempt in %v, want its Retry-After, 2m0s", i+1, d)
		}
	}
	within := func(what string, d, lo, hi time.Duration) {
		t.Helper()
		if d < lo || d > hi {
			t.Errorf("%s: next attempt in %v, want within [%v, %v]", what, d, lo, hi)
		}
	}
	within("the 500 after ten 429s", delay(), 30*time.Second, time.Minute)
	within("the second 500", delay(), time.Minute, 2*time.Minute)
	within("the third 500", delay(), 2*time.Minute, 4*time.Minute)
	if d := delay(); d != 2*time.Minute {
		t.Errorf("a 429 among 500s: next attempt in %v, want its Retry-After, 2m0s", d)
	}
	within("a 500 after a 429", delay(), 30*time.Second, time.Minute)
	st, _ := h.store.Feed(context.Background(), "busy")
	if st.ErrorStreak != 15 {
		t.Errorf("error streak %d, want 15: a rate-limited poll still shows the feed as failing", st.ErrorStreak)
	}
}
