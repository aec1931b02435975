package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSlackAppTokenAndEditors(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "app_token")
	if err := os.WriteFile(tokFile, []byte("xapp-1-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `[slack]
token = "xoxb-1"
app_token_file = "` + tokFile + `"
editors = ["U012AB3CD", "W0ABC", "S0EDITORS"]
`
	c, err := Parse("c.toml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Slack.AppToken != "xapp-1-from-file" || strings.Join(c.Slack.Editors, ",") != "U012AB3CD,W0ABC,S0EDITORS" {
		t.Fatalf("slack: %+v", c.Slack)
	}
	if len(c.Slack.SecretFiles) != 1 || c.Slack.SecretFiles[0] != tokFile {
		t.Fatalf("the app token file is watched for reloads: %v", c.Slack.SecretFiles)
	}
	// The environment wins, as for the bot token.
	c, err = Parse("c.toml", []byte(src), func(k string) string {
		if k == "WIREWATCH_SLACK_APP_TOKEN" {
			return "xapp-1-env"
		}
		return ""
	})
	if err != nil || c.Slack.AppToken != "xapp-1-env" {
		t.Fatalf("env: %v %+v", err, c.Slack)
	}

	// Without an app token nothing changes.
	c, err = Parse("c.toml", []byte("[slack]\ntoken = \"xoxb-1\"\n"), noEnv)
	if err != nil || c.Slack.AppToken != "" || c.Slack.Editors != nil {
		t.Fatalf("no app token: %v %+v", err, c.Slack)
	}
}

func TestSlackAppProblems(t *testing.T) {
	ps := problemsOf(t, `[slack]
token = "xoxb-1"
app_token = "xoxb-not-an-app-token"
editors = ["U1AB", "@maria", "C0123CHAN"]
`)
	want := []string{
		`c.toml:3:13: slack.app_token does not look like an app-level token`,
		`c.toml:4:20: slack.editors: "@maria" is not a Slack user id`,
		`c.toml:4:30: slack.editors: "C0123CHAN" is not a Slack user id`,
	}
	if len(ps) != len(want) {
		t.Fatalf("problems:\n%v", ps)
	}
	for i, w := range want {
		if !strings.HasPrefix(ps[i].Error(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, ps[i].Error(), w)
		}
	}

	ps = problemsOf(t, "[slack]\nwebhook_url = \"https://hooks.slack.com/services/x\"\napp_token = \"xapp-1\"\n")
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "needs a bot token") {
		t.Fatalf("app token without a bot token: %v", ps)
	}

	// Warnings: editors without Socket Mode, Socket Mode without editors.
	c, err := Parse("c.toml", []byte("[slack]\ntoken = \"xoxb-1\"\neditors = [\"U1AB\"]\n"), noEnv)
	if err != nil || !hasWarning(c, "has no effect without slack.app_token") {
		t.Fatalf("editors without app token: %v %v", err, c.Problems)
	}
	c, err = Parse("c.toml", []byte("[slack]\ntoken = \"xoxb-1\"\napp_token = \"xapp-1\"\n"), noEnv)
	if err != nil || !hasWarning(c, "nobody can create, edit or mute rules") {
		t.Fatalf("app token without editors: %v %v", err, c.Problems)
	}
}

func hasWarning(c *Config, sub string) bool {
	for _, p := range c.Problems {
		if p.Warning && strings.Contains(p.Msg, sub) {
			return true
		}
	}
	return false
}
