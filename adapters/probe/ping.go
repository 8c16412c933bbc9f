package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/medialuna/medialuna/domain"
)

// pingEchoes is how many echo requests a PING check sends at most, one per
// pingInterval, until the first reply.
const (
	pingEchoes   = 3
	pingInterval = time.Second
)

// errICMPNotPermitted says why no ICMP socket could be opened.
var errICMPNotPermitted = errors.New("ICMP not permitted: run as root or allow unprivileged ping with sysctl net.ipv4.ping_group_range")

// checkPing sends ICMP echo requests to the host and is up when a reply
// arrives within the timeout. ResponseTimeMs is the round trip of the echo
// that was answered.
func (c *Checker) checkPing(a *attempt) domain.CheckOutcome {
	host, _, err := parseHost(a.spec.URL)
	if err != nil {
		return downf("%v", err)
	}
	dst, err := c.resolveHost(a.ctx, host)
	if err != nil {
		return a.down(err)
	}
	if c.guard != nil {
		if err := c.guard(dst); err != nil {
			return a.down(err)
		}
	}
	s, err := openICMP(dst.Is4())
	if err != nil {
		return downf("%v", err)
	}
	defer func() { _ = s.conn.Close() }()
	stop := context.AfterFunc(a.ctx, func() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	rtt, err := s.ping(a.ctx, dst)
	if err != nil {
		if isTimeout(err) && a.ctx.Err() != context.Canceled {
			return downf("no echo reply from %s: timed out after %s", dst, formatDuration(a.timeout))
		}
		return a.down(err)
	}
	return domain.CheckOutcome{Up: true, ResponseTimeMs: milliseconds(rtt)}
}

// resolveHost returns the address of host, an IPv4 one when it has both.
func (c *Checker) resolveHost(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap(), nil
	}
	ips, err := c.hostResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			return ip.Unmap(), nil
		}
	}
	return ips[0], nil
}

// icmpSocket is an ICMP socket: a datagram ("unprivileged ping") socket,
// whose echo IDs the kernel rewrites, or a raw one, which sees every ICMP
// packet the host receives.
type icmpSocket struct {
	conn     *icmp.PacketConn
	datagram bool
	v4       bool
}

// openICMP opens a datagram ICMP socket where allowed and a raw one
// otherwise (which needs root or CAP_NET_RAW).
func openICMP(v4 bool) (*icmpSocket, error) {
	dgram, raw, laddr := "udp6", "ip6:ipv6-icmp", "::"
	if v4 {
		dgram, raw, laddr = "udp4", "ip4:icmp", "0.0.0.0"
	}
	conn, derr := icmp.ListenPacket(dgram, laddr)
	if derr == nil {
		return &icmpSocket{conn: conn, datagram: true, v4: v4}, nil
	}
	conn, rerr := icmp.ListenPacket(raw, laddr)
	if rerr == nil {
		return &icmpSocket{conn: conn, v4: v4}, nil
	}
	if notPermitted(derr) && notPermitted(rerr) {
		return nil, errICMPNotPermitted
	}
	return nil, fmt.Errorf("cannot open an ICMP socket: %w", rerr)
}

func notPermitted(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES)
}

// ping sends up to pingEchoes echo requests to dst and returns the round
// trip of the first one answered.
func (s *icmpSocket) ping(ctx context.Context, dst netip.Addr) (time.Duration, error) {
	var token [16]byte
	_, _ = rand.Read(token[:])
	id := int(binary.BigEndian.Uint16(token[:2]))
	var to net.Addr = &net.IPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}
	if s.datagram {
		to = &net.UDPAddr{IP: dst.AsSlice(), Zone: dst.Zone()}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}

	sent := make(map[int]time.Time, pingEchoes)
	buf := make([]byte, 1500)
	for seq := 1; ; seq++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if seq <= pingEchoes {
			msg, err := s.echo(id, seq, token[:])
			if err != nil {
				return 0, err
			}
			sent[seq] = time.Now()
			if _, err := s.conn.WriteTo(msg, to); err != nil {
				return 0, err
			}
		}
		wait := deadline
		if seq < pingEchoes {
			wait = minTime(deadline, time.Now().Add(pingInterval))
		}
		_ = s.conn.SetReadDeadline(wait)
		for {
			n, peer, err := s.conn.ReadFrom(buf)
			if err != nil {
				if isTimeout(err) && time.Now().Before(deadline) && ctx.Err() == nil {
					break // time to send the next echo
				}
				return 0, err
			}
			if got, ok := s.reply(buf[:n], peer, dst, id, token[:]); ok {
				if at, ok := sent[got]; ok {
					return time.Since(at), nil
				}
			}
		}
	}
}

// echo marshals an echo request.
func (s *icmpSocket) echo(id, seq int, data []byte) ([]byte, error) {
	var typ icmp.Type = ipv6.ICMPTypeEchoRequest
	if s.v4 {
		typ = ipv4.ICMPTypeEcho
	}
	// For ICMPv6 the kernel fills in the checksum.
	return (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}).Marshal(nil)
}

// reply returns the sequence number of b when it is an echo reply from dst to
// this check: the same data and, on raw sockets, the same ID. Datagram
// sockets only receive their own replies, with an ID the kernel chose.
func (s *icmpSocket) reply(b []byte, peer net.Addr, dst netip.Addr, id int, data []byte) (int, bool) {
	proto, want := 58, icmp.Type(ipv6.ICMPTypeEchoReply)
	if s.v4 {
		proto, want = 1, ipv4.ICMPTypeEchoReply
	}
	msg, err := icmp.ParseMessage(proto, b)
	if err != nil || msg.Type != want {
		return 0, false
	}
	echo, ok := msg.Body.(*icmp.Echo)
	if !ok || !bytes.Equal(echo.Data, data) || (!s.datagram && echo.ID != id) {
		return 0, false
	}
	var from net.IP
	switch p := peer.(type) {
	case *net.IPAddr:
		from = p.IP
	case *net.UDPAddr:
		from = p.IP
	}
	if ip, ok := netip.AddrFromSlice(from); !ok || ip.Unmap().WithZone("") != dst.Unmap().WithZone("") {
		return 0, false
	}
	return echo.Seq, true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
