package fetch

import (
	"errors"
	"net/netip"
	"testing"
)

// These addresses are only classified, never dialed.
func TestClassify(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":            "loopback",
		"127.8.9.10":           "loopback",
		"::1":                  "loopback",
		"::ffff:127.0.0.1":     "loopback",
		"10.0.0.1":             "private",
		"172.16.5.4":           "private",
		"172.31.255.255":       "private",
		"192.168.1.1":          "private",
		"::ffff:10.1.2.3":      "private",
		"fc00::1":              "private",
		"fd12:3456::1":         "private",
		"169.254.169.254":      "cloud metadata",
		"fd00:ec2::254":        "cloud metadata",
		"100.100.100.200":      "cloud metadata",
		"169.254.1.1":          "link-local",
		"fe80::1":              "link-local",
		"0.0.0.0":              "unspecified",
		"::":                   "unspecified",
		"224.0.0.1":            "multicast",
		"ff02::1":              "multicast",
		"100.64.0.1":           "carrier-grade NAT",
		"192.0.2.10":           "special-purpose", // documentation
		"198.18.0.1":           "special-purpose", // benchmarking
		"240.0.0.1":            "special-purpose", // reserved
		"64:ff9b::7f00:1":      "special-purpose", // NAT64 of 127.0.0.1
		"2001:db8::1":          "special-purpose", // documentation
		"8.8.8.8":              "",
		"151.101.1.69":         "",
		"2001:4860:4860::8888": "",
		"::ffff:8.8.8.8":       "",
		"172.32.0.1":           "",
	} {
		if got := Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestAddressPolicy(t *testing.T) {
	deny := addressPolicy{}
	allowTen := addressPolicy{allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	all := addressPolicy{allowPrivate: true}
	cases := []struct {
		p    addressPolicy
		addr string
		ok   bool
	}{
		{deny, "10.1.2.3", false},
		{deny, "8.8.8.8", true},
		{allowTen, "10.1.2.3", true},
		{allowTen, "::ffff:10.1.2.3", true},
		{allowTen, "192.168.0.1", false},
		{allowTen, "169.254.169.254", false},
		{allowTen, "8.8.8.8", true},
		{all, "192.168.0.1", true},
		{all, "169.254.169.254", true},
	}
	for _, c := range cases {
		if ok, _ := c.p.permits(netip.MustParseAddr(c.addr)); ok != c.ok {
			t.Errorf("%+v permits(%s) = %v, want %v", c.p, c.addr, ok, c.ok)
		}
	}
	// The dialer's Control hook: a function call, no socket involved.
	err := deny.control("tcp4", "192.168.1.20:80", nil)
	var ae *addressError
	if !errors.As(err, &ae) || ae.What != "private" {
		t.Errorf("control(192.168.1.20:80) = %v, want a private-address refusal", err)
	}
	if err := deny.control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("control(8.8.8.8:443) = %v", err)
	}
	if err := deny.control("tcp4", "not-an-address", nil); err == nil {
		t.Error("an unparsable address must be refused")
	}
}
