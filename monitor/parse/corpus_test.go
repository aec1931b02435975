package parse_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/monitor/fetch"
	"github.com/wirewatch/wirewatch/monitor/parse"
)

var update = flag.Bool("update", false, "rewrite testdata/OUTCOMES.md from the corpus run")

// manifestRow is one line of testdata/MANIFEST.tsv.
type manifestRow struct {
	File, Format, What, GofeedItems, GofeedError string
}

func readManifest(t *testing.T) []manifestRow {
	t.Helper()
	f, err := os.Open("testdata/MANIFEST.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header []string
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = cols
			continue
		}
		get := func(name string) string {
			if i := slices.Index(header, name); i >= 0 && i < len(cols) {
				return cols[i]
			}
			return ""
		}
		rows = append(rows, manifestRow{
			File: get("file"), Format: get("format"), What: get("publisher_or_what"),
			GofeedItems: get("item_count_gofeed"), GofeedError: get("gofeed_error"),
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// contentType is what a typical server sends for the file: no charset,
// so that encoding detection is what is tested.
func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return "application/gzip" // served as it is, no Content-Encoding
	case strings.HasSuffix(name, ".html"):
		return "text/html"
	case strings.HasSuffix(name, ".json"):
		return "application/feed+json"
	case strings.HasSuffix(name, ".atom"):
		return "application/atom+xml"
	case strings.HasSuffix(name, ".rss"):
		return "application/rss+xml"
	}
	return "application/xml"
}

// outcome is what Fetch + Parse made of one corpus file, in words.
type outcome struct {
	feed *parse.Feed
	err  error
	text string
}

func fetchAndParse(ctx context.Context, f *fetch.Fetcher, url string) outcome {
	res, err := f.Fetch(ctx, fetch.Request{URL: url})
	if err != nil {
		var fe *fetch.Error
		if errors.As(err, &fe) {
			return outcome{err: err, text: "fetch error: " + string(fe.Kind)}
		}
		return outcome{err: err, text: "fetch error: untyped"}
	}
	feed, err := parse.Parse(res.Body, res.ContentType, res.URL)
	if err != nil {
		var nf *parse.NotFeedError
		var pe *parse.Error
		switch {
		case errors.As(err, &nf) && nf.HTML:
			return outcome{err: err, text: fmt.Sprintf("error: html page (%d feeds advertised)", len(nf.Alternates))}
		case errors.As(err, &nf):
			return outcome{err: err, text: "error: not a feed"}
		case errors.As(err, &pe):
			return outcome{err: err, text: "error: " + string(pe.Kind)}
		}
		return outcome{err: err, text: "error: untyped"}
	}
	if feed.Truncated {
		return outcome{feed: feed, text: fmt.Sprintf("%d items (truncated: complete items kept)", len(feed.Items))}
	}
	return outcome{feed: feed, text: fmt.Sprintf("%d items", len(feed.Items))}
}

// TestCorpus serves every corpus file from a loopback server and runs it
// through Fetch and Parse: no panic, a bounded time (a deadline per file)
// and memory (the fetcher's 10 MB body cap), and either items or an error
// that names its kind. The expected outcome of each file is in
// corpusOutcomes; testdata/OUTCOMES.md is the same table for people
// (regenerate with go test -run TestCorpus -update).
func TestCorpus(t *testing.T) {
	rows := readManifest(t)
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.File] = true
	}
	// Every file under testdata/corpus is listed, and every listed file exists.
	filepath.WalkDir("testdata/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("testdata", path)
		if !d.IsDir() && d.Name() != "README.md" && !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not in testdata/MANIFEST.tsv", rel)
		}
		return nil
	})

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", contentType(name))
		w.Write(b)
	}))
	defer srv.Close()
	f := fetch.New(fetch.Options{AllowPrivate: true}) // default limits: 10 MB, 20 s

	got := map[string]outcome{}
	for _, r := range rows {
		if _, err := os.Stat(filepath.Join("testdata", r.File)); err != nil {
			t.Errorf("%s: listed in MANIFEST.tsv but missing: %v", r.File, err)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		o := fetchAndParse(ctx, f, srv.URL+"/"+r.File)
		cancel()
		got[r.File] = o
		if o.err != nil && strings.Contains(o.err.Error(), "panic") {
			t.Errorf("%s: the parser panicked: %v", r.File, o.err)
		}
		if o.err != nil && (strings.HasSuffix(o.text, "untyped") || !strings.Contains(o.err.Error(), srv.URL+"/"+r.File)) {
			t.Errorf("%s: error without a kind or without the feed URL: %v", r.File, o.err)
		}
		want, ok := corpusOutcomes[r.File]
		if !ok {
			t.Errorf("%s: no expected outcome in corpusOutcomes (got %q)", r.File, o.text)
		} else if o.text != want {
			t.Errorf("%s: outcome %q, want %q (err: %v)", r.File, o.text, want, o.err)
		}
	}
	for file := range corpusOutcomes {
		if !listed[file] {
			t.Errorf("corpusOutcomes has %s, which is not in the corpus", file)
		}
	}

	table := outcomesMarkdown(rows, got)
	if *update {
		if err := os.WriteFile("testdata/OUTCOMES.md", []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	onDisk, err := os.ReadFile("testdata/OUTCOMES.md")
	if err != nil {
		t.Fatalf("%v (run go test -run TestCorpus -update)", err)
	}
	if string(onDisk) != table {
		t.Errorf("testdata/OUTCOMES.md is out of date: run go test ./monitor/parse -run TestCorpus -update")
	}
}

func outcomesMarkdown(rows []manifestRow, got map[string]outcome) string {
	var b strings.Builder
	counts := map[string]int{}
	items, withItems := 0, 0
	for _, r := range rows {
		o := got[r.File]
		switch {
		case o.feed != nil && len(o.feed.Items) > 0:
			withItems++
			items += len(o.feed.Items)
			counts["items"]++
		case o.feed != nil:
			counts["0 items (valid feed, nothing in it)"]++
		default:
			counts[o.text]++
		}
	}
	b.WriteString("# Corpus outcomes\n\n")
	b.WriteString("Generated by `go test ./monitor/parse -run TestCorpus -update`; the test fails when this file is stale.\n")
	b.WriteString("Each file of `testdata/corpus` is served from a loopback HTTP server (no charset in Content-Type; `.gz` files served as they are, without Content-Encoding) and goes through `fetch.Fetch` and `parse.Parse`. \"gofeed alone\" is from `MANIFEST.tsv` (gofeed v1.4.2 on the raw bytes).\n\n")
	fmt.Fprintf(&b, "Summary: %d files; %d with items (%d items in all).\n\n", len(rows), withItems, items)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("| outcome | files |\n|---|---|\n")
	for _, k := range keys {
		label := k
		if k == "items" {
			label = "items"
		}
		fmt.Fprintf(&b, "| %s | %d |\n", label, counts[k])
	}
	b.WriteString("\n| file | what | gofeed alone | Wirewatch |\n|---|---|---|---|\n")
	for _, r := range rows {
		alone := r.GofeedItems + " items"
		if r.GofeedError != "" {
			alone = "error: " + r.GofeedError
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.File, md(r.What), md(alone), got[r.File].text)
	}
	return b.String()
}

func md(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// TestCorpusSpecifics checks, beyond counts, what a desk would see in the
// feeds gofeed alone cannot read, and in HTML pages.
func TestCorpusSpecifics(t *testing.T) {
	// http.FileServer sends "text/xml; charset=utf-8" for .xml files: a
	// wrong charset for the Latin-1 ones, as real servers do.
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	defer srv.Close()
	f := fetch.New(fetch.Options{AllowPrivate: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := func(file string) outcome { return fetchAndParse(ctx, f, srv.URL+"/corpus/"+file) }

	// UOL Notícias: Latin-1, no XML declaration, no version attribute.
	o := run("news/uol-noticias_no-decl_rssparser.rss")
	if o.feed == nil || len(o.feed.Items) != 15 {
		t.Fatalf("UOL: %s %v, want 15 items", o.text, o.err)
	}
	if got := o.feed.Items[0].Title; got != "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno" {
		t.Errorf("UOL first title = %q", got)
	}
	if !strings.HasPrefix(o.feed.Items[0].Summary, "Líder na pesquisa Ibope") {
		t.Errorf("UOL first summary = %q", o.feed.Items[0].Summary)
	}

	// Le Cercle Psy: Latin-1, no declaration; one item is empty but dated.
	o = run("news/le-cercle-psy_no-decl-latin1_miniflux.xml")
	if o.feed == nil || len(o.feed.Items) != 10 {
		t.Fatalf("Le Cercle Psy: %s %v, want 10 items", o.text, o.err)
	}
	if got := o.feed.Items[2].Title; got != "La criminalité liée surtout à... l'ennui ?" {
		t.Errorf("Le Cercle Psy third title = %q", got)
	}
	if got := o.feed.Items[4].Title; got != "Caroline Eliacheff : « Dolto reste authentiquement subversive »" {
		t.Errorf("Le Cercle Psy fifth title = %q", got)
	}
	for _, it := range o.feed.Items {
		if strings.ContainsRune(it.Title+it.Summary, '\uFFFD') || strings.Contains(it.Title+it.Summary, "Ã") {
			t.Errorf("Le Cercle Psy: mis-decoded text in %q / %q", it.Title, it.Summary)
		}
	}

	// Reuters: cut off by a server exception. It fails, saying so.
	o = run("news/reuters-most-read_invalid_feedrs.xml")
	var pe *parse.Error
	if !errors.As(o.err, &pe) || pe.Kind != parse.KindTruncated || !strings.Contains(o.err.Error(), "truncated") {
		t.Errorf("Reuters: %v, want a truncated-feed error", o.err)
	}

	// HTML pages: "this is an HTML page" and the advertised feeds,
	// resolved against the page URL.
	for file, want := range map[string][]string{
		"autodiscovery/daringfireball-home_nnw.html": {srv.URL + "/feeds/main"},
		"autodiscovery/furbo_nnw.html":               {"http://furbo.org/feed/"},
		"autodiscovery/youtube-channel_nnw.html":     {"https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jcWRY6dhXWMSq9LQ"},
		"autodiscovery/notafeed_nodefp.html":         nil,
	} {
		o := run(file)
		var nf *parse.NotFeedError
		if !errors.As(o.err, &nf) || !nf.HTML {
			t.Errorf("%s: %v, want an HTML-page error", file, o.err)
			continue
		}
		if !slices.Equal(nf.Alternates, want) {
			t.Errorf("%s: alternates %q, want %q", file, nf.Alternates, want)
		}
		if !strings.Contains(o.err.Error(), "this is an HTML page") {
			t.Errorf("%s: message %q", file, o.err)
		}
		for _, a := range want {
			if !strings.Contains(o.err.Error(), a) {
				t.Errorf("%s: message does not list %s: %v", file, a, o.err)
			}
		}
	}

	// Declared legacy encodings, converted once.
	for file, want := range map[string]string{
		"news/golem-de_rss1_feedrs.xml":                    "Digitalministerium: Neue Glasfaserförderung mit Schnellkasse",
		"news/oren-ru_windows-1251_nodefp.xml":             "В Бузулуке главные стройплощадки – детсад и Ледовый дворец",
		"news/liberal-gr_prof18.xml":                       "«Πορτραίτα καραντίνας» για έμπνευση από τη συλλογή Φέλιου",
		"problem/kc0011-gb2312_nnw.rss":                    "建国35周年纪念，华表，和平鸽",
		"problem/koi8r_miniflux.xml":                       "Первая новость",
		"news/jornal-de-noticias_iso-8859-1_rssparser.rss": "Mãe de utente é a nova presidente da Raríssimas",
	} {
		o := run(file)
		if o.feed == nil || len(o.feed.Items) == 0 || o.feed.Items[0].Title != want {
			t.Errorf("%s: %s %v; want first title %q", file, o.text, o.err, want)
		}
	}

	// A gzip file served without Content-Encoding.
	o = run("problem/gzipped_compressed_nodefp.xml.gz")
	if o.feed == nil || len(o.feed.Items) != 10 {
		t.Errorf("gzip without Content-Encoding: %s %v", o.text, o.err)
	}

	// Relative links resolved against the feed URL.
	o = run("problem/relurl_insanity-industries_feedrs.xml")
	if o.feed == nil {
		t.Fatalf("relative links feed: %v", o.err)
	}
	for _, it := range o.feed.Items {
		if !strings.HasPrefix(it.Link, "http://") && !strings.HasPrefix(it.Link, "https://") {
			t.Errorf("link %q is not absolute", it.Link)
		}
	}
}
