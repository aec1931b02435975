package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenExposure(t *testing.T) {
	for listen, exposed := range map[string]bool{
		"":               false,
		"127.0.0.1:9090": false,
		"127.0.0.2:9090": false,
		"[::1]:9090":     false,
		"localhost:9090": false,
		":9090":          true,
		"0.0.0.0:9090":   true,
		"[::]:9090":      true,
		"10.0.0.5:9090":  true,
		"ops.internal:1": true,
		"not host port":  false, // a config error, reported by config
	} {
		if w := listenExposure(listen); (w != "") != exposed {
			t.Errorf("listenExposure(%q) = %q, want a warning: %v", listen, w, exposed)
		}
	}
	if w := listenExposure(":9090"); !strings.Contains(w, "every network interface") || !strings.Contains(w, "authentication") {
		t.Errorf("warning does not say what is wrong: %q", w)
	}
}

// TestListenOnAllInterfacesWarns is issue 18.10's listen part: the
// operators' endpoint has no authentication, so [http] listen = ":9090"
// (every interface) is worth a warning from check and at start.
func TestListenOnAllInterfacesWarns(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	_, p, _ := net.SplitHostPort(port)
	cfg := func(listen string) string {
		return writeConfig(t, dir, fmt.Sprintf("[store]\npath = %q\n[http]\nlisten = %q\n[[feeds]]\nname = \"F\"\nurl = \"http://127.0.0.1:1/feed\"\n[[rules]]\nname = \"R\"\nquery = \"strike\"\n",
			filepath.Join(dir, "state.db"), listen))
	}
	out, _, code := wirewatch(t, nil, "check", "-config", cfg(":"+p))
	if code != 0 || !strings.Contains(out, "warning: [http] listen") || !strings.Contains(out, "every network interface") {
		t.Errorf("check with listen %q: exit %d\n%s", ":"+p, code, out)
	}
	if out, _, _ := wirewatch(t, nil, "check", "-config", cfg("127.0.0.1:"+p)); strings.Contains(out, "[http] listen") {
		t.Errorf("check warns about a loopback address:\n%s", out)
	}
	if testing.Short() {
		return
	}
	d, _ := startDaemonWith(t, func(state, addr, _ string) string {
		_, port, _ := net.SplitHostPort(addr)
		return fmt.Sprintf("[store]\npath = %q\n[http]\nlisten = \":%s\"\n", state, port)
	})
	d.waitFor("the start-up log", func() bool { return strings.Contains(d.log(), "wirewatch running") })
	if log := d.log(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "every network interface") {
		t.Errorf("run does not warn about listening on every interface:\n%s", log)
	}
}
