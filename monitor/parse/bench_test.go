package parse

import (
	"os"
	"testing"
)

// go test ./monitor/parse -run '^$' -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, file, ct string }{
		{"guardian-rss-151KB-55items", "testdata/corpus/news/guardian-us_rssparser.rss", "application/rss+xml; charset=utf-8"},
		{"uol-latin1-undeclared-9KB-15items", "testdata/corpus/news/uol-noticias_no-decl_rssparser.rss", "application/rss+xml"},
		{"daringfireball-atom-114KB-48items", "testdata/corpus/news/daringfireball_atom_nnw.atom", "application/atom+xml"},
		{"giantbomb-rss-1.6MB-730items", "testdata/corpus/problem/huge_giantbomb-podcast_1.6MB_rssparser.rss", "application/rss+xml"},
	} {
		body, err := os.ReadFile(c.file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := Parse(body, c.ct, "https://example.com/feed")
				if err != nil || len(f.Items) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
