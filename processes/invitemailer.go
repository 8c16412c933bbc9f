package processes

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// Mailer sends one plain-text email.
type Mailer interface {
	// Send delivers the message or returns an error (retried by the runner).
	Send(ctx context.Context, to, subject, body string) error
}

// InviteMailer sends the invitation email for every MemberInvited event. It
// runs as a consumer: a crash between sending and saving the checkpoint
// sends that email again, never zero times.
type InviteMailer struct {
	mailer  Mailer
	sign    func(accountID, inviteID int64) string
	baseURL string
}

// NewInviteMailer returns the consumer. sign makes the invitation token;
// baseURL is the public address of this server, for the accept link.
func NewInviteMailer(mailer Mailer, sign func(accountID, inviteID int64) string, baseURL string) *InviteMailer {
	return &InviteMailer{mailer: mailer, sign: sign, baseURL: baseURL}
}

func (*InviteMailer) Name() string                                 { return "invite_mailer" }
func (*InviteMailer) Version() int                                 { return 1 }
func (*InviteMailer) Tables() []string                             { return nil }
func (*InviteMailer) Setup(ctx context.Context, tx *sqlx.Tx) error { return nil }
func (*InviteMailer) IsConsumer()                                  {}

// Handles implements EventFilter.
// A resent invitation (InviteResent) is mailed as a new one, with the
// new invitation's token.
func (*InviteMailer) Handles(t string) bool {
	return t == domain.EvMemberInvited || t == domain.EvInviteResent
}

func (m *InviteMailer) Apply(ctx context.Context, tx projections.Exec, rec domain.RecordedEvent, ev domain.Event) error {
	inv, ok := ev.(*domain.MemberInvited)
	if re, resent := ev.(*domain.InviteResent); resent {
		inv, ok = &domain.MemberInvited{InviteID: re.NewInviteID, Email: re.Email, Role: re.Role, InvitedBy: re.ResentBy, ExpiresAt: re.ExpiresAt}, true
	}
	if !ok {
		return nil
	}
	token := m.sign(rec.Metadata.AccountID, inv.InviteID)
	body := fmt.Sprintf(`You have been invited to join a team on Media Luna as %s.

Accept the invitation by choosing your password here:

  %s/invite?token=%s

Or through the API:

  POST %s/api/auth/accept-invite
  {"token": "%s", "password": "<your password>"}

Token: %s

The invitation expires on %s.
`, inv.Role, m.baseURL, url.QueryEscape(token), m.baseURL, token, token, inv.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"))
	return m.mailer.Send(ctx, inv.Email, "You are invited to Media Luna", body)
}
