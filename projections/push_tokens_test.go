package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/medialuna/medialuna/domain"
)

func TestPushTokensRemembersForTheTTL(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	reads := 0
	monitors := map[string]PushMonitor{"tok": {ID: 1, Name: "backup"}}
	var fail error
	c := NewPushTokens(func(_ context.Context, token string) (PushMonitor, error) {
		reads++
		if fail != nil {
			return PushMonitor{}, fail
		}
		pm, ok := monitors[token]
		if !ok {
			return PushMonitor{}, domain.Errorf(domain.ErrNotFound, "invalid push token")
		}
		return pm, nil
	}, func() time.Time { return now }, time.Second)
	ctx := context.Background()

	for range 3 {
		if pm, err := c.MonitorByPushToken(ctx, "tok"); err != nil || pm.ID != 1 {
			t.Fatalf("lookup = %+v, %v", pm, err)
		}
	}
	if reads != 1 {
		t.Errorf("three lookups within the TTL read %d times, want 1", reads)
	}
	// Renamed: seen once the TTL has passed.
	monitors["tok"] = PushMonitor{ID: 1, Name: "nightly backup"}
	now = now.Add(time.Second)
	if pm, _ := c.MonitorByPushToken(ctx, "tok"); pm.Name != "nightly backup" {
		t.Errorf("after the TTL the name is %q", pm.Name)
	}
	// Not found is remembered too, and stays a not-found error.
	for range 2 {
		if _, err := c.MonitorByPushToken(ctx, "nope"); domain.ErrorCode(err) != domain.ErrNotFound {
			t.Fatalf("unknown token: %v", err)
		}
	}
	if reads != 3 {
		t.Errorf("reads = %d, want 3 (the unknown token read once)", reads)
	}
	// A failed read is not remembered.
	now = now.Add(time.Second)
	fail = errors.New("connection refused")
	if _, err := c.MonitorByPushToken(ctx, "tok"); err == nil {
		t.Fatal("a failed read answered without error")
	}
	fail = nil
	if pm, err := c.MonitorByPushToken(ctx, "tok"); err != nil || pm.ID != 1 {
		t.Errorf("after a failed read: %+v, %v", pm, err)
	}
}

// A scan of random tokens is bounded, and never empties the real tokens'
// entries.
func TestPushTokensStaysBounded(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	reads := 0
	c := NewPushTokens(func(_ context.Context, token string) (PushMonitor, error) {
		reads++
		if token == "real" {
			return PushMonitor{ID: 5}, nil
		}
		return PushMonitor{}, domain.Errorf(domain.ErrNotFound, "invalid push token")
	}, func() time.Time { return now }, time.Second)
	c.maxMisses = 100
	c.MonitorByPushToken(context.Background(), "real")
	for i := range 1000 {
		c.MonitorByPushToken(context.Background(), fmt.Sprint("random", i))
	}
	if n := len(c.misses); n > 100 {
		t.Errorf("%d unknown tokens remembered after 1000 random ones, bound 100", n)
	}
	reads = 0
	if pm, err := c.MonitorByPushToken(context.Background(), "real"); err != nil || pm.ID != 5 || reads != 0 {
		t.Errorf("the real token after a scan: %+v, %v, %d reads (want it from memory)", pm, err, reads)
	}
}

// When an entry expires, the pings arriving together share one read.
func TestPushTokensOneReadForConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var reads atomic.Int32
		c := NewPushTokens(func(context.Context, string) (PushMonitor, error) {
			reads.Add(1)
			<-release
			return PushMonitor{ID: 9}, nil
		}, time.Now, time.Second)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if pm, err := c.MonitorByPushToken(context.Background(), "tok"); err != nil || pm.ID != 9 {
					t.Errorf("lookup = %+v, %v", pm, err)
				}
			})
		}
		synctest.Wait()
		close(release)
		wg.Wait()
		if n := reads.Load(); n != 1 {
			t.Errorf("50 concurrent lookups read %d times, want 1", n)
		}
	})
}
