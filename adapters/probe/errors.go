package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"time"
)

// describe turns err from a network operation of this attempt into a short
// text for users. It tells apart, in this order: a refused private target,
// a failed lookup of the target's name, a canceled check, a timeout (with
// its duration), TLS failures and the common socket errors.
func (a *attempt) describe(err error) string {
	var private *PrivateTargetError
	if errors.As(err, &private) {
		return private.Error()
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return fmt.Sprintf("DNS lookup failed for %s: no such host", dnsErr.Name)
		case dnsErr.IsTimeout || a.ctx.Err() == context.DeadlineExceeded:
			return fmt.Sprintf("DNS lookup for %s timed out after %s", dnsErr.Name, formatDuration(a.timeout))
		case errors.Is(a.ctx.Err(), context.Canceled):
			return "check canceled"
		}
		return fmt.Sprintf("DNS lookup failed for %s: %s", dnsErr.Name, dnsErr.Err)
	}
	if errors.Is(a.ctx.Err(), context.Canceled) {
		return "check canceled"
	}
	if isTimeout(err) || a.ctx.Err() != nil {
		return "timed out after " + formatDuration(a.timeout)
	}
	return describeCause(err)
}

// describeCause describes errors that are not timeouts or lookups.
func describeCause(err error) string {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return "TLS certificate verification failed: " + verr.Err.Error()
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) {
		return "TLS certificate verification failed: " + err.Error()
	}
	var record tls.RecordHeaderError
	if errors.As(err, &record) {
		return "TLS handshake failed: the server did not answer with TLS"
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return "TLS handshake failed: " + alert.Error()
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by server"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server"
	}
	// Drop the "Get "http://...": " and "dial tcp 1.2.3.4:80: " prefixes
	// that only repeat what the monitor already shows.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var operr *net.OpError
	if errors.As(err, &operr) && operr.Err != nil {
		err = operr.Err
	}
	return err.Error()
}

// isTimeout reports whether err is a deadline or timeout error.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}

// formatDuration writes d for users: "2s", "120s", "1.5s", "250ms".
func formatDuration(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.Round(time.Millisecond).String()
}
