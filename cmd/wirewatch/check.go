package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/internal/redact"
	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
)

// cmdCheck validates the config and every rule, and runs the rules' own
// examples. Each problem is printed as FILE:LINE:COL: message, in file
// order; warnings do not fail the check. SIGINT or SIGTERM (ctx) stops it.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	path := fs.String("config", "", "configuration file (TOML)")
	fetchFeeds := fs.Bool("fetch", false, "also fetch and parse every feed once, and suggest the feeds an HTML page advertises")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if err := requireConfig(*path); err != nil {
		return err
	}
	l, err := loadContext(ctx, *path)
	if err == nil && l.cfg != nil {
		var ex config.Problems
		ex, err = checkExamples(ctx, l)
		l.problems = append(l.problems, ex...)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: interrupted", *path)
		}
		return err
	}
	problems := l.problems
	if l.cfg != nil {
		if p, ok := listenProblem(l.cfg); ok {
			problems = append(problems, p)
		}
		if *fetchFeeds {
			problems = append(problems, checkFeeds(ctx, l)...)
		}
	}
	slices.SortStableFunc(problems, func(a, b config.Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	errs := 0
	for _, p := range problems {
		fmt.Fprintln(stdout, redact.Text(p.Error()))
		if !p.Warning {
			errs++
		}
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", *path, errs)
		return exitError(1)
	}
	nf, nr := 0, 0
	if l.cfg != nil {
		nf, nr = len(l.cfg.Feeds), len(l.cfg.Rules)
	}
	fmt.Fprintf(stdout, "%s: ok (%d feeds, %d rules)\n", *path, nf, nr)
	return nil
}

// checkFeeds fetches and parses every feed once (concurrently, with the
// configured limits) and reports each failure at the feed's line. For an
// HTML page, the message lists the feeds the page advertises.
func checkFeeds(ctx context.Context, l *loaded) config.Problems {
	f := newFetcher(l.cfg, slog.New(slog.DiscardHandler))
	out := make([]config.Problems, len(l.cfg.Feeds))
	var wg sync.WaitGroup
	for i, fc := range l.cfg.Feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.Fetch(ctx, fetch.Request{URL: fc.URL})
			if err == nil {
				_, err = parse.Parse(res.Body, res.ContentType, res.URL)
			}
			if err == nil {
				return
			}
			msg := fmt.Sprintf("feed %q: %v", fc.Name, err)
			var nf *parse.NotFeedError
			if errors.As(err, &nf) && len(nf.Alternates) > 0 {
				msg += "; did you mean url = \"" + nf.Alternates[0] + "\"?"
			}
			out[i] = config.Problems{{File: l.cfg.Path, Line: fc.Line, Col: 1, Msg: msg}}
		}()
	}
	wg.Wait()
	var all config.Problems
	for _, ps := range out {
		all = append(all, ps...)
	}
	return all
}

// checkExamples runs each rule's examples (must match) and counterexamples
// (must not). It stops with ctx's error when ctx is done.
func checkExamples(ctx context.Context, l *loaded) (config.Problems, error) {
	byName := map[string]*rules.Rule{}
	for _, r := range l.rules {
		byName[r.Name()] = r
	}
	var out config.Problems
	for i, rc := range l.cfg.Rules {
		if i%1024 == 1023 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r := byName[rc.Name]
		if r == nil {
			continue
		}
		for _, p := range rules.CheckExamples(r, rc.Examples, rc.Counterexamples) {
			out = append(out, config.Problem{File: l.cfg.Path, Line: rc.Line, Col: 1, Msg: fmt.Sprintf("rule %q: %s", rc.Name, p)})
		}
	}
	return out, nil
}
