package parse

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// parseBoth parses body whole and a few items at a time.
func parseBoth(t *testing.T, body []byte, ct string) (whole, sliced *Feed, wErr, sErr error, chunked bool) {
	t.Helper()
	defer func(n, r int) { chunkBytes, headRepeat = n, r }(chunkBytes, headRepeat)
	chunkBytes, headRepeat = 1<<30, 8
	whole, wErr = Parse(body, ct, "https://feeds.example.org/feed")
	chunkBytes, headRepeat = 200, 0
	d := RepairEncoding(body, ct)
	if d.How != "unknown" {
		_, chunked = parseChunked(fixXMLChars(d.Body), ct, "https://feeds.example.org/feed", nil)
	}
	sliced, sErr = Parse(body, ct, "https://feeds.example.org/feed")
	return whole, sliced, wErr, sErr, chunked
}

// TestChunkedParseIsTheWholeParse: every feed of the corpus yields the
// same items, feed fields and errors whether gofeed reads it whole or a
// slice of items at a time (issue 18.8), and most are sliced.
func TestChunkedParseIsTheWholeParse(t *testing.T) {
	sliced, total := 0, 0
	err := filepath.WalkDir("testdata/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".md") {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		total++
		w, s, we, se, chunked := parseBoth(t, body, "")
		if chunked {
			sliced++
		}
		if fmt.Sprint(we) != fmt.Sprint(se) {
			t.Errorf("%s: whole: %v; sliced: %v", path, we, se)
			return nil
		}
		if !reflect.DeepEqual(w, s) {
			t.Errorf("%s: the sliced parse differs from the whole one (chunked %v)", path, chunked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The others are JSON, HTML, broken, or of fewer than two items.
	if sliced < 40 {
		t.Errorf("only %d of %d corpus feeds were sliced", sliced, total)
	}
	t.Logf("%d of %d corpus feeds parsed in slices", sliced, total)
}

// TestChunkedParseRefusesWhatItCannotSlice: items mixed with other
// elements, items in two places, a truncated or malformed document are
// parsed whole, with the whole parse's result.
func TestChunkedParseRefusesWhatItCannotSlice(t *testing.T) {
	items := func(from, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "<item><guid>g%d</guid><title>Title %d with some words to make it long enough</title></item>\n", from+i, from+i)
		}
		return b.String()
	}
	rss := func(channel string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>` + channel + `</channel></rss>`)
	}
	for _, c := range []struct {
		name    string
		body    []byte
		chunked bool
	}{
		{"plain", rss(items(0, 40)), true},
		{"fields after the items", rss(items(0, 40) + "<ttl>60</ttl><link>https://x.example/</link>"), true},
		{"a field among the items", rss(items(0, 20) + "<ttl>60</ttl>" + items(20, 20)), false},
		{"truncated", rss(items(0, 40))[:3000], false},
		{"malformed item", rss(items(0, 20) + "<item><title>a</b></title></item>" + items(20, 20)), false},
		{"atom", []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>` +
			strings.Repeat(`<entry><id>urn:x:1</id><title>An entry with a title long enough to count</title></entry>`, 1) +
			strings.ReplaceAll(items(0, 40), "item>", "entry>") + `</feed>`), true},
		{"rdf", []byte(`<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>R</title></channel>` +
			items(0, 40) + `</rdf:RDF>`), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, s, we, se, chunked := parseBoth(t, c.body, "")
			if chunked != c.chunked {
				t.Errorf("sliced: %v, want %v", chunked, c.chunked)
			}
			if fmt.Sprint(we) != fmt.Sprint(se) || !reflect.DeepEqual(w, s) {
				t.Errorf("whole: %v %v\nsliced: %v %v", w, we, s, se)
			}
		})
	}
}

// BenchmarkParseMaxFeed parses a 10 MB feed of 90,000 small items, the
// default size cap (issue 18.8): peak-heap-MB is the most the Go heap
// held above what it held before, the body excepted; whole is the
// document parsed in one piece, as before.
//
//	go test -run '^$' -bench ParseMaxFeed -benchmem ./monitor/parse/
func BenchmarkParseMaxFeed(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Max</title><link>https://max.example.org/</link>`)
	for i := 0; buf.Len() < 10<<20-200; i++ {
		fmt.Fprintf(&buf, "<item><guid>g-%d</guid><title>Item %d of the feed</title><pubDate>Tue, 24 Nov 2026 11:%02d:00 +0000</pubDate></item>", i, i, i%60)
	}
	buf.WriteString("</channel></rss>")
	body := buf.Bytes()
	b.Run("whole", func(b *testing.B) {
		defer func(n int) { chunkBytes = n }(chunkBytes)
		chunkBytes = 1 << 30
		benchParse(b, body)
	})
	b.Run("sliced", func(b *testing.B) { benchParse(b, body) })
}

func benchParse(b *testing.B, body []byte) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var peak uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	for b.Loop() {
		runtime.GC()
		base := heap()
		done, stop := make(chan struct{}), make(chan uint64)
		go func() {
			var p uint64
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				p = max(p, heap()-min(base, heap()))
				select {
				case <-done:
					stop <- p
					return
				case <-t.C:
				}
			}
		}()
		doc, err := Parse(body, "application/rss+xml", "https://max.example.org/feed")
		close(done)
		peak = max(peak, <-stop)
		if err != nil || len(doc.Items) < 80000 {
			b.Fatalf("%v", err)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// FuzzChunkedParse: whatever the bytes, a document parsed a few items at
// a time yields what it yields parsed whole, or the same error.
//
//	go test ./monitor/parse -run '^$' -fuzz FuzzChunkedParse -fuzztime 60s
func FuzzChunkedParse(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>` +
		`<item><guid>a</guid><title>One item with a title</title></item><item><guid>b</guid><title>Two &amp; more</title></item>` +
		`<item><title><![CDATA[</item> inside]]></title><link>/rel</link></item><ttl>5</ttl></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>1</id><title>x</title></entry>` +
		`<!-- c --><entry><id>2</id><title type="html">&lt;b&gt;y&lt;/b&gt;</title></entry><entry><id>1</id></entry></feed>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, s, we, se, _ := parseBoth(t, body, "")
		if fmt.Sprint(we) != fmt.Sprint(se) || !reflect.DeepEqual(w, s) {
			t.Fatalf("whole: %+v %v\nsliced: %+v %v", w, we, s, se)
		}
	})
}
