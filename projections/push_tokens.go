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
	// maxMisses bounds the remembered unknown tokens on their own: a scan
	// of random tokens fills and empties this map, never the one of the
	// real tokens that every ping reads.
	maxMisses int

	mu       sync.Mutex
	entries  map[string]pushTokenEntry
	misses   map[string]time.Time        // unknown tokens, until when
	inFlight map[string]*pushTokenLookup // one read per token at a time
}

// pushTokenLookup is one read of a token that others wait for: when an
// entry expires, the hundreds of pings of the next millisecond share it.
type pushTokenLookup struct {
	done chan struct{}
	pm   PushMonitor
	err  error
}

type pushTokenEntry struct {
	monitor PushMonitor
	expires time.Time
}

// NewPushTokens returns a cache in front of lookup (Queries.MonitorByPushToken).
func NewPushTokens(lookup func(ctx context.Context, token string) (PushMonitor, error), now func() time.Time, ttl time.Duration) *PushTokens {
	return &PushTokens{lookup: lookup, now: now, ttl: ttl, max: 100_000, maxMisses: 10_000,
		entries: map[string]pushTokenEntry{}, misses: map[string]time.Time{}, inFlight: map[string]*pushTokenLookup{}}
}

// MonitorByPushToken returns the push monitor with the token, or a
// domain.ErrNotFound error.
func (c *PushTokens) MonitorByPushToken(ctx context.Context, token string) (PushMonitor, error) {
	now := c.now()
	c.mu.Lock()
	if e, ok := c.entries[token]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.monitor, nil
	}
	if until, ok := c.misses[token]; ok && now.Before(until) {
		c.mu.Unlock()
		return PushMonitor{}, domain.Errorf(domain.ErrNotFound, "invalid push token")
	}
	if l := c.inFlight[token]; l != nil {
		c.mu.Unlock()
		select {
		case <-l.done:
			return l.pm, l.err
		case <-ctx.Done():
			return PushMonitor{}, ctx.Err()
		}
	}
	l := &pushTokenLookup{done: make(chan struct{})}
	c.inFlight[token] = l
	c.mu.Unlock()

	// The read is the cache's, not the first caller's: one that gives up
	// must not fail the others waiting for it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	l.pm, l.err = c.lookup(rctx, token)
	cancel()
	notFound := domain.ErrorCode(l.err) == domain.ErrNotFound

	c.mu.Lock()
	delete(c.inFlight, token)
	switch {
	case l.err == nil:
		c.remember(token, pushTokenEntry{monitor: l.pm, expires: now.Add(c.ttl)}, now)
	case notFound:
		if _, ok := c.misses[token]; !ok && len(c.misses) >= c.maxMisses {
			clear(c.misses)
		}
		c.misses[token] = now.Add(c.ttl)
	} // a failed read is not remembered
	c.mu.Unlock()
	close(l.done)
	return l.pm, l.err
}

// remember stores a found token; c.mu is held. Only tokens of existing
// push monitors come here, so the bound is for safety, not for scans.
func (c *PushTokens) remember(token string, e pushTokenEntry, now time.Time) {
	if _, ok := c.entries[token]; !ok && len(c.entries) >= c.max {
		for t, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, t)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[token] = e
}
