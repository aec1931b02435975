// Package reload owns the triggers of a configuration hot reload: SIGHUP,
// and a change of the configuration file's content. It decides when to
// reload, never what a reload does: the caller's function re-reads,
// validates and swaps.
//
// The file is watched through its DIRECTORY (and the directory its symlinks
// resolve to), not the file itself, because the usual ways a config file is
// replaced never write to the watched inode:
//   - editors save atomically: write a temporary file, rename it over the
//     original (the old inode, and a watch on it, is gone);
//   - Kubernetes mounts a ConfigMap as config.toml -> ..data/config.toml,
//     and updates it by flipping the ..data symlink to a new timestamped
//     directory (..2026_11_24_10_00_00.123) and deleting the old one.
//
// Events are debounced (a burst of writes is one reload) and the content is
// hashed, so an event that leaves the bytes as they were (touch, chmod, a
// save without changes) triggers nothing. SIGHUP always triggers, even when
// the content is unchanged: an operator asked for it (e.g. after rotating a
// token file).
package reload

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the file must be quiet before a change
// triggers a reload.
const DefaultDebounce = 500 * time.Millisecond

// maxFileBytes caps how much of a watched file is hashed.
const maxFileBytes = 16 << 20

// Options configure a Watcher. The zero value is usable.
type Options struct {
	// Debounce is how long after the last relevant event the content is
	// compared and the callback called (default DefaultDebounce). A steady
	// stream of events delays the reload by at most 4*Debounce.
	Debounce time.Duration
	// Signals trigger a reload whatever the content (default SIGHUP).
	// Set NoSignals to watch the file only.
	Signals   []os.Signal
	NoSignals bool
	// Also lists more files whose content is part of the configuration
	// (e.g. token_file secrets); a change to any of them triggers too.
	Also []string

	Logger *slog.Logger
}

// Watcher fires a callback when the configuration should be reloaded.
// Create it with New (the signal handler and the directory watches are in
// place when New returns), run it with Run, release it with Close.
type Watcher struct {
	o     Options
	files []string // absolute paths as given
	log   *slog.Logger
	fw    *fsnotify.Watcher
	sigs  chan os.Signal

	dirs      map[string]bool // watched directories
	baseDirs  map[string]bool // dirs of the given paths: always watched
	relevant  map[string]bool // absolute paths whose events matter
	lastHash  [sha256.Size]byte
	hashValid bool

	closeOnce sync.Once
}

// Watch watches path until ctx is done, calling fn (never concurrently)
// each time the configuration should be reloaded. It returns an error if
// the watch cannot be set up, and nil when ctx is done.
func Watch(ctx context.Context, path string, o Options, fn func()) error {
	w, err := New(path, o)
	if err != nil {
		return err
	}
	defer w.Close()
	return w.Run(ctx, fn)
}

// New sets up the watches on path's directory and the signal handler.
func New(path string, o Options) (*Watcher, error) {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if len(o.Signals) == 0 {
		o.Signals = []os.Signal{syscall.SIGHUP}
	}
	w := &Watcher{o: o, log: o.Logger, dirs: map[string]bool{}, baseDirs: map[string]bool{}}
	if w.log == nil {
		w.log = slog.Default()
	}
	for _, p := range append([]string{path}, o.Also...) {
		if p == "" {
			return nil, errors.New("reload: empty file path")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("reload: %s: %w", p, err)
		}
		w.files = append(w.files, abs)
		w.baseDirs[filepath.Dir(abs)] = true
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("reload: starting file watcher: %w", err)
	}
	w.fw = fw
	for d := range w.baseDirs {
		if err := fw.Add(d); err != nil {
			fw.Close()
			return nil, fmt.Errorf("reload: watching directory %s: %w", d, err)
		}
		w.dirs[d] = true
	}
	w.syncWatches()
	w.lastHash, err = w.hash()
	w.hashValid = err == nil
	if err != nil {
		w.log.Warn("config file not readable; watching for it", "path", w.files[0], "err", err)
	}
	if !o.NoSignals {
		w.sigs = make(chan os.Signal, 1)
		signal.Notify(w.sigs, o.Signals...)
	}
	return w, nil
}

// Close stops the signal handler and the file watches.
func (w *Watcher) Close() error {
	var err error
	w.closeOnce.Do(func() {
		if w.sigs != nil {
			signal.Stop(w.sigs)
		}
		err = w.fw.Close()
	})
	return err
}

// Run calls fn each time the configuration should be reloaded, until ctx
// is done (then it returns nil) or the file watcher fails for good.
func (w *Watcher) Run(ctx context.Context, fn func()) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		pending   bool
		force     bool
		firstSeen time.Time
		reason    string
	)
	schedule := func(why string, forced bool) {
		now := time.Now()
		if !pending {
			pending, firstSeen, reason = true, now, why
		}
		force = force || forced
		if forced {
			reason = why
		}
		// Trailing edge, but never more than 4*Debounce after the first
		// event, so a busy directory cannot postpone a reload forever.
		wait := min(w.o.Debounce, firstSeen.Add(4*w.o.Debounce).Sub(now))
		timer.Reset(max(wait, 0))
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case sig := <-w.sigs:
			w.log.Info("config reload requested", "signal", sig.String())
			schedule(sig.String(), true)
		case ev, ok := <-w.fw.Events:
			if !ok {
				return errors.New("reload: file watcher closed")
			}
			if w.isRelevant(ev) {
				w.log.Debug("config directory event", "event", ev.String())
				schedule("file changed", false)
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return errors.New("reload: file watcher closed")
			}
			// An overflow may have lost the event that mattered: look.
			w.log.Warn("config file watcher error", "err", err)
			schedule("file watcher error", false)
		case <-timer.C:
			pending = false
			w.syncWatches()
			h, err := w.hash()
			changed := err == nil && (!w.hashValid || h != w.lastHash)
			if err != nil {
				// Mid-swap, or deleted: the next event tells us more. A
				// forced reload still runs and reports the problem.
				w.log.Warn("config file not readable", "path", w.files[0], "err", err)
			} else {
				w.lastHash, w.hashValid = h, true
			}
			if !changed && !force {
				w.log.Debug("config file unchanged; no reload", "path", w.files[0])
				continue
			}
			force = false
			w.log.Info("config reload triggered", "reason", reason, "path", w.files[0])
			fn()
		}
	}
}

// isRelevant says whether ev may have changed a watched file's content: an
// event on the file itself, on the file a symlink resolves to, on any path
// in its symlink chain (Kubernetes' ..data), or in a resolved directory.
func (w *Watcher) isRelevant(ev fsnotify.Event) bool {
	if w.relevant[ev.Name] {
		return true
	}
	if filepath.Base(ev.Name) == "..data" {
		return true
	}
	d := filepath.Dir(ev.Name)
	return w.dirs[d] && !w.baseDirs[d]
}

// syncWatches watches the directories the files currently resolve to, and
// records the paths whose events are relevant; directories no longer on a
// file's path are unwatched (a deleted one is dropped by fsnotify itself).
func (w *Watcher) syncWatches() {
	rel := map[string]bool{}
	want := map[string]bool{}
	for d := range w.baseDirs {
		want[d] = true
	}
	for _, f := range w.files {
		rel[f] = true
		for _, p := range symlinkChain(f) {
			rel[p] = true
		}
		if r, err := filepath.EvalSymlinks(f); err == nil {
			rel[r] = true
			want[filepath.Dir(r)] = true
		}
	}
	for d := range want {
		if !w.dirs[d] {
			if err := w.fw.Add(d); err != nil {
				w.log.Debug("cannot watch directory", "dir", d, "err", err)
				continue
			}
			w.dirs[d] = true
		}
	}
	for d := range w.dirs {
		if !want[d] {
			_ = w.fw.Remove(d) // may be gone already
			delete(w.dirs, d)
		}
	}
	w.relevant = rel
}

// symlinkChain returns every path met while resolving p one component at a
// time that is itself a symlink (e.g. /cfg/config.toml and /cfg/..data).
func symlinkChain(p string) []string {
	var out []string
	for range 32 {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			// p is not a link, but one of its parents may be (..data).
			dir := filepath.Dir(p)
			if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				out = append(out, dir)
				t, err := os.Readlink(dir)
				if err != nil {
					return out
				}
				if !filepath.IsAbs(t) {
					t = filepath.Join(filepath.Dir(dir), t)
				}
				p = filepath.Join(t, filepath.Base(p))
				continue
			}
			return out
		}
		out = append(out, p)
		t, err := os.Readlink(p)
		if err != nil {
			return out
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = filepath.Clean(t)
	}
	return out
}

// hash is the SHA-256 of the watched files' contents, in order.
func (w *Watcher) hash() ([sha256.Size]byte, error) {
	h := sha256.New()
	for _, f := range w.files {
		fh, err := os.Open(f)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		_, err = io.Copy(h, io.LimitReader(fh, maxFileBytes))
		fh.Close()
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("reading %s: %w", f, err)
		}
		h.Write([]byte{0})
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}
