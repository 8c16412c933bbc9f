package secretbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/test/testdb"
)

// BenchmarkOpenEvent is the CPU the sealing store adds to each event it
// reads (catch-up, rebuild, command loads; the database read is the
// same): a check result, which bears no secret, and a monitor created with
// two headers and a URL password, sealed, its stream key already cached.
func BenchmarkOpenEvent(b *testing.B) {
	ctx := context.Background()
	box := newBox(b, testdb.New(b), key1)
	meta := domain.Metadata{ActorType: domain.ActorProbe, AccountID: 1, OccurredAt: time.Now().UTC()}
	check, err := domain.Encode(&domain.CheckRecorded{MonitorID: 1, RegionID: 1, CheckedAt: time.Now().UTC()}, meta, uuid.NewString())
	if err != nil {
		b.Fatal(err)
	}
	cfg := domain.DefaultMonitorConfig()
	cfg.Name, cfg.Type, cfg.URL = "m", domain.TypeHTTP, "https://u:pw@example.com/"
	cfg.RequestHeaders = map[string]string{"Authorization": "Bearer x", "X-API-Key": "k"}
	plain, err := domain.Encode(&domain.MonitorCreated{MonitorID: 1, AccountID: 1, Config: cfg}, meta, uuid.NewString())
	if err != nil {
		b.Fatal(err)
	}
	sealed, _, err := box.SealEvent(ctx, "monitor-1", plain, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("check_result", func(b *testing.B) {
		for b.Loop() {
			if _, err := box.OpenEvent(ctx, "checks-region-1", check); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sealed_monitor", func(b *testing.B) {
		for b.Loop() {
			if _, err := box.OpenEvent(ctx, "monitor-1", sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("seal_monitor", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := box.SealEvent(ctx, "monitor-1", plain, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
