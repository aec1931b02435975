package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/wirewatch/wirewatch/monitor/parse"
)

// tryCorpus copies the real feed corpus' news feeds into dir, repeated
// under other names until they hold at least n items, and returns the
// files and their items' words (for rules that match them).
func tryCorpus(b *testing.B, dir string, n int) (files []string, docs [][]string) {
	srcs, err := filepath.Glob(filepath.Join("..", "..", "monitor", "parse", "testdata", "corpus", "news", "*"))
	if err != nil || len(srcs) == 0 {
		b.Fatalf("no corpus: %v", err)
	}
	slices.Sort(srcs)
	items := 0
	for round := 0; items < n; round++ {
		for _, src := range srcs {
			body, err := os.ReadFile(src)
			if err != nil {
				b.Fatal(err)
			}
			doc, err := parse.Parse(body, mime.TypeByExtension(filepath.Ext(src)), "https://example.com/feed")
			if err != nil || len(doc.Items) == 0 {
				continue
			}
			dst := filepath.Join(dir, fmt.Sprintf("%d-%s", round, filepath.Base(src)))
			if err := os.WriteFile(dst, body, 0o644); err != nil {
				b.Fatal(err)
			}
			files = append(files, dst)
			for _, it := range doc.Items {
				docs = append(docs, strings.FieldsFunc(strings.ToLower(it.Title+" "+it.Summary), func(r rune) bool { return !unicode.IsLetter(r) }))
			}
			if items += len(doc.Items); items >= n {
				break
			}
		}
	}
	return files, docs
}

// tryRules writes n rules drawn (fixed seed) from the items' own words:
// `(a OR b) AND c`, each word found in 1.5% to 8% of the items, so that
// about one rule in a hundred matches an item.
func tryRules(docs [][]string, n int) string {
	df := map[string]int{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, w := range d {
			if len(w) >= 4 && !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	var words []string
	for w, c := range df {
		if c >= len(docs)*3/200 && c <= len(docs)*8/100 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	r := rand.New(rand.NewPCG(14, 14))
	var b strings.Builder
	b.WriteString("[[feeds]]\nname = \"x\"\nurl = \"https://example.com/feed\"\n\n")
	for i := range n {
		pick := func() string { return words[r.IntN(len(words))] }
		fmt.Fprintf(&b, "[[rules]]\nname = \"r%05d\"\nquery = '(%s OR %s) AND %s'\n\n", i, pick(), pick(), pick())
	}
	return b.String()
}

type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// BenchmarkTryRules runs `wirewatch try -config FILE -json FEED...` (the
// built binary, as a user runs it) over 2,000 real items with 100 and with
// 10,000 rules. It reports matches per item and the process' peak RSS.
//
//	go test -run '^$' -bench TryRules -benchtime 3x -count 3 ./cmd/wirewatch/
func BenchmarkTryRules(b *testing.B) {
	dir := b.TempDir()
	files, docs := tryCorpus(b, dir, 2000)
	for _, n := range []int{100, 10_000} {
		cfg := filepath.Join(dir, fmt.Sprintf("rules-%d.toml", n))
		if err := os.WriteFile(cfg, []byte(tryRules(docs, n)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var rss int64
			var lines int
			for b.Loop() {
				cmd := exec.Command(binary, append([]string{"try", "-config", cfg, "-json"}, files...)...)
				var out lineCounter
				cmd.Stdout, cmd.Stderr = &out, io.Discard
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("try: %v", err)
				}
				_ = start
				lines = out.n
				if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
					rss = max(rss, ru.Maxrss*1024)
				}
			}
			b.ReportMetric(float64(lines)/float64(len(docs)), "matches/item")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		})
	}
}
