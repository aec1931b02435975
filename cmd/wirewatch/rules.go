package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wirewatch/wirewatch/rules"
	"github.com/wirewatch/wirewatch/store"
)

// cmdRules is `wirewatch rules export`: the rules editors keep in the
// store, as [[rules]] blocks of a config file (with their examples and
// counterexamples, among them the items readers marked not relevant), so
// a desk's rules can be reviewed, backed up, and moved into the config.
// `wirewatch check` accepts what it writes.
func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if len(args) == 0 || args[0] != "export" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return parseFlags(fs, args, false)
		}
		return usagef("wirewatch rules: the only subcommand is export: wirewatch rules export -config FILE [-o OUT.toml]")
	}
	if err := parseFlags(fs, args[1:], false); err != nil {
		return err
	}
	_, st, err := openConfigStore(ctx, *path, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	text, err := exportRules(ctx, st, time.Now())
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = io.WriteString(stdout, text)
		return err
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", *out)
	return nil
}

// exportRules renders the store's current rules as TOML.
func exportRules(ctx context.Context, st store.Store, now time.Time) (string, error) {
	ers, err := st.EditorRules(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Rules editors keep in Wirewatch's store (edited from Slack), exported %s.\n", now.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "# %d rules, each its current version; `wirewatch audit` has who changed what.\n", len(ers))
	b.WriteString("# To move one into the config, copy its block and retire it in Slack (/wirewatch retire NAME):\n")
	b.WriteString("# a config rule and a store rule cannot share a name.\n")
	for _, er := range ers {
		r, err := rules.Compile(er.Name, er.Query)
		if err != nil {
			fmt.Fprintf(&b, "\n# %q (version %d) does not compile and is left out: %s\n", er.Name, er.Version, oneLine(err.Error(), 300))
			continue
		}
		fb, err := st.Feedback(ctx, er.Name, 0)
		if err != nil {
			return "", err
		}
		counter := append([]string(nil), er.Counterexamples...)
		var still []string
		seen := map[string]bool{}
		for _, c := range counter {
			seen[c] = true
		}
		for _, f := range fb {
			t := strings.Join(strings.Fields(f.Title), " ")
			if t == "" || seen[t] {
				continue
			}
			seen[t] = true
			// `check` reads a counterexample as a title: one the rule
			// still matches would fail it, so it is listed, not exported.
			if _, ok := r.Match(rules.Analyze(rules.Document{Title: t})); ok {
				still = append(still, t)
				continue
			}
			counter = append(counter, t)
		}
		fmt.Fprintf(&b, "\n# version %d by %s, %s\n", er.Version, er.Author, er.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
		for _, s := range still {
			fmt.Fprintf(&b, "# marked not relevant in Slack, but the rule still matches its title: %s\n", oneLine(s, 200))
		}
		b.WriteString("[[rules]]\n")
		fmt.Fprintf(&b, "name = %s\n", tomlString(er.Name))
		fmt.Fprintf(&b, "query = %s\n", tomlString(er.Query))
		writeList(&b, "channels", er.Channels)
		writeList(&b, "examples", er.Examples)
		writeList(&b, "counterexamples", counter)
	}
	return b.String(), nil
}

func writeList(b *strings.Builder, key string, l []string) {
	if len(l) == 0 {
		return
	}
	fmt.Fprintf(b, "%s = [\n", key)
	for _, s := range l {
		fmt.Fprintf(b, "  %s,\n", tomlString(s))
	}
	b.WriteString("]\n")
}

// tomlString is s as a TOML string: a literal string ('…') when it can be
// one, so a query's quotes stay readable, else a basic string with escapes.
func tomlString(s string) string {
	if !strings.ContainsAny(s, "'\n\r") && !strings.ContainsFunc(s, isControl) {
		return "'" + s + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r) || r == '\r':
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }
