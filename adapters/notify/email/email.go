// Package email delivers notifications by email through a Mailer (in
// production the SMTP mailer of adapters/mail, which this package does not
// import: adapters never import each other, so the mailer comes in through
// the Mailer interface, declared here where it is used).
package email

import (
	"context"
	"errors"
	"fmt"

	"github.com/medialuna/medialuna/adapters/notify/notifyerr"
	"github.com/medialuna/medialuna/domain"
)

// Mailer sends one plain-text message. Errors with a Permanent() bool
// method returning true (mail.RejectedError: the server refused the
// message for good) are not worth retrying; other errors are.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Config configures a Sender.
type Config struct {
	Mailer Mailer // required; without it every Send fails permanently
}

// Sender emails notifications.
type Sender struct{ mailer Mailer }

// New returns a Sender for cfg.
func New(cfg Config) *Sender { return &Sender{mailer: cfg.Mailer} }

// Send mails n's subject and text to the channel's recipient.
func (s *Sender) Send(ctx context.Context, ch domain.ChannelConfig, _ string, n domain.Notification) error {
	if s.mailer == nil {
		return notifyerr.Permanent(errors.New("email: no mailer configured"))
	}
	if ch.EmailRecipient == "" {
		return notifyerr.Permanent(errors.New("email: the channel has no recipient"))
	}
	err := s.mailer.Send(ctx, ch.EmailRecipient, n.Subject(), n.Text())
	if err == nil {
		return nil
	}
	err = fmt.Errorf("email to %s: %w", ch.EmailRecipient, err)
	if notifyerr.IsPermanent(err) {
		return notifyerr.Permanent(err)
	}
	return notifyerr.Temporary(err)
}
