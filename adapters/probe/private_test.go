package probe_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

// refusedText is the error of a check whose target address was refused.
func refusedText(addr string) string {
	return "target address " + addr + " is private; this server refuses private targets"
}

// TestBlockPrivateTargets runs every check type against real servers on
// loopback: with BlockPrivateTargets the check is refused and the server
// never sees a connection; without it, the check is up.
func TestBlockPrivateTargets(t *testing.T) {
	var webConns atomic.Int64
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	web.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			webConns.Add(1)
		}
	}
	web.Start()
	t.Cleanup(web.Close)
	var tcpConns atomic.Int64
	tcp := serveTCP(t, "tcp", "127.0.0.1:0", func(c net.Conn) { tcpConns.Add(1); drain(c) })
	dnsServer := startDNS(t)
	refused := func(addr string) domain.CheckOutcome { return domain.CheckOutcome{Error: refusedText(addr)} }
	tests := []struct {
		name string
		spec domain.CheckSpec
		// blocked is the outcome with BlockPrivateTargets; without it the
		// check is up.
		blocked domain.CheckOutcome
		conns   *atomic.Int64 // connections the server saw, when counted
	}{
		{"HTTP", domain.CheckSpec{Type: domain.TypeHTTP, URL: web.URL}, refused("127.0.0.1"), &webConns},
		{"HTTP by name", domain.CheckSpec{Type: domain.TypeHTTP, URL: strings.Replace(web.URL, "127.0.0.1", "app.example.test", 1)}, refused("127.0.0.1"), &webConns},
		{"HTTP to IPv4-mapped loopback", domain.CheckSpec{Type: domain.TypeHTTP, URL: strings.Replace(web.URL, "127.0.0.1", "[::ffff:127.0.0.1]", 1)}, refused("127.0.0.1"), &webConns},
		{"HEAD", domain.CheckSpec{Type: domain.TypeHEAD, URL: web.URL}, refused("127.0.0.1"), &webConns},
		{"TCP", domain.CheckSpec{Type: domain.TypeTCP, URL: tcp}, refused("127.0.0.1"), &tcpConns},
		{"TCP by name", domain.CheckSpec{Type: domain.TypeTCP, URL: "app.example.test", Port: port(t, tcp)}, refused("127.0.0.1"), &tcpConns},
		{"SMTP", domain.CheckSpec{Type: domain.TypeSMTP, URL: startSMTP(t)}, refused("127.0.0.1"), nil},
		{"SSH", domain.CheckSpec{Type: domain.TypeSSH, URL: startSSH(t)}, refused("127.0.0.1"), nil},
		{"PING", domain.CheckSpec{Type: domain.TypePING, URL: "127.0.0.1"}, refused("127.0.0.1"), nil},
		{"DNS resolver named in the spec", domain.CheckSpec{Type: domain.TypeDNS, URL: "example.test", DNSResolver: dnsServer}, domain.CheckOutcome{
			Error: "DNS query to " + dnsServer + " failed: " + refusedText("127.0.0.1"),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Timeout = 5 * time.Second
			resolver := testResolver(dnsServer)
			var before int64
			if tt.conns != nil {
				before = tt.conns.Load()
			}
			got := check(t, probe.New(probe.Config{BlockPrivateTargets: true, HostResolver: resolver}), tt.spec)
			if d := cmp.Diff(tt.blocked, got, ignoreTiming); d != "" {
				t.Errorf("blocked outcome (-want +got):\n%s", d)
			}
			if tt.conns != nil {
				if n := tt.conns.Load() - before; n != 0 {
					t.Errorf("the refused target saw %d connections", n)
				}
			}
			allowed := check(t, probe.New(probe.Config{HostResolver: resolver}), tt.spec)
			if strings.HasPrefix(allowed.Error, "ICMP not permitted") {
				t.Skip(allowed.Error)
			}
			if !allowed.Up {
				t.Errorf("without BlockPrivateTargets: want up, got %+v", allowed)
			}
			if tt.conns != nil {
				// The server counts on its side, maybe after the check
				// returned; wait, so the next case starts from a settled count.
				deadline := time.Now().Add(5 * time.Second)
				for tt.conns.Load() == before && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
				if n := tt.conns.Load() - before; n != 1 {
					t.Errorf("the server saw %d connections, want 1: the check without BlockPrivateTargets", n)
				}
			}
		})
	}
}

// TestBlockPrivateTargetsRefusesBeforeConnecting aims every check type at
// non-loopback addresses the rule must refuse (the ones the issue found
// dialled, among others), and at public ones it must allow. Nothing is sent
// to any of them: the checker is tripwired, so an address the rule lets
// through is recorded and refused right there, before connect(2) or the
// ICMP echo.
func TestBlockPrivateTargetsRefusesBeforeConnecting(t *testing.T) {
	blocked := []string{
		"64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
		"2002:7f00:1::1",     // 6to4 of 127.0.0.1
		"fec0::1",            // site-local
		"::127.0.0.1",        // IPv4-compatible loopback
		"198.18.0.1",         // benchmarking
		"169.254.169.254",    // cloud metadata
		"10.0.0.1",
		"fd00::1",
		"192.0.2.1",
		"224.0.0.1",
		"ff02::1",
	}
	public := []string{"8.8.8.8", "64:ff9b::808:808", "2001:4860:4860::8888"}
	specs := func(addr string) map[string]domain.CheckSpec {
		host := addr
		if netip.MustParseAddr(addr).Is6() {
			host = "[" + addr + "]"
		}
		return map[string]domain.CheckSpec{
			"HTTP": {Type: domain.TypeHTTP, URL: "http://" + host + "/"},
			"HEAD": {Type: domain.TypeHEAD, URL: "https://" + host + "/"},
			"TCP":  {Type: domain.TypeTCP, URL: addr, Port: 5432},
			"SMTP": {Type: domain.TypeSMTP, URL: host + ":25"},
			"SSH":  {Type: domain.TypeSSH, URL: host},
			"PING": {Type: domain.TypePING, URL: addr},
			"DNS":  {Type: domain.TypeDNS, URL: "example.test", DNSResolver: host},
		}
	}
	dnsServer := startDNS(t)
	newChecker := func(t *testing.T) (*probe.Checker, func() []netip.Addr) {
		c := probe.New(probe.Config{BlockPrivateTargets: true, HostResolver: testResolver(dnsServer)})
		var mu sync.Mutex
		var passed []netip.Addr
		probe.Tripwire(c, func(ip netip.Addr) { mu.Lock(); passed = append(passed, ip); mu.Unlock() })
		return c, func() []netip.Addr { mu.Lock(); defer mu.Unlock(); return passed }
	}
	for _, addr := range blocked {
		for typ, spec := range specs(addr) {
			t.Run(typ+" "+addr, func(t *testing.T) {
				c, passed := newChecker(t)
				spec.Timeout = 5 * time.Second
				got := check(t, c, spec)
				want := refusedText(netip.MustParseAddr(addr).String())
				if typ == "DNS" {
					server := net.JoinHostPort(addr, "53")
					want = "DNS query to " + server + " failed: " + want
				}
				if got.Up || got.Error != want {
					t.Errorf("outcome = %+v, want error %q", got, want)
				}
				if p := passed(); len(p) != 0 {
					t.Errorf("the rule let %v through", p)
				}
			})
		}
	}
	for _, addr := range public {
		for typ, spec := range specs(addr) {
			t.Run(typ+" public "+addr, func(t *testing.T) {
				c, passed := newChecker(t)
				spec.Timeout = 5 * time.Second
				got := check(t, c, spec)
				if got.Up {
					t.Errorf("a tripwired check is up: %+v", got)
				}
				if p := passed(); len(p) == 0 || p[0] != netip.MustParseAddr(addr) {
					t.Errorf("the rule let %v through, want %s (outcome %+v)", p, addr, got)
				}
			})
		}
	}
	t.Run("HTTP by name to NAT64 loopback", func(t *testing.T) {
		c, passed := newChecker(t)
		got := check(t, c, domain.CheckSpec{Type: domain.TypeHTTP, URL: "http://nat64.example.test/", Timeout: 5 * time.Second})
		if want := refusedText("64:ff9b::7f00:1"); got.Error != want {
			t.Errorf("outcome = %+v, want error %q", got, want)
		}
		if p := passed(); len(p) != 0 {
			t.Errorf("the rule let %v through", p)
		}
	})
}

// The operator's own resolver may be private even when targets may not.
func TestBlockPrivateTargetsTrustsConfiguredResolver(t *testing.T) {
	c := probe.New(probe.Config{BlockPrivateTargets: true, Resolver: startDNS(t)})
	got := check(t, c, domain.CheckSpec{Type: domain.TypeDNS, URL: "example.test", DNSRecordType: "AAAA", Timeout: 5 * time.Second})
	if d := cmp.Diff(domain.CheckOutcome{Up: true, Detail: "2001:db8::1"}, got, ignoreTiming); d != "" {
		t.Errorf("outcome (-want +got):\n%s", d)
	}
}

// specialPurpose is every entry of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (iana-ipv4-special-registry,
// iana-ipv6-special-registry, as of 2025), and the ranges outside them that
// are not public either. All are refused. Entries IANA marks globally
// reachable (a few anycast services and AS112) sit inside blocks that are
// not, and the rule refuses the whole block; no monitor has reason to target
// them.
var specialPurpose = []struct {
	prefix string
	name   string
	// embedsIPv4: decided on the IPv4 address in the last 32 bits, so only
	// the first (0.0.0.0) and last (255.255.255.255) are refused here; see
	// TestCheckPublicEmbeddedForms and TestCheckPublicAllowsPublic.
	embedsIPv4 bool
}{
	// IPv4 special-purpose registry.
	{"0.0.0.0/8", `"This network" (RFC 791)`, false},
	{"0.0.0.0/32", `"This host on this network" (RFC 1122)`, false},
	{"10.0.0.0/8", "Private-Use (RFC 1918)", false},
	{"100.64.0.0/10", "Shared Address Space, CGNAT (RFC 6598)", false},
	{"127.0.0.0/8", "Loopback (RFC 1122)", false},
	{"169.254.0.0/16", "Link Local (RFC 3927)", false},
	{"172.16.0.0/12", "Private-Use (RFC 1918)", false},
	{"192.0.0.0/24", "IETF Protocol Assignments (RFC 6890)", false},
	{"192.0.0.0/29", "IPv4 Service Continuity Prefix (RFC 7335)", false},
	{"192.0.0.8/32", "IPv4 dummy address (RFC 7600)", false},
	{"192.0.0.9/32", "Port Control Protocol Anycast (RFC 7723), globally reachable, refused with 192.0.0.0/24", false},
	{"192.0.0.10/32", "TURN Anycast (RFC 8155), globally reachable, refused with 192.0.0.0/24", false},
	{"192.0.0.170/32", "NAT64/DNS64 Discovery (RFC 8880)", false},
	{"192.0.0.171/32", "NAT64/DNS64 Discovery (RFC 8880)", false},
	{"192.0.2.0/24", "Documentation TEST-NET-1 (RFC 5737)", false},
	{"192.31.196.0/24", "AS112-v4 (RFC 7535), globally reachable, refused", false},
	{"192.52.193.0/24", "AMT (RFC 7450), globally reachable, refused", false},
	{"192.88.99.0/24", "Deprecated 6to4 Relay Anycast (RFC 7526)", false},
	{"192.88.99.2/32", "6a44-relay anycast (RFC 6751)", false},
	{"192.168.0.0/16", "Private-Use (RFC 1918)", false},
	{"192.175.48.0/24", "Direct Delegation AS112 Service (RFC 7534), globally reachable, refused", false},
	{"198.18.0.0/15", "Benchmarking (RFC 2544)", false},
	{"198.51.100.0/24", "Documentation TEST-NET-2 (RFC 5737)", false},
	{"203.0.113.0/24", "Documentation TEST-NET-3 (RFC 5737)", false},
	{"240.0.0.0/4", "Reserved (RFC 1112)", false},
	{"255.255.255.255/32", "Limited Broadcast (RFC 919)", false},
	// Not in the IPv4 registry.
	{"224.0.0.0/4", "Multicast (RFC 5771)", false},

	// IPv6 special-purpose registry.
	{"::1/128", "Loopback Address (RFC 4291)", false},
	{"::/128", "Unspecified Address (RFC 4291)", false},
	{"::ffff:0:0/96", "IPv4-mapped Address (RFC 4291), decided as IPv4", true},
	{"64:ff9b::/96", "IPv4-IPv6 Translation, NAT64 (RFC 6052), decided on the embedded IPv4", true},
	{"64:ff9b:1::/48", "Local-Use IPv4/IPv6 Translation (RFC 8215)", false},
	{"100::/64", "Discard-Only Address Block (RFC 6666)", false},
	{"100:0:0:1::/64", "Dummy IPv6 Prefix (RFC 9780)", false},
	{"2001::/23", "IETF Protocol Assignments (RFC 2928)", false},
	{"2001::/32", "TEREDO (RFC 4380)", false},
	{"2001:1::1/128", "Port Control Protocol Anycast (RFC 7723), globally reachable, refused with 2001::/23", false},
	{"2001:1::2/128", "TURN Anycast (RFC 8155), globally reachable, refused with 2001::/23", false},
	{"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast (RFC 9665), globally reachable, refused with 2001::/23", false},
	{"2001:2::/48", "Benchmarking (RFC 5180)", false},
	{"2001:3::/32", "AMT (RFC 7450), globally reachable, refused with 2001::/23", false},
	{"2001:4:112::/48", "AS112-v6 (RFC 7535), globally reachable, refused with 2001::/23", false},
	{"2001:10::/28", "Deprecated ORCHID (RFC 4843)", false},
	{"2001:20::/28", "ORCHIDv2 (RFC 7343), globally reachable, refused with 2001::/23", false},
	{"2001:30::/28", "Drone Remote ID Protocol Entity Tags (RFC 9374), globally reachable, refused with 2001::/23", false},
	{"2001:db8::/32", "Documentation (RFC 3849)", false},
	{"2002::/16", "6to4 (RFC 3056), whatever IPv4 address it embeds", false},
	{"2620:4f:8000::/48", "Direct Delegation AS112 Service (RFC 7534), globally reachable, refused", false},
	{"3fff::/20", "Documentation (RFC 9637)", false},
	{"5f00::/16", "Segment Routing (SRv6) SIDs (RFC 9602)", false},
	{"fc00::/7", "Unique-Local (RFC 4193)", false},
	{"fe80::/10", "Link-Local Unicast (RFC 4291)", false},
	// Not in the IPv6 registry: everything outside global unicast 2000::/3.
	{"::/96", "IPv4-compatible, deprecated (RFC 4291)", false},
	{"fec0::/10", "Site-local, deprecated (RFC 3879)", false},
	{"ff00::/8", "Multicast (RFC 4291)", false},
	{"4000::/3", "Unassigned, outside 2000::/3", false},
	{"8000::/1", "Unassigned, outside 2000::/3", false},
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestCheckPublicSpecialPurpose refuses the first, middle and last
// address of every special-purpose range. The addresses only feed the
// classification; nothing is sent to them.
func TestCheckPublicSpecialPurpose(t *testing.T) {
	for _, r := range specialPurpose {
		t.Run(r.prefix+" "+r.name, func(t *testing.T) {
			p := netip.MustParsePrefix(r.prefix)
			first, last := p.Addr(), lastAddr(p)
			middle := first // the first address of the upper half
			if i := p.Bits(); i < first.BitLen() && !r.embedsIPv4 {
				b := first.AsSlice()
				b[i/8] |= 0x80 >> (i % 8)
				middle, _ = netip.AddrFromSlice(b)
			}
			for _, a := range slices.Compact([]netip.Addr{first, middle, last}) {
				if !p.Contains(a) {
					t.Fatalf("test bug: %s is not in %s", a, p)
				}
				if err := probe.CheckPublic(a); err == nil {
					t.Errorf("CheckPublic(%s) allowed an address of %s", a, p)
				}
			}
		})
	}
}

// TestCheckPublicEmbeddedForms: addresses that carry an IPv4 address, and
// the deprecated IPv6 forms, that reached the dialer before; the error names
// the address as given.
func TestCheckPublicEmbeddedForms(t *testing.T) {
	for _, addr := range []string{
		"64:ff9b::7f00:1",                      // NAT64 of 127.0.0.1
		"64:ff9b::a9fe:a9fe",                   // NAT64 of 169.254.169.254
		"64:ff9b::a00:1",                       // NAT64 of 10.0.0.1
		"64:ff9b::c612:1",                      // NAT64 of 198.18.0.1
		"64:ff9b:1::7f00:1",                    // local-use NAT64
		"2002:7f00:1::1",                       // 6to4 of 127.0.0.1
		"2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
		"2002:808:808::1",                      // 6to4 of a public address: 6to4 is refused outright
		"2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo
		"fec0::1",                              // site-local
		"::127.0.0.1",                          // IPv4-compatible
		"::169.254.169.254",                    // IPv4-compatible
		"::ffff:127.0.0.1",                     // IPv4-mapped
		"::ffff:169.254.169.254",               // IPv4-mapped
		"::ffff:198.18.0.1",                    // IPv4-mapped
		"198.18.0.1",                           // benchmarking
		"198.19.255.255",                       // benchmarking
		"fe80::1%eth0",                         // link-local with a zone
	} {
		ip := netip.MustParseAddr(addr)
		err := probe.CheckPublic(ip)
		if err == nil {
			t.Errorf("CheckPublic(%s) allowed it", addr)
			continue
		}
		var refused *probe.PrivateTargetError
		if !errors.As(err, &refused) || refused.Addr != ip.WithZone("").Unmap() {
			t.Errorf("CheckPublic(%s) = %#v, want a *PrivateTargetError for %s", addr, err, ip.WithZone("").Unmap())
		}
	}
	err := probe.CheckPublic(netip.MustParseAddr("::ffff:192.168.0.1"))
	if want := refusedText("192.168.0.1"); err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestCheckPublicAllowsPublic: globally reachable addresses, some right
// next to refused ranges, pass. Classification only; nothing is dialled.
func TestCheckPublicAllowsPublic(t *testing.T) {
	for _, addr := range []string{
		"8.8.8.8",
		"1.1.1.1",
		"9.255.255.255", "11.0.0.0", // around 10.0.0.0/8
		"100.63.255.255", "100.128.0.0", // around 100.64.0.0/10
		"126.255.255.255", "128.0.0.0", // around 127.0.0.0/8
		"169.253.255.255", "169.255.0.0",
		"172.15.255.255", "172.32.0.0",
		"192.0.1.255", "192.0.3.0",
		"192.167.255.255", "192.169.0.0",
		"198.17.255.255", "198.20.0.0", // around 198.18.0.0/15
		"198.51.99.255", "198.51.101.0",
		"203.0.112.255", "203.0.114.0",
		"223.255.255.255",      // below multicast
		"::ffff:8.8.8.8",       // IPv4-mapped public
		"64:ff9b::808:808",     // NAT64 of 8.8.8.8
		"64:ff9b::101:101",     // NAT64 of 1.1.1.1
		"2001:200::1",          // just past 2001::/23
		"2001:4860:4860::8888", // Google DNS
		"2606:4700:4700::1111", // Cloudflare DNS
		"2a00:1450:4001::1",
		"2003::1",                 // just past 6to4
		"3ffe::1", "3ffe:ffff::1", // just below 3fff::/20
	} {
		if err := probe.CheckPublic(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("CheckPublic(%s) = %v, want it allowed", addr, err)
		}
	}
}

// BenchmarkCheckPublic is the cost the rule adds to each dial under
// BlockPrivateTargets, for a public IPv4, IPv6 and NAT64 address (which
// pass every prefix) and a refused one.
func BenchmarkCheckPublic(b *testing.B) {
	for _, addr := range []string{"8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "198.18.0.1"} {
		ip := netip.MustParseAddr(addr)
		b.Run(addr, func(b *testing.B) {
			for b.Loop() {
				_ = probe.CheckPublic(ip)
			}
		})
	}
}
