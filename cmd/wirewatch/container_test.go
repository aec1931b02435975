package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStaticBinaryRunsUnprivileged checks what the container image relies
// on, since no container engine runs here: the binary built with
// CGO_ENABLED=0 is static, and runs from an empty directory as an
// unprivileged user with nothing but its config and a CA file.
func TestStaticBinaryRunsUnprivileged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("ELF and user switching are checked on Linux")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wirewatch")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test-static", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("binary has a program interpreter: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary links shared libraries: %v", libs)
	}
	f.Close()

	if os.Geteuid() != 0 {
		t.Skip("switching to an unprivileged user needs root; the static check passed")
	}
	// An empty world: a directory owned by nobody with the binary, the
	// config and a CA bundle, and no environment but SSL_CERT_FILE.
	const nobody = 65534
	root := filepath.Join(dir, "root")
	state := filepath.Join(root, "state")
	for _, d := range []string{root, state} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(state, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's folders are private to root; let nobody walk in.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	caFile := filepath.Join(root, "ca.pem")
	if err := os.WriteFile(caFile, selfSignedCA(t), 0o644); err != nil {
		t.Fatal(err)
	}
	feed, _ := feedServer(t, "reference.rss")
	cfgPath := filepath.Join(root, "config.toml")
	cfg := fmt.Sprintf("[store]\npath = \"wirewatch.db\"\n[fetch]\nallow_private = true\n[[feeds]]\nname = \"Test wire\"\nurl = %q\n", feed.URL) + exampleRules(t)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = state
		cmd.Env = []string{"SSL_CERT_FILE=" + caFile}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("version"); err != nil || !strings.Contains(out, "test-static") {
		t.Fatalf("version as nobody: %v\n%s", err, out)
	}
	if out, err := run("check", "-config", cfgPath); err != nil {
		t.Fatalf("check as nobody: %v\n%s", err, out)
	}
	out, err := run("once", "-config", cfgPath)
	if err != nil || !strings.Contains(out, "deep into Afghanistan") {
		t.Fatalf("once as nobody from an empty directory: %v\n%s", err, out)
	}
	fi, err := os.Stat(filepath.Join(state, "wirewatch.db"))
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
		t.Errorf("state file owned by uid %d, want %d", st.Uid, nobody)
	}
}

func selfSignedCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Wirewatch test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
