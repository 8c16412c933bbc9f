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
)

// newDialer returns the dialer every TCP-based check uses: it resolves with
// the checker's host resolver and, with BlockPrivateTargets, refuses private
// addresses right before connecting, after resolution, so a name that
// resolves to a public address first and a private one later gains nothing.
func (c *Checker) newDialer() *net.Dialer {
	d := &net.Dialer{Resolver: c.hostResolver, KeepAlive: -1}
	if c.blockPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unexpected dial address %q: %w", address, err)
			}
			return checkPublic(ap.Addr())
		}
	}
	return d
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// thisNetwork is 0.0.0.0/8 (RFC 1122), which Linux treats as local.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// checkPublic returns a *PrivateTargetError when ip must not be a target
// under BlockPrivateTargets.
func checkPublic(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsUnspecified() || cgnat.Contains(ip) || thisNetwork.Contains(ip) {
		return &PrivateTargetError{Addr: ip.WithZone("")}
	}
	return nil
}

// PrivateTargetError reports a target that resolved to an address the
// checker refuses because Config.BlockPrivateTargets is set.
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
// resolution, the way checks under BlockPrivateTargets do. Other outgoing
// requests to user-given URLs (webhooks, Slack) use it on multi-tenant
// servers, so that a notification channel cannot reach the internal
// network.
func PublicOnlyDialer() *net.Dialer {
	return (&Checker{blockPrivate: true}).newDialer()
}
