package slackapp

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The manifest at the repository's root is what operators paste into
// Slack: it must switch on what the app relies on and ask for exactly the
// scopes the README explains.
func TestManifestMatchesTheApp(t *testing.T) {
	b, err := os.ReadFile("../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(b)
	for _, want := range []string{
		"command: /wirewatch",
		"socket_mode_enabled: true",
		"home_tab_enabled: true",
		"- app_home_opened",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	if !strings.Contains(m, "interactivity:\n    is_enabled: true") {
		t.Error("manifest: interactivity is off")
	}
	var scopes []string
	in := false
	for _, l := range strings.Split(m, "\n") {
		switch {
		case strings.TrimSpace(l) == "bot:":
			in = true
		case in && strings.HasPrefix(strings.TrimSpace(l), "- "):
			scopes = append(scopes, strings.Fields(strings.TrimSpace(l))[1])
		case in:
			in = false
		}
	}
	slices.Sort(scopes)
	want := []string{"channels:history", "channels:read", "chat:write", "commands", "groups:history", "groups:read", "usergroups:read"}
	if !slices.Equal(scopes, want) {
		t.Errorf("bot scopes %v, want exactly %v", scopes, want)
	}
}
