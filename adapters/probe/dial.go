package probe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// newDialer returns the dialer every TCP-based check uses: it resolves with
// the checker's host resolver and, with BlockPrivateTargets, refuses
// non-public addresses right before connecting, after resolution, so a name
// that resolves to a public address first and a private one later gains
// nothing. The Control hook runs before connect(2), so a refused address is
// never sent a packet.
func (c *Checker) newDialer() *net.Dialer {
	d := &net.Dialer{Resolver: c.hostResolver, KeepAlive: -1}
	if c.guard != nil {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unexpected dial address %q: %w", address, err)
			}
			return c.guard(ap.Addr())
		}
	}
	return d
}

// nat64 is the well-known prefix of IPv4/IPv6 translation (RFC 6052), which
// IANA lists as globally reachable: the IPv4 address in its last 32 bits
// is the one a NAT64 gateway connects to.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// publicOnly returns the rule of BlockPrivateTargets: a *PrivateTargetError
// for any address that is not globally reachable. The ranges come from
// code.dny.dev/ssrf, which is generated from the IANA IPv4 and IPv6
// special-purpose address registries: every IPv4 entry (private, shared,
// loopback, link-local, documentation, benchmarking, reserved, ...) and
// multicast, and every IPv6 address outside 2000::/3 (loopback,
// unspecified, IPv4-compatible, site-local, unique-local, link-local,
// multicast, discard, NAT64 local use) or in a special-purpose block inside
// it (2001::/23 with Teredo, documentation, 6to4 2002::/16, ...). The
// library denies whole IANA blocks, a few anycast services inside them
// included; no monitor has reason to target those.
//
// Two forms are decided on the IPv4 address they carry, so that they are
// neither a way around the IPv4 rule nor refused when it allows them:
// IPv4-mapped ::ffff:a.b.c.d, which the kernel dials as IPv4, and NAT64
// 64:ff9b::a.b.c.d, which a NAT64 gateway forwards to a.b.c.d (the library
// would refuse all of NAT64, cutting IPv6-only hosts off from every IPv4
// target).
func publicOnly() func(netip.Addr) error {
	g := ssrf.New(ssrf.WithAnyNetwork(), ssrf.WithAnyPort())
	return func(ip netip.Addr) error {
		ip = ip.WithZone("").Unmap()
		check := ip
		if nat64.Contains(ip) {
			b := ip.As16()
			check = netip.AddrFrom4([4]byte(b[12:]))
		}
		if err := g.SafeAddr(check); err != nil {
			return &PrivateTargetError{Addr: ip}
		}
		return nil
	}
}

// PrivateTargetError reports a target that resolved to an address the
// checker refuses because Config.BlockPrivateTargets is set: one that is
// not globally reachable (see publicOnly), private or not.
type PrivateTargetError struct {
	Addr netip.Addr
}

// Error says which address was refused.
func (e *PrivateTargetError) Error() string {
	return fmt.Sprintf("target address %s is private; this server refuses private targets", e.Addr)
}

// target is a host and port taken from a spec's URL and Port.
type target struct {
	host string
	port int
}

func (t target) addr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// parseHost reads a host and an optional port from raw, which may be a bare
// host or address, host:port, [v6]:port or a URL such as tcp://host:port.
func parseHost(raw string) (host, port string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", fmt.Errorf("no target host given")
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")); err == nil {
		return ip.String(), "", nil // a bare address, IPv6 without a port included
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", "", fmt.Errorf("invalid target %q: expected a host, host:port or URL", raw)
	}
	return u.Hostname(), u.Port(), nil
}

// parseTarget reads a target from raw (see parseHost). specPort wins over a
// port in raw when set; defaultPort is used when neither has one (0 means a
// port is required).
func parseTarget(raw string, specPort, defaultPort int) (target, error) {
	host, port, err := parseHost(raw)
	if err != nil {
		return target{}, err
	}
	t := target{host: host, port: defaultPort}
	switch {
	case specPort != 0:
		t.port = specPort
	case port != "":
		p, err := strconv.Atoi(port)
		if err != nil {
			return target{}, fmt.Errorf("invalid port %q in %q", port, raw)
		}
		t.port = p
	}
	if t.port == 0 {
		return target{}, fmt.Errorf("no port given for %s", host)
	}
	if t.port < 1 || t.port > 65535 {
		return target{}, fmt.Errorf("invalid port %d: must be 1-65535", t.port)
	}
	return t, nil
}

// dial connects to t over TCP, bounded by the attempt's context, and sets the
// connection's deadline to the context's. The connection is closed when the
// context is canceled.
func (c *Checker) dial(a *attempt, t target) (net.Conn, func(), error) {
	conn, err := c.dialer.DialContext(a.ctx, "tcp", t.addr())
	if err != nil {
		return nil, nil, err
	}
	if deadline, ok := a.ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(a.ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return conn, func() { stop(); _ = conn.Close() }, nil
}

// PublicOnlyDialer returns a dialer that refuses private addresses after
// resolution, with the same rule as checks under BlockPrivateTargets. Other outgoing
// requests to user-given URLs (webhooks, Slack) use it on multi-tenant
// servers, so that a notification channel cannot reach the internal
// network.
func PublicOnlyDialer() *net.Dialer {
	return (&Checker{guard: publicOnly()}).newDialer()
}
