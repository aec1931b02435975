package fetch

import (
	"fmt"
	"net/netip"
	"syscall"

	"code.dny.dev/ssrf"
)

// metadataAddrs are the cloud instance-metadata endpoints (AWS, GCP, Azure,
// OpenStack, Alibaba, Oracle): reaching them from a feed URL leaks
// credentials, so they get their own name in errors.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"),
	netip.MustParseAddr("169.254.170.2"),
	netip.MustParseAddr("100.100.100.200"),
	netip.MustParseAddr("fd00:ec2::254"),
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Classify names the kind of special-purpose address addr is: "loopback",
// "private", "link-local", "cloud metadata", "unspecified", "multicast",
// "carrier-grade NAT", "special-purpose". It returns "" for an ordinary
// public unicast address. The decision of what is special follows the IANA
// special-purpose registries, as maintained by code.dny.dev/ssrf.
func Classify(addr netip.Addr) string {
	addr = addr.Unmap()
	for _, m := range metadataAddrs {
		if addr == m {
			return "cloud metadata"
		}
	}
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast(), addr.IsLinkLocalMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(addr):
		return "carrier-grade NAT"
	}
	if publicGuard.SafeAddr(addr) != nil {
		return "special-purpose"
	}
	return ""
}

// publicGuard holds the deny list: the IANA special-purpose prefixes, and
// for IPv6 everything outside global unicast. NAT64 stays denied:
// 64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64 gateway.
var publicGuard = ssrf.New(ssrf.WithAnyPort())

// addressPolicy decides, at dial time, whether an address may be dialed.
type addressPolicy struct {
	allowPrivate bool
	allow        []netip.Prefix
}

// permits reports whether addr may be dialed, and if not, what it is.
func (p addressPolicy) permits(addr netip.Addr) (ok bool, what string) {
	addr = addr.Unmap()
	if p.allowPrivate {
		return true, ""
	}
	for _, pf := range p.allow {
		if pf.Contains(addr) {
			return true, ""
		}
	}
	what = Classify(addr)
	return what == "", what
}

// addressError is what the dialer's Control returns for a refused address.
type addressError struct {
	Addr netip.Addr
	What string
}

func (e *addressError) Error() string {
	return fmt.Sprintf("refused to connect to %s, a %s address (feeds on private networks need [fetch] allow_private = true, or their range in allow_cidrs)", e.Addr, e.What)
}

// control is a net.Dialer.Control: it runs after DNS resolution, for every
// address the dialer tries, on every connection (so after every redirect).
func (p addressPolicy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("cannot check address %q: %w", address, err)
	}
	if ok, what := p.permits(ap.Addr()); !ok {
		return &addressError{Addr: ap.Addr().Unmap(), What: what}
	}
	return nil
}
