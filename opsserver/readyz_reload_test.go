package opsserver_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/opsserver"
)

// TestReadyAfterRefusedReload: after a refused reload the process is still
// ready (the previous configuration works), and /readyz says that it is the
// previous configuration that runs and that the last reload was refused,
// with the reason; a successful reload clears it.
func TestReadyAfterRefusedReload(t *testing.T) {
	s := opsserver.New(opsserver.Options{})
	readyz := func() (int, string) {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		return w.Code, w.Body.String()
	}
	s.SetConfig(opsserver.ConfigInfo{Path: "config.toml", LoadedAt: t0})
	if code, body := readyz(); code != 200 || !strings.Contains(body, "config: ok (loaded 2026-11-24T12:00:00Z)") {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	s.ReloadFailed(errors.New("config.toml:12:5: rule \"Talks\": unbalanced parentheses"), t0.Add(time.Hour))
	code, body := readyz()
	if code != 200 {
		t.Errorf("/readyz after a refused reload = %d, want 200: the previous configuration runs", code)
	}
	for _, want := range []string{"reload at 2026-11-24T13:00:00Z was refused", "previous configuration (loaded 2026-11-24T12:00:00Z) keeps running", `config.toml:12:5: rule "Talks": unbalanced parentheses`} {
		if !strings.Contains(body, want) {
			t.Errorf("/readyz after a refused reload lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "config: ok (") {
		t.Errorf("/readyz says the config is simply ok after a refused reload:\n%s", body)
	}
	s.SetConfig(opsserver.ConfigInfo{Path: "config.toml", LoadedAt: t0.Add(2 * time.Hour)})
	if _, body := readyz(); strings.Contains(body, "refused") || !strings.Contains(body, "config: ok (loaded 2026-11-24T14:00:00Z)") {
		t.Errorf("/readyz after a good reload = %q", body)
	}
}
