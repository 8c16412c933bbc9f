package metrics

import (
	"context"

	"github.com/medialuna/medialuna/commands"
	"github.com/medialuna/medialuna/domain"
)

// ChecksRecorder is the command that appends check results.
type ChecksRecorder interface {
	Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error)
}

// CountingRecorder counts, by region and result, the check results it
// passes on that the log took.
type CountingRecorder struct {
	Next     ChecksRecorder
	Registry *Registry
}

// Handle implements ChecksRecorder.
func (c CountingRecorder) Handle(ctx context.Context, cmd commands.RecordChecks) (int, domain.Position, error) {
	n, pos, err := c.Next.Handle(ctx, cmd)
	if err == nil {
		up := 0
		for _, r := range cmd.Results {
			if r.Outcome.Up {
				up++
			}
		}
		c.Registry.ChecksRecorded(cmd.RegionID, up, len(cmd.Results)-up)
	}
	return n, pos, err
}

// Sender delivers a notification through one channel type.
type Sender interface {
	Send(ctx context.Context, ch domain.ChannelConfig, secret string, n domain.Notification) error
}

// CountingSender counts its channel type's delivery attempts by outcome.
type CountingSender struct {
	Next     Sender
	Type     domain.ChannelType
	Registry *Registry
}

// Send implements Sender.
func (c CountingSender) Send(ctx context.Context, ch domain.ChannelConfig, secret string, n domain.Notification) error {
	err := c.Next.Send(ctx, ch, secret, n)
	c.Registry.NotificationSent(string(c.Type), err)
	return err
}
