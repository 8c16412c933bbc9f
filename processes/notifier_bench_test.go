package processes_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

// BenchmarkNotifierTick: the notifier's 5-second decisions with 2,000
// incidents open at once (a big outage), all reported. With rules that
// only act at once, a tick is one query; with a renotify_minutes rule,
// every incident is looked at.
func BenchmarkNotifierTick(b *testing.B) {
	for _, renotify := range []int{0, 30} {
		b.Run(fmt.Sprintf("renotify=%d", renotify), func(b *testing.B) {
			f := newNotifierFixture(b)
			f.channel(b, 1)
			f.rule(b, 1, 1, 1, renotify)
			const open = 2000
			var monitors, triggers []domain.Event
			for id := int64(1); id <= open; id++ {
				cfg := domain.DefaultMonitorConfig()
				cfg.Name, cfg.Type, cfg.URL, cfg.CheckInterval, cfg.RegionIDs = fmt.Sprintf("m%d", id), domain.TypeHTTP, "http://127.0.0.1:1/", 60, []int64{1}
				monitors = append(monitors, &domain.MonitorCreated{MonitorID: id, AccountID: f.account, Config: cfg})
				triggers = append(triggers, f.trigger(id, id))
			}
			for i, m := range monitors {
				f.appendTo(b, domain.MonitorStream(int64(i+1)), m)
			}
			f.appendBatch(b, "", triggers...)
			if n := len(f.queued(b)); n != open {
				b.Fatalf("%d starts queued, want %d", n, open)
			}
			b.ResetTimer()
			for b.Loop() {
				if err := f.notifier.Tick(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
