// Package notifyerr is the error type the notification senders under
// adapters/notify share, so that the code retrying deliveries asks one
// question of any of them: errors.As(err, &p) && p.Permanent(). Permanent
// failures (the service refused the request, the channel or the server is
// misconfigured) are not retried, because retrying cannot fix them; every
// other failure (5xx, 408, 429, timeouts, connection errors) is.
//
// It depends on the standard library only, so that senders can import it
// without importing each other.
package notifyerr

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxBody is how much of a service's response body an error message quotes:
// enough for the service's own explanation, not enough to flood logs.
const MaxBody = 300

// Error is a failed delivery.
type Error struct {
	Status    int // the service's HTTP status; 0 when there was no response
	Err       error
	permanent bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying the delivery cannot succeed.
func (e *Error) Permanent() bool { return e.permanent }

// FromStatus is the error for an unexpected HTTP status from service,
// quoting the start of its response body. 4xx answers other than 408 and
// 429 are permanent, and so are 3xx (a redirect the client did not follow
// means the endpoint moved, which no retry fixes); anything else is
// temporary.
func FromStatus(service string, status int, body []byte) error {
	msg := fmt.Sprintf("%s answered HTTP %d %s", service, status, http.StatusText(status))
	if b := Excerpt(body); b != "" {
		msg += ": " + b
	}
	permanent := (status >= 300 && status < 500) && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
	return &Error{Status: status, Err: errors.New(msg), permanent: permanent}
}

// Permanent marks err as a failure retrying cannot fix. Nil stays nil.
func Permanent(err error) error { return mark(err, true) }

// Temporary marks err as worth retrying. Nil stays nil.
func Temporary(err error) error { return mark(err, false) }

// Transport marks an error of the HTTP client (no answer from the
// service): temporary, unless its cause already says retrying cannot help
// (a dialer refusing a private address).
func Transport(err error) error {
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() {
		return mark(err, true)
	}
	return mark(err, false)
}

// maxAnswer bounds how much of a service's answer a sender reads.
const maxAnswer = 64 << 10

// Do sends req and returns the service's status and (up to 64 KiB of) its
// answer. The error is only for a request that got no answer, marked by
// Transport and prefixed with the service's name; what a status means is
// the sender's to say (FromStatus for the usual 2xx-or-error).
func Do(client *http.Client, req *http.Request, service string) (int, []byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, Transport(fmt.Errorf("%s: %w", service, err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode, answer, nil
}

// Expect2xx is the usual reading of an answer: any 2xx means the service
// took the request (a retry would only repeat it), anything else is
// FromStatus's error.
func Expect2xx(service string, status int, answer []byte) error {
	if status/100 == 2 {
		return nil
	}
	return FromStatus(service, status, answer)
}

func mark(err error, permanent bool) error {
	if err == nil {
		return nil
	}
	e := &Error{Err: err, permanent: permanent}
	var inner *Error
	if errors.As(err, &inner) {
		e.Status = inner.Status
	}
	return e
}

// IsPermanent reports whether err, or an error it wraps, says retrying
// cannot help. It asks the Permanent() method rather than looking for
// *Error, so that errors of other adapters (mail.RejectedError) count too.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// Excerpt is body as error messages quote it: trimmed and cut to MaxBody
// bytes without splitting a UTF-8 character.
func Excerpt(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) <= MaxBody {
		return strings.ToValidUTF8(s, "?")
	}
	cut := MaxBody
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "?") + "..."
}

// Redact returns err with every non-empty secret replaced by [REDACTED] in
// its text, keeping its status and permanence. It exists because
// http.Client errors (*url.Error) quote the request URL, and some services
// put credentials there: the Telegram bot token, the path of a Slack
// webhook. Errors end up in logs and in delivery records users can read.
//
// The redacted error still wraps the innermost error of err's chain whose
// text is free of secrets (typically the network error or
// context.DeadlineExceeded), so errors.Is and timeouts still work, but no
// *url.Error holding the secret can be reached through it.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "[REDACTED]")
			// url.Error quotes the URL as written, but a secret may also
			// appear escaped in it.
			if esc := url.PathEscape(s); esc != s {
				pairs = append(pairs, esc, "[REDACTED]")
			}
		}
	}
	if len(pairs) == 0 {
		return err
	}
	r := strings.NewReplacer(pairs...)
	msg := err.Error()
	clean := r.Replace(msg)
	if clean == msg {
		return err
	}
	var cause error
	for c := errors.Unwrap(err); c != nil; c = errors.Unwrap(c) {
		if r.Replace(c.Error()) == c.Error() {
			cause = c
			break
		}
	}
	out := &Error{Err: &redacted{msg: clean, cause: cause}, permanent: IsPermanent(err)}
	var inner *Error
	if errors.As(err, &inner) {
		out.Status = inner.Status
	}
	return out
}

type redacted struct {
	msg   string
	cause error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.cause }
