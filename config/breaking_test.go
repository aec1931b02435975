package config

import (
	"testing"
	"time"
)

// TestBreakingSettings: the breaking threshold comes from the rule, else
// its channel, else [breaking], key by key; defaults 4 outlets in 60 min.
func TestBreakingSettings(t *testing.T) {
	src := `[breaking]
within = "45m"
escalate_to = "#breaking"

[[channels]]
name = "#desk"
breaking_outlets = 3

[[channels]]
name = "#quiet"
breaking_outlets = 0
escalate_to = "none"

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"

[[rules]]
name = "Talks collapse"
query = "talks"
channels = ["#desk", "#world"]
breaking_within = "20m"

[[rules]]
name = "Strikes"
query = "strike"
channels = ["#desk"]
`
	c, err := Parse("c.toml", []byte(src), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule, ch string
		want     Breaking
	}{
		{"Strikes", "#desk", Breaking{Outlets: 3, Within: 45 * time.Minute, EscalateTo: "#breaking"}},
		{"Talks collapse", "#desk", Breaking{Outlets: 3, Within: 20 * time.Minute, EscalateTo: "#breaking"}},
		{"Talks collapse", "#world", Breaking{Outlets: 4, Within: 20 * time.Minute, EscalateTo: "#breaking"}},
		{"", "#quiet", Breaking{Outlets: 0, Within: 45 * time.Minute}},
		{"an editor's rule", "#other", Breaking{Outlets: 4, Within: 45 * time.Minute, EscalateTo: "#breaking"}},
	} {
		if got := c.BreakingFor(tc.rule, tc.ch); got != tc.want {
			t.Errorf("BreakingFor(%q, %q) = %+v, want %+v", tc.rule, tc.ch, got, tc.want)
		}
	}
	c, err = Parse("c.toml", []byte("[[feeds]]\nname = \"Dawn\"\nurl = \"https://www.dawn.com/feeds/home\"\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BreakingFor("x", "#desk"), (Breaking{Outlets: 4, Within: time.Hour}); got != want {
		t.Errorf("defaults: %+v, want %+v", got, want)
	}
}

// TestBreakingProblems: wrong breaking settings are reported where they
// are, naming the table, channel or rule.
func TestBreakingProblems(t *testing.T) {
	src := `[breaking]
outlets = 1
within = "30s"
escalate_to = "#break ing"

[[channels]]
name = "#desk"
breaking_within = "8d"
breaking_outlets = 5000

[[channels]]
name = "#desk"
escalate_too = "#breaking"

[[feeds]]
name = "Dawn"
url = "https://www.dawn.com/feeds/home"

[[rules]]
name = "Strikes"
query = "strike"
breaking_outlets = -1
breaking_within = "soon"
escalate_to = "<!channel>"
`
	wantLines(t, problemLines(t, src), []string{
		`c.toml:2:11: breaking.outlets must be 0 (no breaking signal) or between 2 and 1000 outlets, got 1`,
		`c.toml:3:10: breaking.within: "30s" is below the minimum of 1m`,
		`c.toml:4:15: breaking.escalate_to: "#break ing" is not a channel name or id`,
		`c.toml:8:19: channel "#desk": breaking_within: "8d" is above the maximum of 7d`,
		`c.toml:9:20: channel "#desk": breaking_outlets must be 0 (no breaking signal) or between 2 and 1000 outlets, got 5000`,
		`c.toml:12:8: channel "#desk": this channel is already configured on line 6`,
		`c.toml:13:1: channel "#desk": unknown key "escalate_too"; did you mean "escalate_to"?`,
		`c.toml:22:20: rule "Strikes": breaking_outlets must be 0 (no breaking signal) or between 2 and 1000 outlets, got -1`,
		`c.toml:23:19: rule "Strikes": breaking_within: "soon" is not a duration (examples: "90s", "5m", "1h", "7d")`,
		`c.toml:24:15: rule "Strikes": escalate_to: "<!channel>" is not a channel name or id`,
	})
}
