package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readme returns the repository's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandFlags returns the flags a command defines, as its -h lists them.
func commandFlags(t *testing.T, name string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{name, "-h"}, &out, &errb); code != 0 {
		t.Fatalf("%s -h: exit %d\n%s", name, code, errb.String())
	}
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  (-[a-z][a-z0-9-]*)`).FindAllStringSubmatch(out.String()+errb.String(), -1) {
		flags = append(flags, m[1])
	}
	return flags
}

// TestReadmeListsEveryCommandAndFlag checks the README's command table
// against the program: a row for every command, naming each of its flags,
// and no row for a command that does not exist.
func TestReadmeListsEveryCommandAndFlag(t *testing.T) {
	rows := map[string]string{}
	for _, line := range strings.Split(readme(t), "\n") {
		if m := regexp.MustCompile("^\\| `wirewatch ([a-z]+)[ `]").FindStringSubmatch(line); m != nil {
			cell := strings.SplitN(line, "` |", 2)[0]
			rows[m[1]] = cell
		}
	}
	for _, c := range commands {
		row, ok := rows[c.name]
		if !ok {
			t.Errorf("README's command table has no row for `wirewatch %s`", c.name)
			continue
		}
		delete(rows, c.name)
		if c.run == nil {
			continue
		}
		flags := commandFlags(t, c.name)
		if len(flags) == 0 && c.synopsis != "" && strings.Contains(c.synopsis, "-") {
			t.Errorf("%s -h lists no flags", c.name)
		}
		for _, f := range flags {
			if !regexp.MustCompile(regexp.QuoteMeta(f) + `\b`).MatchString(row) {
				t.Errorf("README's row for `wirewatch %s` does not name its flag %s:\n%s", c.name, f, row)
			}
			if !strings.Contains(c.synopsis, f) && f != "-log-format" && f != "-log-level" {
				t.Errorf("the usage text of %s does not name its flag %s: %q", c.name, f, c.synopsis)
			}
		}
	}
	for name := range rows {
		t.Errorf("README's command table lists `wirewatch %s`, which is no command", name)
	}
}
