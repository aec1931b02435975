// Package migrate owns the reading of a backend's numbered schema migrations
// (embedded files named NNNN_description.sql). Each backend applies them in
// its own way, recording each applied version in its schema_migrations table.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads every *.sql file in dir of fsys, ordered by version. Versions
// must be positive, unique and contiguous from 1.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: %s: name must start with a positive version number", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s: expected version %d", m.Name, i+1)
		}
	}
	return ms, nil
}

// Pending returns the migrations of ms after version current, up to
// version target (0: all of them), for a backend to apply in order. A
// database whose version is newer than the newest of ms is refused: an
// older binary must not half-use it.
func Pending(ms []Migration, current, target int) ([]Migration, error) {
	if current > len(ms) {
		return nil, fmt.Errorf("database schema version %d is newer than this binary's %d", current, len(ms))
	}
	var out []Migration
	for _, m := range ms[current:] {
		if target > 0 && m.Version > target {
			break
		}
		out = append(out, m)
	}
	return out, nil
}
