package reload_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wirewatch/wirewatch/reload"
)

// These tests use real files in t.TempDir() and real fsnotify events. None
// runs in parallel: the SIGHUP test sends the signal to the whole process.

const debounce = 100 * time.Millisecond

// harness runs a Watcher on path and records each callback with the file
// content the callback read (as a reload would).
type harness struct {
	t     *testing.T
	path  string
	calls chan string
	logs  *logBuffer
	done  chan error
}

func start(t *testing.T, path string, o reload.Options) *harness {
	t.Helper()
	h := &harness{t: t, path: path, calls: make(chan string, 100), logs: &logBuffer{}, done: make(chan error, 1)}
	if o.Debounce == 0 {
		o.Debounce = debounce
	}
	o.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := reload.New(path, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		h.done <- w.Run(ctx, func() {
			b, err := os.ReadFile(path)
			if err != nil {
				b = []byte("read error: " + err.Error())
			}
			h.calls <- string(b)
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
		w.Close()
		if t.Failed() {
			t.Logf("watcher log:\n%s", h.logs.String())
		}
	})
	return h
}

// next waits for the next callback and returns the content it read.
func (h *harness) next() string {
	h.t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no reload within 10s\nlog:\n%s", h.logs.String())
		return ""
	}
}

// expect waits for a callback that read want.
func (h *harness) expect(want string) {
	h.t.Helper()
	if got := h.next(); got != want {
		h.t.Fatalf("reload read %q, want %q", got, want)
	}
}

// none asserts that no callback is pending.
func (h *harness) none() {
	h.t.Helper()
	select {
	case c := <-h.calls:
		h.t.Fatalf("unexpected reload (read %q)", c)
	default:
	}
}

// waitLog waits until the watcher logged a line containing s n times.
func (h *harness) waitLog(s string, n int) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(h.logs.String(), s) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("watcher never logged %q %d time(s); log:\n%s", s, n, h.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// atomicSave does what editors do: write a temporary file next to the
// original, then rename it over the original.
func atomicSave(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	write(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestAtomicSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v1")
	h := start(t, path, reload.Options{NoSignals: true})
	atomicSave(t, path, "v2")
	h.expect("v2")
	// The watch survives the rename: a second save is seen too.
	atomicSave(t, path, "v3")
	h.expect("v3")
}

func TestInPlaceWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v1")
	h := start(t, path, reload.Options{NoSignals: true})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("v2 written ")
	f.WriteString("in place")
	f.Close()
	h.expect("v2 written in place")
}

// A Kubernetes ConfigMap volume: wirewatch.toml -> ..data/wirewatch.toml,
// ..data -> ..<timestamp>; an update writes a new timestamped directory,
// flips ..data to it with a rename, and deletes the old directory.
func TestKubernetesConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, name, "wirewatch.toml"), content)
	}
	flip := func(name string) {
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_11_24_10_00_00.000000001", "v1")
	flip("..2026_11_24_10_00_00.000000001")
	path := filepath.Join(dir, "wirewatch.toml")
	if err := os.Symlink("..data/wirewatch.toml", path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, reload.Options{NoSignals: true})

	version("..2026_11_24_10_05_00.000000002", "v2")
	flip("..2026_11_24_10_05_00.000000002")
	if err := os.RemoveAll(filepath.Join(dir, "..2026_11_24_10_00_00.000000001")); err != nil {
		t.Fatal(err)
	}
	h.expect("v2")

	// And again, now that the first resolved directory is gone.
	version("..2026_11_24_10_10_00.000000003", "v3")
	flip("..2026_11_24_10_10_00.000000003")
	if err := os.RemoveAll(filepath.Join(dir, "..2026_11_24_10_05_00.000000002")); err != nil {
		t.Fatal(err)
	}
	h.expect("v3")
}

// A config that is a symlink to a file in another directory, edited there.
func TestSymlinkToOtherDirectory(t *testing.T) {
	real := filepath.Join(t.TempDir(), "real.toml")
	write(t, real, "v1")
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	h := start(t, path, reload.Options{NoSignals: true})
	atomicSave(t, real, "v2")
	h.expect("v2")
}

// A burst of writes within the debounce window is one reload, which sees
// the last content.
func TestDebounceBurst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v0")
	h := start(t, path, reload.Options{NoSignals: true, Debounce: 500 * time.Millisecond})
	// Saves 10 ms apart: each one is an event well after the last, but the
	// whole burst (~100 ms) stays far inside the debounce window.
	for i := 1; i <= 10; i++ {
		atomicSave(t, path, fmt.Sprintf("v%d", i))
		time.Sleep(10 * time.Millisecond)
	}
	h.expect("v10")
	// A later change is one more reload: if the burst had fired twice, the
	// second burst call would show up here instead.
	atomicSave(t, path, "after")
	h.expect("after")
	h.none()
}

// Events that leave the content as it was trigger nothing.
func TestUnchangedContentNoReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wirewatch.toml")
	write(t, path, "same")
	h := start(t, path, reload.Options{NoSignals: true})

	atomicSave(t, path, "same") // an editor saving without changes
	h.waitLog("config file unchanged", 1)
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil { // touch
		t.Fatal(err)
	}
	h.waitLog("config file unchanged", 2)
	h.none()

	// Other files in the directory (the SQLite database, editor swap files)
	// are not the config: no reload, not even a comparison.
	write(t, filepath.Join(dir, "wirewatch.db"), "data")
	write(t, filepath.Join(dir, ".wirewatch.toml.swp"), "swap")
	atomicSave(t, path, "changed")
	h.expect("changed")
	h.none()
	// Events are handled in order, so those of the other files were seen
	// before the reload above: none may count as a config event.
	for _, other := range []string{"wirewatch.db", ".wirewatch.toml.swp"} {
		if strings.Contains(h.logs.String(), other) {
			t.Errorf("an event on %s was taken for a config change; log:\n%s", other, h.logs.String())
		}
	}
}

// SIGHUP triggers a reload even when the content is unchanged.
func TestSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v1")
	h := start(t, path, reload.Options{}) // signal.Notify is active once New returned
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	h.expect("v1")
	// A change then a SIGHUP within the debounce window: one reload.
	write(t, path, "v2")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	h.expect("v2")
	atomicSave(t, path, "v3")
	h.expect("v3")
	h.none()
}

// A deleted then recreated config file: no reload while it is missing, one
// when it is back with new content.
func TestDeletedAndRecreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v1")
	h := start(t, path, reload.Options{NoSignals: true})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.waitLog("config file not readable", 1)
	h.none()
	write(t, path, "v2")
	h.expect("v2")
}

// Also: a change to a secret file (token_file) triggers too.
func TestAlsoFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wirewatch.toml")
	write(t, path, "cfg")
	secrets := t.TempDir()
	token := filepath.Join(secrets, "slack-token")
	write(t, token, "xoxb-1")
	h := start(t, path, reload.Options{NoSignals: true, Also: []string{token}})
	atomicSave(t, token, "xoxb-2")
	h.expect("cfg")
}

func TestWatchSetupErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := reload.Watch(ctx, filepath.Join(t.TempDir(), "missing-dir", "wirewatch.toml"), reload.Options{NoSignals: true}, func() {})
	if err == nil || !strings.Contains(err.Error(), "missing-dir") {
		t.Errorf("Watch on a missing directory: %v, want an error naming it", err)
	}
	if _, err := reload.New("", reload.Options{NoSignals: true}); err == nil {
		t.Error("New with an empty path: no error")
	}
}

// Watch returns nil when its context ends.
func TestWatchStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reload.Watch(ctx, path, reload.Options{NoSignals: true}, func() {}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
}

// A file that keeps changing more often than the debounce window still
// gets reloaded while it changes (at most 4*Debounce after the first
// event), instead of waiting for a quiet moment that never comes.
func TestSteadyChangesStillReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wirewatch.toml")
	write(t, path, "v0")
	h := start(t, path, reload.Options{NoSignals: true, Debounce: 200 * time.Millisecond})
	var finished atomic.Bool
	stop := make(chan struct{})
	go func() {
		defer finished.Store(true)
		for i := 1; i <= 60; i++ { // every 50 ms for 3 s
			select {
			case <-stop:
				return
			default:
			}
			os.WriteFile(path, []byte(fmt.Sprintf("v%d", i)), 0o644)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	got := h.next()
	stillWriting := !finished.Load()
	close(stop)
	if !stillWriting {
		t.Errorf("first reload (read %q) came only after the writes stopped", got)
	}
}
