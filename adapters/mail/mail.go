// Package mail sends email over SMTP (plain, STARTTLS or implicit TLS, with
// optional PLAIN auth). When no server is configured, the log mailer writes
// messages to the log instead, so a new install still shows invite links.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// Config describes the SMTP server.
type Config struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	TLS      string // "none", "starttls" (default when the server offers it) or "tls"
	Timeout  time.Duration
}

// SMTP sends mail through one server.
type SMTP struct{ cfg Config }

// NewSMTP returns a mailer for cfg.
func NewSMTP(cfg Config) *SMTP {
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
	}
	return &SMTP{cfg: cfg}
}

// Send delivers one plain-text message.
func (s *SMTP) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to, "\r\n") || strings.ContainsAny(subject, "\r\n") {
		return &RejectedError{Err: fmt.Errorf("refusing header injection in recipient or subject")}
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", s.cfg.Addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	dialer := &net.Dialer{}
	var conn net.Conn
	if s.cfg.TLS == "tls" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", s.cfg.Addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("connect to smtp server %s: %w", s.cfg.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp greeting from %s: %w", s.cfg.Addr, err)
	}
	defer c.Close()
	if s.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
				return fmt.Errorf("smtp STARTTLS: %w", err)
			}
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	from, err := netmail.ParseAddress(s.cfg.From)
	if err != nil {
		return &RejectedError{Err: fmt.Errorf("from address %q: %w", s.cfg.From, err)}
	}
	if err := c.Mail(from.Address); err != nil {
		return classify(fmt.Errorf("smtp MAIL FROM: %w", err))
	}
	if err := c.Rcpt(to); err != nil {
		return classify(fmt.Errorf("smtp RCPT TO %s: %w", to, err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	msg := "From: " + s.cfg.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(body, "\n", "\r\n")
	if _, err := w.Write([]byte(msg)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of data: %w", err)
	}
	return c.Quit()
}

// RejectedError is a failure that retrying cannot fix: the server refused
// the message for good (an SMTP 5xx reply) or the message itself is bad.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// Permanent tells retrying callers to give up on this message.
func (e *RejectedError) Permanent() bool { return true }

// classify marks SMTP 5xx replies as permanent; everything else (4xx,
// network trouble) is worth retrying.
func classify(err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return &RejectedError{Err: err}
	}
	return err
}

// Log "sends" mail by logging it: the default when no SMTP server is set.
type Log struct{ log *slog.Logger }

// NewLog returns the logging mailer.
func NewLog(log *slog.Logger) *Log { return &Log{log: log} }

// Send logs the message.
func (l *Log) Send(ctx context.Context, to, subject, body string) error {
	l.log.Info("email (no SMTP server configured)", "to", to, "subject", subject, "body", body)
	return nil
}
