package itemtext

import (
	"bytes"
	"compress/flate"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/internal/testsize"
	"github.com/wirewatch/wirewatch/monitor/parse"
	"github.com/wirewatch/wirewatch/rules"
)

var (
	corpusOnce  sync.Once
	corpusTexts []Text
	corpusErr   error
)

// corpus returns the items of the feeds of the real feed corpus that
// parse, as the monitor would keep them: every file at full size
// (WIREWATCH_FULL=1), one in three by default (the race detector makes
// compression and analysis slow).
func corpus(t testing.TB) []Text {
	t.Helper()
	corpusOnce.Do(func() {
		root := "../monitor/parse/testdata/corpus"
		stride, n := testsize.Pick(3, 1), 0
		corpusErr = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if n++; n%stride != 0 {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			doc, err := parse.Parse(b, mime.TypeByExtension(filepath.Ext(p)), "https://example.com/feed")
			if err != nil {
				return nil // HTML pages, XML bombs and broken files
			}
			for _, it := range doc.Items {
				corpusTexts = append(corpusTexts, Text{Title: it.Title, Summary: it.Summary, Content: it.Content, Feed: doc.Title, Author: it.Author, Link: it.Link, Categories: it.Categories, Published: it.Published})
			}
			return nil
		})
	})
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	if len(corpusTexts) < testsize.Pick(300, 1500) {
		t.Fatalf("the corpus has %d items; monitor/parse/testdata/corpus is incomplete", len(corpusTexts))
	}
	return corpusTexts
}

// rawFields is the uncompressed field encoding of t, as Encode compresses it.
func rawFields(x Text) []byte {
	rec := Encode(x, nil)
	_, body, _ := split(rec)
	raw, err := readAll(flate.NewReader(bytes.NewReader(body)), nil, MaxDecoded)
	if err != nil {
		panic(err)
	}
	return raw
}

// TestMeasure measures what keeping an item's text costs on the real
// corpus: bytes per record (fields compressed, plus the sketch), against
// the plain fields and other DEFLATE levels. The README's sizing quotes it
// (WIREWATCH_FULL=1 go test -run TestMeasure -v ./itemtext/).
func TestMeasure(t *testing.T) {
	if !testsize.Full() || testing.Short() {
		t.Skip("a measurement on the whole corpus: WIREWATCH_FULL=1 go test -run TestMeasure -v ./itemtext/")
	}
	ts := corpus(t)
	z := rules.NewAnalyzer()
	var raw, rec, sketch int
	sizes := make([]int, 0, len(ts))
	start := time.Now()
	for _, x := range ts {
		a := z.Analyze(x.Document())
		r := Encode(x, a)
		a.Release()
		sk, _, err := split(r)
		if err != nil {
			t.Fatal(err)
		}
		raw += len(rawFields(x))
		rec += len(r)
		sketch += len(sk)
		sizes = append(sizes, len(r))
	}
	enc := time.Since(start)
	n := len(ts)
	slices.Sort(sizes)
	t.Logf("%d corpus items: fields %d B, record %d B (of which sketch %d B), median record %d B, p90 %d B; encode with analysis %v per item",
		n, raw/n, rec/n, sketch/n, sizes[n/2], sizes[n*9/10], enc/time.Duration(n))
	if rec >= raw {
		t.Fatalf("records (%d B per item) are no smaller than their plain fields (%d B)", rec/n, raw/n)
	}
	for _, lv := range []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		total := 0
		start := time.Now()
		for _, x := range ts {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, lv)
			w.Write(rawFields(x))
			w.Close()
			total += b.Len()
		}
		t.Logf("DEFLATE level %d: %d B of fields per item (%v per item, including re-encoding)", lv, total/n, time.Since(start)/time.Duration(n))
	}
}
