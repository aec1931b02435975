package opsserver_test

import (
	"database/sql"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // a second connection to the state file

	"github.com/wirewatch/wirewatch/opsserver"
	"github.com/wirewatch/wirewatch/store"
	"github.com/wirewatch/wirewatch/store/postgres"
	"github.com/wirewatch/wirewatch/store/storetest"
)

// readyz serves /readyz for st and returns a function that reads it.
func readyz(t *testing.T, st store.Store) func() (int, string) {
	t.Helper()
	s := startServer(t, opsserver.Options{Ready: opsserver.StoreReady(st, "replica-1")})
	s.SetConfig(opsserver.ConfigInfo{LoadedAt: t0})
	return func() (int, string) {
		code, _, body := get(t, "http://"+s.Addr()+"/readyz")
		return code, body
	}
}

// waitReady waits until /readyz answers want.
func waitReady(t *testing.T, ready func() (int, string), want int, what string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := ready()
		if code == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /readyz = %d %q, want %d", what, code, body, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// On PostgreSQL a working store is ready (issue 18.3: the probe read a
// key beginning with a NUL byte, which PostgreSQL refuses: /readyz was
// always 503), and a database that answers but refuses writes is not.
func TestReadyzPostgres(t *testing.T) {
	st := storetest.OpenPostgres(t)
	ready := readyz(t, st)
	if code, body := ready(); code != 200 || !strings.Contains(body, "store: ok") {
		t.Fatalf("/readyz on a working PostgreSQL = %d %q, want 200", code, body)
	}

	// The same schema through a session whose transactions are read-only,
	// as on a standby or a database set read-only by its operator.
	url := storetest.PostgresURL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	ro, err := postgres.Open(t.Context(), url+sep+"default_transaction_read_only=on",
		postgres.WithSchema(st.Schema()), postgres.WithLogger(storetest.Quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Feeds(t.Context()); err != nil {
		t.Fatalf("the read-only store cannot even read: %v", err)
	}
	code, body := readyz(t, ro)()
	if code != 503 || !strings.Contains(body, "not writable") || !strings.Contains(body, "read-only") {
		t.Fatalf("/readyz on a read-only PostgreSQL = %d %q, want 503 naming the refused write", code, body)
	}
}

// On SQLite a file that can no longer be written (here made immutable
// under the running store, as a full or read-only disk would) makes
// /readyz 503 although reads still work, and 200 again once it can.
func TestReadyzSQLiteCannotWrite(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ready := readyz(t, st)
	if code, body := ready(); code != 200 {
		t.Fatalf("/readyz = %d %q with a writable file", code, body)
	}
	files := []string{st.Path(), st.Path() + "-wal"}
	if out, err := exec.Command("chattr", append([]string{"+i"}, files...)...).CombinedOutput(); err != nil {
		t.Skipf("cannot make the state file immutable here (needs root and chattr on a filesystem that has it): %v: %s", err, out)
	}
	defer exec.Command("chattr", append([]string{"-i"}, files...)...).Run()
	if _, err := st.Feeds(t.Context()); err != nil {
		t.Fatalf("reads fail too: %v", err)
	}
	body := waitReady(t, ready, 503, "with the file immutable")
	if !strings.Contains(body, "not writable") {
		t.Errorf("/readyz body %q does not say the store cannot write", body)
	}
	if out, err := exec.Command("chattr", append([]string{"-i"}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v: %s", err, out)
	}
	waitReady(t, ready, 200, "once the file is writable again")
}

// A write that hangs (another process holds the file's write lock) makes
// /readyz 503 within its deadline, and 200 again once the lock is gone.
func TestReadyzSQLiteWriteHangs(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ready := readyz(t, st)
	if code, body := ready(); code != 200 {
		t.Fatalf("/readyz = %d %q", code, body)
	}
	other, err := sql.Open("sqlite", st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	tx, err := other.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO heartbeats (owner, at) VALUES ('other process', 1)`); err != nil {
		t.Fatal(err) // holds the write lock until the end of tx
	}
	code, body := ready()
	if code != 503 || !strings.Contains(body, "not writable") {
		t.Fatalf("/readyz while another process holds the write lock = %d %q, want 503", code, body)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ready, 200, "once the lock is released")
}
