package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("B")},
		"m/0001_a.sql":  {Data: []byte("A")},
		"m/README.md":   {Data: []byte("not a migration")},
		"m/0010.sql.gz": {Data: []byte("not a migration")},
	}, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].SQL != "A" || ms[1].Version != 2 || ms[1].Name != "0002_b.sql" {
		t.Fatalf("Load = %+v", ms)
	}
	for name, fs := range map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number": {"m/init.sql": {}},
		"duplicate": {"m/0001_a.sql": {}, "m/01_b.sql": {}},
	} {
		if _, err := Load(fs, "m"); err == nil || !strings.Contains(err.Error(), "migrations:") {
			t.Errorf("%s: Load = %v, want an error", name, err)
		}
	}
}
