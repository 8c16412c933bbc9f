package projections

import (
	"context"
	"sync"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// PushTokens answers "which push monitor has this token" from memory for
// the ping path, where the same few tokens are asked thousands of times a
// second. An answer, found or not found, is kept for ttl: a monitor
// created, renamed, paused or deleted is seen within that time. A ping to a
// monitor deleted meanwhile is dropped when its heartbeat is recorded (the
// monitor directory no longer knows it), so the staleness costs nothing
// but one accepted ping.
type PushTokens struct {
	lookup func(ctx context.Context, token string) (PushMonitor, error)
	now    func() time.Time
	ttl    time.Duration
	max    int // entries kept before the expired ones are swept

	mu      sync.Mutex
	entries map[string]pushTokenEntry
}

type pushTokenEntry struct {
	monitor  PushMonitor
	notFound bool
	expires  time.Time
}

// NewPushTokens returns a cache in front of lookup (Queries.MonitorByPushToken).
func NewPushTokens(lookup func(ctx context.Context, token string) (PushMonitor, error), now func() time.Time, ttl time.Duration) *PushTokens {
	return &PushTokens{lookup: lookup, now: now, ttl: ttl, max: 100_000, entries: map[string]pushTokenEntry{}}
}

// MonitorByPushToken returns the push monitor with the token, or a
// domain.ErrNotFound error.
func (c *PushTokens) MonitorByPushToken(ctx context.Context, token string) (PushMonitor, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[token]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.notFound {
			return PushMonitor{}, domain.Errorf(domain.ErrNotFound, "invalid push token")
		}
		return e.monitor, nil
	}
	pm, err := c.lookup(ctx, token)
	notFound := domain.ErrorCode(err) == domain.ErrNotFound
	if err != nil && !notFound {
		return PushMonitor{}, err // a failed read is not remembered
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		// Random tokens (a scan, a broken client) must not grow the cache
		// without bound: drop what has expired, and everything if that
		// was not enough.
		for t, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, t)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[token] = pushTokenEntry{monitor: pm, notFound: notFound, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return pm, err
}
