package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/wirewatch/wirewatch/config"
)

// listenExposure returns a warning when [http] listen puts the operators'
// endpoint beyond loopback: it has no authentication, and its status page
// and metrics tell whoever reaches it which feeds are watched and what was
// alerted. "" when listen is off, on a loopback address, or not host:port
// (a config error reported elsewhere). In a container, where the port is
// published explicitly, "0.0.0.0:9090" is usual and the warning expected.
func listenExposure(listen string) string {
	if listen == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	const advice = "it has no authentication: keep it on 127.0.0.1, or behind a proxy or firewall that checks who may see it"
	ip, ipErr := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	switch {
	case host == "" || (ipErr == nil && ip.IsUnspecified()):
		return fmt.Sprintf("[http] listen = %q serves the status page and metrics on every network interface; %s", listen, advice)
	case strings.EqualFold(host, "localhost") || (ipErr == nil && ip.IsLoopback()):
		return ""
	default:
		return fmt.Sprintf("[http] listen = %q is not a loopback address, so the status page and metrics are reachable from the network; %s", listen, advice)
	}
}

// listenProblem is listenExposure as a warning of `check`, at the line of
// the listen key when the file has it in an [http] table.
func listenProblem(cfg *config.Config) (config.Problem, bool) {
	w := listenExposure(cfg.HTTP.Listen)
	if w == "" {
		return config.Problem{}, false
	}
	p := config.Problem{File: cfg.Path, Msg: w, Warning: true}
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		return p, true
	}
	table := ""
	for i, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(s, "["):
			table = strings.TrimSpace(strings.Trim(strings.SplitN(s, "#", 2)[0], "[] \t"))
		case table == "http" && strings.HasPrefix(s, "listen") && strings.HasPrefix(strings.TrimSpace(s[len("listen"):]), "="):
			p.Line, p.Col = i+1, strings.Index(line, "listen")+1
			return p, true
		}
	}
	return p, true
}
