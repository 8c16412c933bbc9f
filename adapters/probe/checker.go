// Package probe runs checks against targets: HTTP(S) and HEAD requests, TCP
// connects, DNS queries, SMTP and SSH banners and ICMP echo. One Checker is
// shared by all monitors of a process; Check runs one domain.CheckSpec and
// always returns a domain.CheckOutcome, with error texts written for users.
package probe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// DefaultUserAgent is sent with HTTP checks unless Config or the spec's
// headers name another.
const DefaultUserAgent = "MediaLuna/1.0 (+uptime monitor)"

// DefaultTimeout bounds a check whose spec has no timeout.
const DefaultTimeout = 30 * time.Second

// maxTimeout is the largest timeout a monitor can have; transport-level
// limits use it as a safety net, the check's context is the real bound.
const maxTimeout = 2 * time.Minute

// Config configures a Checker. The zero value is usable.
type Config struct {
	// UserAgent is sent with HTTP and HEAD checks; empty means
	// DefaultUserAgent. A User-Agent in the spec's headers wins.
	UserAgent string
	// BlockPrivateTargets refuses every address that is not globally
	// reachable: the IANA IPv4 and IPv6 special-purpose ranges (loopback,
	// private, CGNAT, link-local, benchmarking, documentation, ...),
	// multicast, IPv6 outside 2000::/3, and NAT64 or IPv4-mapped forms of
	// refused IPv4 addresses. It is checked on the resolved address at dial
	// time, before connecting, so DNS rebinding can't get around it. Set it when
	// untrusted tenants create monitors. It also applies to a DNS resolver
	// named in a spec, but not to Config.Resolver.
	BlockPrivateTargets bool
	// Resolver is the DNS server (host:port, or host for port 53) that DNS
	// checks query when the spec names none. Empty means the first
	// nameserver in /etc/resolv.conf, falling back to 127.0.0.1:53.
	Resolver string
	// HostResolver resolves the target host names of HTTP, HEAD, TCP, SMTP,
	// SSH and PING checks; nil means net.DefaultResolver.
	HostResolver *net.Resolver
}

// Checker runs checks. It holds shared, reusable resources (a dialer and one
// HTTP transport per TLS verification setting) and is safe for concurrent
// use.
type Checker struct {
	userAgent    string
	resolver     string
	hostResolver *net.Resolver
	// guard refuses the addresses BlockPrivateTargets forbids, before any
	// packet is sent to them (dials and PING); nil allows every address.
	guard func(netip.Addr) error

	dialer    *net.Dialer // resolves with hostResolver, guards private targets
	verifying *http.Transport
	insecure  *http.Transport
}

// New returns a Checker for cfg.
func New(cfg Config) *Checker {
	c := &Checker{
		userAgent:    cfg.UserAgent,
		resolver:     cfg.Resolver,
		hostResolver: cfg.HostResolver,
	}
	if cfg.BlockPrivateTargets {
		c.guard = publicOnly()
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.hostResolver == nil {
		c.hostResolver = net.DefaultResolver
	}
	c.dialer = c.newDialer()
	c.verifying = c.newTransport(true)
	c.insecure = c.newTransport(false)
	return c
}

// Check runs spec once and reports what it found. It never panics and always
// returns an outcome; it is bounded by spec.Timeout (DefaultTimeout when zero)
// and by ctx.
func (c *Checker) Check(ctx context.Context, spec domain.CheckSpec) (out domain.CheckOutcome) {
	if spec.Type == domain.TypePUSH {
		// Push monitors are not polled: the monitored job calls in, and the
		// scheduler marks the monitor down when no push arrived in time.
		return domain.CheckOutcome{Error: "push monitors are not polled"}
	}
	run, ok := c.runner(spec.Type)
	if !ok {
		return domain.CheckOutcome{Error: fmt.Sprintf("unknown monitor type %q", spec.Type)}
	}

	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); left < timeout {
			timeout = max(left, 0)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a := &attempt{ctx: ctx, spec: spec, timeout: timeout}

	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			out = domain.CheckOutcome{Error: fmt.Sprintf("internal error in %s check: %v", spec.Type, r)}
		}
		if out.ResponseTimeMs == 0 {
			out.ResponseTimeMs = milliseconds(time.Since(start))
		}
	}()
	return run(a)
}

// runner returns the function that runs checks of type t.
func (c *Checker) runner(t domain.MonitorType) (func(*attempt) domain.CheckOutcome, bool) {
	switch t {
	case domain.TypeHTTP, domain.TypeHEAD:
		return c.checkHTTP, true
	case domain.TypeTCP:
		return c.checkTCP, true
	case domain.TypeDNS:
		return c.checkDNS, true
	case domain.TypeSMTP:
		return c.checkSMTP, true
	case domain.TypeSSH:
		return c.checkSSH, true
	case domain.TypePING:
		return c.checkPing, true
	}
	return nil, false
}

// attempt is one running check: its spec, its bounded context and the
// timeout that bounds it, for error texts.
type attempt struct {
	ctx     context.Context
	spec    domain.CheckSpec
	timeout time.Duration
}

// down returns a down outcome whose error describes err.
func (a *attempt) down(err error) domain.CheckOutcome {
	return domain.CheckOutcome{Error: a.describe(err)}
}

// downf returns a down outcome with a formatted error.
func downf(format string, args ...any) domain.CheckOutcome {
	return domain.CheckOutcome{Error: fmt.Sprintf(format, args...)}
}

func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
