package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoFile reads a file at the repository's root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// composeFile is the part of a Compose file these tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		Build       any            `yaml:"build"`
		Volumes     []string       `yaml:"volumes"`
		Environment map[string]any `yaml:"environment"`
	} `yaml:"services"`
}

// TestComposeFiles checks what no container engine can check here: both
// Compose files mount the configuration directory (not the file, whose
// atomic replacement a single-file bind mount never shows, so hot reload
// would stop), at the directory of the image's default config path; no
// password has a default; the PostgreSQL setup refuses to start without
// one, and the SQLite setup does not ask for one.
func TestComposeFiles(t *testing.T) {
	dockerfile := repoFile(t, "Dockerfile")
	// The config path of the image's CMD and HEALTHCHECK.
	paths := regexp.MustCompile(`"-config", "([^"]+)"`).FindAllStringSubmatch(dockerfile, -1)
	if len(paths) != 2 {
		t.Fatalf("Dockerfile: want -config in CMD and HEALTHCHECK, found %d", len(paths))
	}
	cfgPath := paths[0][1]
	for _, p := range paths {
		if p[1] != cfgPath {
			t.Errorf("Dockerfile: CMD and HEALTHCHECK read different configs: %s, %s", cfgPath, p[1])
		}
	}
	cfgDir := path.Dir(cfgPath)
	if !strings.Contains(dockerfile, "COPY config.example.toml "+cfgPath) {
		t.Errorf("Dockerfile: the default config is not at %s", cfgPath)
	}

	for _, name := range []string{"compose.yaml", "compose.postgres.yaml"} {
		text := repoFile(t, name)
		var c composeFile
		if err := yaml.Unmarshal([]byte(text), &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(text, "change-me") {
			t.Errorf("%s: a default password (change-me) is still there", name)
		}
		// Every use of the password is required (${VAR:?message}).
		for _, m := range regexp.MustCompile(`\$\{WIREWATCH_DB_PASSWORD([^}]*)\}`).FindAllStringSubmatch(text, -1) {
			if !strings.HasPrefix(m[1], ":?") || len(m[1]) < 10 {
				t.Errorf("%s: ${WIREWATCH_DB_PASSWORD%s} does not refuse to start without a password (write ${WIREWATCH_DB_PASSWORD:?message})", name, m[1])
			}
		}
		uses := strings.Contains(text, "WIREWATCH_DB_PASSWORD")
		switch name {
		case "compose.yaml":
			if uses {
				t.Errorf("compose.yaml (SQLite) needs WIREWATCH_DB_PASSWORD: Compose checks it for every service of the file")
			}
		case "compose.postgres.yaml":
			if !uses {
				t.Errorf("compose.postgres.yaml does not take its password from WIREWATCH_DB_PASSWORD")
			}
			if c.Services["postgres"].Environment["POSTGRES_PASSWORD"] == nil {
				t.Errorf("compose.postgres.yaml: postgres has no POSTGRES_PASSWORD")
			}
		}
		wirewatch := 0
		for svc, s := range c.Services {
			if s.Build == nil {
				continue // not our image
			}
			wirewatch++
			mounted := false
			for _, v := range s.Volumes {
				parts := strings.Split(v, ":")
				if len(parts) < 2 {
					continue
				}
				src, dst := parts[0], parts[1]
				if strings.HasPrefix(dst, cfgDir+"/") {
					t.Errorf("%s: service %s mounts a single file (%s) into the config directory: editors' saves would not reach hot reload; mount the directory", name, svc, v)
				}
				if dst == cfgDir {
					mounted = true
					if strings.HasSuffix(src, ".toml") {
						t.Errorf("%s: service %s mounts a file at %s, want a directory", name, svc, cfgDir)
					}
				}
			}
			if !mounted {
				t.Errorf("%s: service %s does not mount a config directory at %s", name, svc, cfgDir)
			}
		}
		if wirewatch == 0 {
			t.Errorf("%s: no Wirewatch service", name)
		}
	}

	// The README shows the same directory mount, and says why.
	readme := readme(t)
	if strings.Contains(readme, "config.toml:"+cfgPath) || !strings.Contains(readme, ":"+cfgDir+":ro") {
		t.Errorf("README: the container examples should mount a directory at %s", cfgDir)
	}
}

// dockerignore is a .dockerignore read as Docker reads it: each pattern is
// a path relative to the build context (a leading / changes nothing), **
// matches any number of folders, a pattern that matches a folder leaves out
// everything in it, and a later !pattern takes a path back.
type dockerignore []string

func (d dockerignore) excludes(p string) bool {
	out := false
	for _, pat := range d {
		neg := strings.HasPrefix(pat, "!")
		pat = strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/")
		for q := p; q != "."; q = path.Dir(q) {
			if globMatch(strings.Split(pat, "/"), strings.Split(q, "/")) {
				out = !neg
				break
			}
		}
	}
	return out
}

func globMatch(pat, p []string) bool {
	if len(pat) == 0 {
		return len(p) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if globMatch(pat[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], p[0])
	return ok && globMatch(pat[1:], p[1:])
}

func readDockerignore(t *testing.T) dockerignore {
	var d dockerignore
	for _, line := range strings.Split(repoFile(t, ".dockerignore"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			d = append(d, line)
		}
	}
	return d
}

// TestDockerignore: the build context leaves out secrets, local configs,
// state files and the Git history, and what it keeps still builds the
// binary (copied to an empty folder and built there, as the Dockerfile's
// COPY . . and go build do).
func TestDockerignore(t *testing.T) {
	d := readDockerignore(t)
	for _, p := range []string{".git/HEAD", ".git", "secrets/slack_token", "secrets", "config.toml", "conf/config.toml",
		".env", "deploy/prod.env", "wirewatch.db", "wirewatch.db-wal", "var/state/wirewatch.db-shm", "monitor/parse/testdata/corpus/news/x.xml", "wirewatch"} {
		if !d.excludes(p) {
			t.Errorf(".dockerignore sends %s to the image build", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "Dockerfile", "config.example.toml", "cmd/wirewatch/main.go", "config/config.go",
		"store/sqlite/migrations/0001_init.sql", "cmd/wirewatch/demo/MANIFEST.tsv"} {
		if d.excludes(p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
	if testing.Short() {
		return
	}
	// Build from exactly what the context keeps.
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	ctx := t.TempDir()
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if d.excludes(filepath.ToSlash(rel)) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(ctx, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(ctx, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "wirewatch"), "./cmd/wirewatch")
	build.Dir = ctx
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("the build context .dockerignore leaves does not build: %v\n%s", err, out)
	}
}
