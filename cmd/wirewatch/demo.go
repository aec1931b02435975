package main

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	root "github.com/wirewatch/wirewatch"
	"github.com/wirewatch/wirewatch/config"
	"github.com/wirewatch/wirewatch/notify"
	"github.com/wirewatch/wirewatch/store"
)

// demoFiles are the demo's feeds: real feeds from the test corpus
// (monitor/parse/testdata/corpus) and the reference article, with their
// sources in demo/MANIFEST.tsv.
//
//go:embed demo
var demoFiles embed.FS

// demoFeed is one feed the demo serves on loopback.
type demoFeed struct {
	name, file, contentType string
	// reference: the reference article is served as this feed's first item.
	reference bool
}

var demoFeeds = []demoFeed{
	{"BBC News Urdu", "bbc-urdu.xml", "application/rss+xml; charset=utf-8", false},
	{"Livemint", "livemint.xml", "application/rss+xml; charset=utf-8", true},
	{"The Guardian (US)", "guardian-us.rss", "application/rss+xml; charset=utf-8", false},
}

// The reference article as an item: a headline of ours (the seed has
// none), the link and GUID of cmd/wirewatch/testdata/reference-article.rss.
const (
	referenceTitle = "Pakistan will strike 'deep into Afghanistan' if attacked, Khawaja Asif warns after Istanbul talks fail"
	referenceLink  = "https://www.dawn.com/news/1952000/pakistan-will-strike-deep-into-afghanistan"
	referenceGUID  = "https://www.dawn.com/news/1952000"
)

// cmdDemo is an offline first look: it serves a few real feeds bundled in
// the binary on loopback, polls them once with the rules of
// config.example.toml on a new store, delivers what matched to standard
// output (as `once` does with no Slack configured) and prints the stories
// as a desk would see them in Slack. No network, no Slack, no config.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	dirFlag := fs.String("dir", "", "keep the demo's config (demo.toml) and store (demo.db) in this directory, to look at them afterwards with `wirewatch explain -config DIR/demo.toml LINK`; default: a temporary directory, removed at exit")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	dir := *dirFlag
	var err error
	if dir == "" {
		tmp, err := os.MkdirTemp("", "wirewatch-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		if dir, err = filepath.Abs(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("-dir: %w", err)
		}
		// A new store every time: a second run would find nothing new.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(dir, "demo.db"+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serving the demo feeds on loopback: %w", err)
	}
	srv := &http.Server{Handler: demoHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	path, err := writeDemoConfig(dir, "http://"+ln.Addr().String())
	if err != nil {
		return err
	}
	l, err := loadValid(path, stderr)
	if err != nil {
		return err
	}
	// The demo never posts to Slack or writes to a shared database,
	// whatever the environment says (WIREWATCH_SLACK_TOKEN and the like).
	l.cfg.Slack.Token, l.cfg.Slack.WebhookURL, l.cfg.Slack.APIURL = "", "", ""
	l.cfg.Store.Postgres = ""

	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, l.cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	owner := notify.DefaultOwner()
	mon, err := newMonitor(l, st, log, owner, 0, nil)
	if err != nil {
		return err
	}
	if err := mon.Sync(ctx); err != nil {
		return err
	}

	var names []string
	for _, r := range l.rules {
		names = append(names, fmt.Sprintf("%q", r.Name()))
	}
	fmt.Fprintf(stdout, `Wirewatch demo: no network, no Slack, nothing to configure.

Feeds:  %d real feeds from the test corpus, served on %s; the reference article
        (Dawn, 29 October 2025) is added to %s.
Rules:  those of config.example.toml: %s.
Store:  a new one in %s.
Every item counts as new (a real first poll alerts only the last 24 hours: [monitor] backfill).

`, len(demoFeeds), ln.Addr(), referenceFeed(), strings.Join(names, ", "), dir)

	results := mon.PollAll(ctx, false)
	fmt.Fprintln(stdout, "POLLED")
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stdout, "  %-20s failed: %v\n", r.Feed, r.Err)
			continue
		}
		fmt.Fprintf(stdout, "  %-20s %3d items, %d alerts queued\n", r.Feed, r.Items, r.Queued)
	}
	if failed == len(results) {
		return fmt.Errorf("every demo feed failed")
	}
	fmt.Fprintf(stdout, "\nWHAT THE DESK SEES (with no Slack configured, alerts print here; in Slack each goes to its channel)\n\n")
	n, err := newNotifier(l.cfg, st, stdout, log, owner, nil, nil)
	if err != nil {
		return err
	}
	if err := n.Drain(ctx); err != nil {
		return fmt.Errorf("delivering the demo's alerts: %w", err)
	}
	if err := printStories(ctx, stdout, st); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
NEXT
  wirewatch try -config config.example.toml FEED_FILE_OR_URL   the example rules on your own feeds, with the words that matched
  cp config.example.toml config.toml                            then name your feeds, rules and channels
  wirewatch check -config config.toml                           every problem of the file, with its line
  wirewatch once -config config.toml -dry-run                   what one poll would post, posting nothing
  wirewatch demo -dir DIR; wirewatch explain -config DIR/demo.toml %s
                                                                what became of one item, and why
`, referenceGUID)
	return nil
}

func referenceFeed() string {
	for _, f := range demoFeeds {
		if f.reference {
			return f.name
		}
	}
	return ""
}

// demoHandler serves the demo feeds, the reference article added to its
// feed.
func demoHandler() http.Handler {
	mux := http.NewServeMux()
	for _, f := range demoFeeds {
		body, err := fs.ReadFile(demoFiles, "demo/"+f.file)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		if f.reference {
			body = withReferenceArticle(body)
		}
		mux.HandleFunc("GET /"+f.file, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", f.contentType)
			w.Write(body)
		})
	}
	return mux
}

// withReferenceArticle returns an RSS document with the reference article
// as its first item.
func withReferenceArticle(feed []byte) []byte {
	text, err := fs.ReadFile(demoFiles, "demo/reference-article.txt")
	if err != nil {
		panic(err)
	}
	// The seed begins with " date 2025-10-29 "; its paragraphs follow.
	body := strings.TrimSpace(string(text))
	date := time.Date(2025, 10, 29, 9, 30, 0, 0, time.FixedZone("PKT", 5*3600))
	if rest, ok := strings.CutPrefix(body, "date "); ok && len(rest) > 10 {
		if d, err := time.Parse("2006-01-02", rest[:10]); err == nil {
			date = time.Date(d.Year(), d.Month(), d.Day(), 9, 30, 0, 0, time.FixedZone("PKT", 5*3600))
			body = strings.TrimSpace(rest[10:])
		}
	}
	var html strings.Builder
	for _, p := range strings.Split(body, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			html.WriteString("<p>" + p + "</p>")
		}
	}
	var item bytes.Buffer
	esc := func(s string) string {
		var b bytes.Buffer
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	fmt.Fprintf(&item, "<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
		esc(referenceTitle), esc(referenceLink), esc(referenceGUID), date.Format(time.RFC1123Z), esc(html.String()))
	i := bytes.Index(feed, []byte("<item"))
	if i < 0 {
		panic("demo feed without items")
	}
	return slices.Concat(feed[:i], item.Bytes(), feed[i:])
}

// writeDemoConfig writes the demo's config to dir/demo.toml: its feeds at
// base, a store in dir, and the rules of config.example.toml as they are
// there (name, query, channels and every other key that shapes alerts).
func writeDemoConfig(dir, base string) (string, error) {
	ex, err := config.Parse("config.example.toml", root.ExampleConfig, func(string) string { return "" })
	if err != nil {
		return "", fmt.Errorf("the embedded config.example.toml: %w", err)
	}
	q := func(s string) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(s) // a JSON string is a TOML basic string
		return strings.TrimSpace(b.String())
	}
	list := func(ss []string) string {
		var out []string
		for _, s := range ss {
			out = append(out, q(s))
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by 'wirewatch demo': its feeds, served on loopback while it runs,
# and the rules of config.example.toml.

[store]
path = %s
retention = "0"

[slack]
channel = %s

[fetch]
allow_cidrs = ["127.0.0.1/32"]

[monitor]
# Every item of the demo's feeds is new to it, however old.
backfill = "36500d"
story_window = %s
`, q(filepath.Join(dir, "demo.db")), q(ex.Slack.Channel), q(ex.Monitor.StoryWindow.String()))
	for _, f := range demoFeeds {
		fmt.Fprintf(&b, "\n[[feeds]]\nname = %s\nurl = %s\n", q(f.name), q(base+"/"+f.file))
	}
	for _, r := range ex.Rules {
		fmt.Fprintf(&b, "\n[[rules]]\nname = %s\nquery = %s\n", q(r.Name), q(r.Query))
		if len(r.Channels) > 0 {
			fmt.Fprintf(&b, "channels = %s\n", list(r.Channels))
		}
		if r.Digest != "" {
			fmt.Fprintf(&b, "digest = %s\n", q(r.Digest))
		}
		if !r.Group {
			b.WriteString("group = false\n")
		}
		if r.Cooldown > 0 {
			fmt.Fprintf(&b, "cooldown = %s\n", q(r.Cooldown.String()))
		}
		if !r.MuteUntil.IsZero() {
			fmt.Fprintf(&b, "mute_until = %s\n", r.MuteUntil.UTC().Format(time.RFC3339))
		}
	}
	path := filepath.Join(dir, "demo.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// printStories prints the stories the alerts formed, per channel: the
// alert that opened each (its Slack message, which names the other rules
// its item matched) and what went into its thread.
func printStories(ctx context.Context, w io.Writer, st store.Store) error {
	alerts, err := st.Alerts(ctx, store.AlertFilter{})
	if err != nil {
		return err
	}
	byStory := map[string][]store.Alert{}
	var heads []store.Alert
	for _, a := range alerts {
		if a.Kind != store.KindItem {
			continue
		}
		switch a.StoryID {
		case "":
			heads = append(heads, a)
		case a.ID:
			heads = append(heads, a)
		default:
			byStory[a.StoryID] = append(byStory[a.StoryID], a)
		}
	}
	slices.SortStableFunc(heads, func(x, y store.Alert) int {
		return cmp.Or(strings.Compare(x.Channel, y.Channel), x.CreatedAt.Compare(y.CreatedAt))
	})
	fmt.Fprintf(w, "STORIES (one Slack message each, naming the other rules its item matched; later reports go into its thread)\n")
	if len(heads) == 0 {
		fmt.Fprintln(w, "  none: no item matched")
	}
	for _, h := range heads {
		fmt.Fprintf(w, "  %s  %s (%s), rule %s\n", h.Channel, h.Title, h.FeedName, h.Rule)
		thread := byStory[h.ID]
		slices.SortStableFunc(thread, func(x, y store.Alert) int { return x.CreatedAt.Compare(y.CreatedAt) })
		for _, f := range thread {
			if f.FeedKey == h.FeedKey && f.ItemID == h.ItemID {
				fmt.Fprintf(w, "      in the same message: also matches rule %s\n", f.Rule)
			} else {
				fmt.Fprintf(w, "      in its thread: also reported by %s: %s\n", f.FeedName, f.Title)
			}
		}
	}
	return nil
}
