package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exitCase is one command line and the exit status the README promises for
// it: 0 success, 1 failure, 2 usage error.
type exitCase struct {
	args []string
	code int
	// says is a part of what the command must print (stdout or stderr).
	says string
}

// TestExitCodes runs every command through run(), as main does, with
// each kind of usage error (a missing -config, an unknown flag, a bad flag
// value, a missing or extra argument, an unknown command), a failure and a
// success. (`run`'s success, exit 0 after SIGTERM, is TestShutdownOnSIGTERM's.)
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	srv, _ := feedServer(t, "reference.rss")
	good := writeConfig(t, dir, fmt.Sprintf(`[store]
path = %q
[fetch]
allow_private = true
[[feeds]]
name = "Wire"
url = %q
[[rules]]
name = "Strikes"
query = '"deep into Afghanistan"'
`, filepath.Join(dir, "state.db"), srv.URL))
	badDir := t.TempDir()
	broken := writeConfig(t, badDir, "[[rules]]\nname = \"x\"\nquery = '(unclosed'\n")
	down := filepath.Join(t.TempDir(), "down.toml")
	if err := os.WriteFile(down, []byte(fmt.Sprintf(`[store]
path = %q
[http]
listen = %q
[fetch]
allow_private = true
[[feeds]]
name = "Gone"
url = "http://127.0.0.1:1/feed"
[[rules]]
name = "r"
query = "x"
`, filepath.Join(filepath.Dir(down), "state.db"), freePort(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	feed := filepath.Join("testdata", "reference-article.rss")
	link := "https://www.dawn.com/news/1952000"

	cases := []exitCase{
		// No command, an unknown one, help and version.
		{nil, 2, "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"help"}, 0, "Exit status: 0 success"},
		{[]string{"help", "once"}, 0, "-dry-run"},
		{[]string{"help", "frobnicate"}, 2, `no command "frobnicate"`},
		{[]string{"version"}, 0, "wirewatch "},
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`},

		// run
		{[]string{"run"}, 2, "-config FILE is required"},
		{[]string{"run", "-config", good, "-verbose"}, 2, "flag provided but not defined: -verbose"},
		{[]string{"run", "-config", good, "-grace", "soon"}, 2, `invalid value "soon" for flag -grace`},
		{[]string{"run", "-config", good, "-grace", "-1s"}, 2, "-grace must be a positive duration"},
		{[]string{"run", "-config", good, "-log-level", "loud"}, 2, "-log-level must be debug, info, warn or error"},
		{[]string{"run", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"run", "-config", broken}, 1, "problem(s)"},
		{[]string{"run", "-h"}, 0, "-allow-empty-reload"},

		// once
		{[]string{"once"}, 2, "-config FILE is required"},
		{[]string{"once", "-config", good, "-dryrun"}, 2, "flag provided but not defined: -dryrun"},
		{[]string{"once", "-config", good, "-dry-run=maybe"}, 2, "invalid boolean value"},
		{[]string{"once", "-config", good, "-log-format", "xml"}, 2, "-log-format must be text or json"},
		{[]string{"once", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"once", "-config", down}, 1, "all 1 feeds failed"},
		{[]string{"once", "-config", good, "-dry-run"}, 0, `"rule":"Strikes"`},
		{[]string{"once", "-config", good}, 0, "deep into Afghanistan"}, // explain's item, below

		// check
		{[]string{"check"}, 2, "-config FILE is required"},
		{[]string{"check", "-config", good, "-strict"}, 2, "flag provided but not defined: -strict"},
		{[]string{"check", "-config", good, "-fetch=maybe"}, 2, "invalid boolean value"},
		{[]string{"check", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"check", "-config", broken}, 1, "unbalanced parentheses"},
		{[]string{"check", "-config", filepath.Join(dir, "missing.toml")}, 1, "missing.toml"},
		{[]string{"check", "-config", good}, 0, "ok (1 feeds, 1 rules)"},

		// try
		{[]string{"try", "-query", "x"}, 2, "give at least one feed file or URL"},
		{[]string{"try", feed}, 2, "give -query 'RULE', or -config FILE"},
		{[]string{"try", "-query", "x", "-rule", "y", feed}, 2, "give -query or -rule, not both"},
		{[]string{"try", "-config", good, "-rule", "Nope", feed}, 2, `no rule named "Nope"`},
		{[]string{"try", "-quiet", feed}, 2, "flag provided but not defined: -quiet"},
		{[]string{"try", "-json=maybe", feed}, 2, "invalid boolean value"},
		{[]string{"try", "-query", "x", filepath.Join(dir, "missing.rss")}, 1, "missing.rss"},
		{[]string{"try", "-query", `"deep into Afghanistan"`, feed}, 0, "[deep into Afghanistan]"},

		// explain
		{[]string{"explain", link}, 2, "-config FILE is required"},
		{[]string{"explain", "-config", good}, 2, "give the link or GUID of one item"},
		{[]string{"explain", "-config", good, link, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"explain", "-config", good, "-why", link}, 2, "flag provided but not defined: -why"},
		{[]string{"explain", "-config", good, "-json=maybe", link}, 2, "invalid boolean value"},
		{[]string{"explain", "-config", broken, link}, 1, "problem(s)"},
		{[]string{"explain", "-config", good, "https://example.org/never-seen"}, 1, "no stored item"},
		{[]string{"explain", "-config", good, link}, 0, `OUTCOME  alerted: it matched "Strikes"`},

		// feeds
		{[]string{"feeds"}, 2, "-config FILE is required"},
		{[]string{"feeds", "-config", good, "-all"}, 2, "flag provided but not defined: -all"},
		{[]string{"feeds", "-config", good, "-json=maybe"}, 2, "invalid boolean value"},
		{[]string{"feeds", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"feeds", "-config", broken}, 1, "problem(s)"},
		{[]string{"feeds", "-config", good}, 0, "Wire"},

		// migrate
		{[]string{"migrate"}, 2, "-config FILE is required"},
		{[]string{"migrate", "-config", good, "-down"}, 2, "flag provided but not defined: -down"},
		{[]string{"migrate", "-config", good, "-from-sqlite"}, 2, "flag needs an argument: -from-sqlite"},
		{[]string{"migrate", "-config", good, "-from-sqlite", filepath.Join(dir, "state.db")}, 2, "is the configured store itself"},
		{[]string{"migrate", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"migrate", "-config", good, "-from-sqlite", filepath.Join(dir, "old.db")}, 1, "old.db"},
		{[]string{"migrate", "-config", good}, 0, "schema is up to date"},

		// healthcheck
		{[]string{"healthcheck"}, 2, "-config FILE is required"},
		{[]string{"healthcheck", "-config"}, 2, "flag needs an argument: -config"},
		{[]string{"healthcheck", "-config", good, "-v"}, 2, "flag provided but not defined: -v"},
		{[]string{"healthcheck", "-config", good, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"healthcheck", "-config", good}, 1, "[http] listen is not set"},
		{[]string{"healthcheck", "-config", down}, 1, "healthz"},

		// demo
		{[]string{"demo", "-offline"}, 2, "flag provided but not defined: -offline"},
		{[]string{"demo", "-dir"}, 2, "flag needs an argument: -dir"},
		{[]string{"demo", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"demo", "-dir", good}, 1, "not a directory"},
		{[]string{"demo", "-h"}, 0, "-dir"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(c.args, &out, &errb)
			all := out.String() + errb.String()
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, all)
			}
			if !strings.Contains(all, c.says) {
				t.Errorf("output lacks %q:\n%s", c.says, all)
			}
			if c.code == 2 && !strings.Contains(errb.String(), "usage: wirewatch") && !strings.Contains(errb.String(), "Usage:") {
				t.Errorf("a usage error without the command's usage:\n%s", errb.String())
			}
		})
	}
}

// TestExitCodesOfTheBinary checks that main passes run's status to the
// shell: a usage error, a failure and a success of the real binary.
func TestExitCodesOfTheBinary(t *testing.T) {
	for _, c := range []exitCase{
		{[]string{"once", "-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"feeds"}, 2, "-config FILE is required"},
		{[]string{"check", "-config", filepath.Join(t.TempDir(), "missing.toml")}, 1, "missing.toml"},
		{[]string{"version"}, 0, "wirewatch"},
	} {
		stdout, stderr, code := wirewatch(t, nil, c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.says) {
			t.Errorf("wirewatch %s: exit %d (want %d)\n%s%s", strings.Join(c.args, " "), code, c.code, stdout, stderr)
		}
	}
}
