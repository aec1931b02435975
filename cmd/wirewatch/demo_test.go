package main

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	root "github.com/wirewatch/wirewatch"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/slackfake"
)

// TestDemo runs `wirewatch demo` as a newcomer would, with no network:
// the bundled feeds are polled with the example rules, the reference
// article raises its alerts for both rules (Cross-border strikes and Talks
// collapse) in their channels, nothing else alerts, and the stories show
// the second rule in the first alert's thread.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, want := range []string{
		"[#desk-south-asia] — Cross-border strikes — Livemint — Wed 29 Oct 2025 04:30 UTC\n  " + referenceTitle + "\n  Also matches rule Talks collapse\n  " + referenceLink + "\n",
		"[#diplomacy] — Talks collapse — Livemint — Wed 29 Oct 2025 04:30 UTC\n  " + referenceTitle + "\n",
		"BBC News Urdu         26 items, 0 alerts queued",
		"Livemint              26 items, 3 alerts queued",
		"The Guardian (US)     55 items, 0 alerts queued",
		"#desk-south-asia  " + referenceTitle + " (Livemint), rule Cross-border strikes\n      in the same message: also matches rule Talks collapse\n",
		"#diplomacy  " + referenceTitle + " (Livemint), rule Talks collapse\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n[#"); n != 2 {
		t.Errorf("%d alerts printed, want the reference article's 2 (one per channel):\n%s", n, s)
	}
	if errb.Len() > 0 {
		t.Errorf("demo wrote to stderr:\n%s", errb.String())
	}

	// The demo's rules are those of config.example.toml, not a copy.
	demo, err := config.Load(filepath.Join(dir, "demo.toml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ex, err := config.Parse("config.example.toml", root.ExampleConfig, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := config.Load(filepath.Join("..", "..", "config.example.toml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(demo.Rules) != len(onDisk.Rules) || len(ex.Rules) != len(onDisk.Rules) {
		t.Fatalf("the demo has %d rules, the embedded example %d, config.example.toml %d", len(demo.Rules), len(ex.Rules), len(onDisk.Rules))
	}
	for i, r := range onDisk.Rules {
		d := demo.Rules[i]
		if d.Name != r.Name || d.Query != r.Query || !slices.Equal(d.Channels, r.Channels) || d.Group != r.Group || d.Digest != r.Digest || d.Cooldown != r.Cooldown {
			t.Errorf("demo rule %q differs from config.example.toml's %q", d.Name, r.Name)
		}
	}
}

// TestDemoIgnoresSlackSettings: a token or webhook in the environment does
// not make the demo post anywhere; it prints.
func TestDemoIgnoresSlackSettings(t *testing.T) {
	slack := slackfake.New()
	defer slack.Close()
	stdout, stderr, code := wirewatch(t, []string{"WIREWATCH_SLACK_WEBHOOK_URL=" + slack.WebhookURL()}, "demo")
	if code != 0 || !strings.Contains(stdout, referenceTitle) {
		t.Fatalf("demo: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := slack.Len(); n != 0 {
		t.Errorf("the demo posted %d messages to the webhook of the environment", n)
	}
}
