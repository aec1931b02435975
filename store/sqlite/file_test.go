package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/sqlite"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// Two processes on one state file (a `wirewatch once` next to the daemon)
// queue for the write lock instead of failing, and still alert once.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	var stores []*sqlite.Store
	for range 2 {
		s, err := sqlite.Open(path, sqlite.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	ctx := t.Context()
	if err := stores[0].SyncFeeds(ctx, []store.FeedDef{{Key: "f", URL: "http://127.0.0.1/f", Due: storetest.T0}}); err != nil {
		t.Fatal(err)
	}
	base, err := stores[1].Feed(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	queued := make([]int, 2)
	errs := make([]error, 2)
	for w, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				id := fmt.Sprintf("item-%d", i)
				f := base
				f.LastPoll = storetest.T0
				n, err := s.CommitPoll(ctx, store.Poll{Feed: f,
					Items:  []store.Item{{FeedKey: "f", ID: id, FirstSeen: storetest.T0}},
					Alerts: []store.Alert{{ID: store.AlertID("f", id, "r", "#c"), Kind: store.KindItem, Channel: "#c"}}})
				if err != nil {
					errs[w] = err
					return
				}
				queued[w] += n
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent commit through a second connection to the file: %v", err)
		}
	}
	if queued[0]+queued[1] != 40 {
		t.Fatalf("two stores queued %d + %d alerts, want 40 in all", queued[0], queued[1])
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		path string
		opts []sqlite.Option
		want string
	}{
		{"", nil, "empty path"},
		{filepath.Join(dir, "a?b.db"), nil, "must not contain"},
		{filepath.Join(dir, "ok.db"), []sqlite.Option{sqlite.WithSynchronous("sometimes")}, "synchronous"},
		{filepath.Join(dir, "missing", "dir", "x.db"), nil, "x.db"},
	} {
		s, err := sqlite.Open(tc.path, tc.opts...)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error mentioning %q", tc.path, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want it to mention %q", tc.path, err, tc.want)
		}
	}
}

// A state file written by a newer Wirewatch is refused, not half-used.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openPath(t, path)
	s.Close()
	raw, err := sqlite.Open(path, sqlite.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Pretend a newer binary applied migration 999.
	if err := raw.ExecForTest(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	err = raw.Migrate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
	}
}

// Backup makes a consistent copy while the store is in use.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	s := openPath(t, filepath.Join(dir, "live.db"))
	ctx := t.Context()
	if err := s.SyncFeeds(ctx, []store.FeedDef{{Key: "f", URL: "http://127.0.0.1/f", Due: storetest.T0}}); err != nil {
		t.Fatal(err)
	}
	f, _ := s.Feed(ctx, "f")
	if _, err := s.CommitPoll(ctx, store.Poll{Feed: f, Items: []store.Item{{ID: "i1", FirstSeen: storetest.T0}},
		Alerts: []store.Alert{{ID: "a1", Kind: store.KindItem, Channel: "#c"}}}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Backup(ctx2, backup); err != nil {
		t.Fatal(err)
	}
	b := openPath(t, backup)
	unseen, err := b.UnseenItems(ctx, "f", []string{"i1", "i2"})
	if err != nil {
		t.Fatal(err)
	}
	as, err := b.Alerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(unseen) != 1 || unseen[0] != "i2" || len(as) != 1 {
		t.Fatalf("backup holds unseen %v and %d alerts, want [i2] and 1", unseen, len(as))
	}
	if err := s.Backup(ctx, backup); err == nil {
		t.Fatal("Backup overwrote an existing file")
	}
}

func openPath(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path, sqlite.WithLogger(quiet))
	return storetest.Migrated(t, s, err)
}

// A state file with damaged pages is refused at Open with an error that
// names the file and says how to restore it (issue 18.10: it started and
// only logged warnings as queries met the damage).
func TestOpenRefusesDamagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.db")
	s, err := sqlite.Open(path, sqlite.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.QueueBacklog(t, s, "#desk", 3000) // a few hundred pages
	if err := s.Close(); err != nil {           // checkpoints the WAL into the file
		t.Fatal(err)
	}
	// Scribble over a page in the middle of the file, as a bad disk or a
	// cp of a live file would.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	off := (st.Size() / page / 2) * page
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, page), off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, err = sqlite.Open(path, sqlite.WithLogger(quiet))
	if err == nil {
		t.Fatal("Open accepted a file with a damaged page")
	}
	if !errors.Is(err, sqlite.ErrDamaged) {
		t.Errorf("Open error %q does not wrap ErrDamaged", err)
	}
	for _, want := range []string{path, "damaged", "backup", ".recover"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error lacks %q: %v", want, err)
		}
	}
}
