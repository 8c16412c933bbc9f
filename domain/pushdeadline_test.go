package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

func TestPushDeadline(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { v := base.Add(time.Duration(s) * time.Second); return &v }
	cases := []struct {
		name        string
		lastChecked *time.Time
		lastUp      *time.Time
		want        time.Time
	}{
		{"never pinged: interval + grace after creation", nil, nil, base.Add(70 * time.Second)},
		{"pinged: interval + grace after the ping", at(30), at(30), base.Add(100 * time.Second)},
		{"overdue: again one interval after the failure", at(70), nil, base.Add(130 * time.Second)},
		{"pinged, then overdue", at(100), at(30), base.Add(160 * time.Second)},
	}
	for _, c := range cases {
		pm := domain.PushHeartbeats{MonitorID: 1, CheckInterval: 60, GracePeriod: 10, ResumedAt: base, LastCheckedAt: c.lastChecked, LastUpAt: c.lastUp}
		if got := pm.Deadline(); !got.Equal(c.want) {
			t.Errorf("%s: deadline %s, want %s", c.name, got.Sub(base), c.want.Sub(base))
		}
	}
}

func TestPushOverdue(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	up := base.Add(30 * time.Second)
	pm := domain.PushHeartbeats{MonitorID: 7, CheckInterval: 60, GracePeriod: 10, ResumedAt: base, LastCheckedAt: &up, LastUpAt: &up}
	if _, ok := pm.Overdue(base.Add(99 * time.Second)); ok {
		t.Fatal("overdue before interval + grace after the heartbeat")
	}
	r, ok := pm.Overdue(base.Add(100 * time.Second))
	if !ok || r.MonitorID != 7 || r.Outcome.Up || !r.ScheduledAt.Equal(base.Add(100*time.Second)) || !r.CheckedAt.Equal(r.ScheduledAt) {
		t.Fatalf("at the deadline: %+v, %v", r, ok)
	}
	if want := "no heartbeat since the last heartbeat at 2026-01-01T00:00:30Z (expected every 1m0s, grace 10s)"; r.Outcome.Error != want {
		t.Errorf("error %q, want %q", r.Outcome.Error, want)
	}
	never := domain.PushHeartbeats{MonitorID: 7, CheckInterval: 60, GracePeriod: 10, ResumedAt: base}
	if r, ok := never.Overdue(base.Add(time.Hour)); !ok || !strings.Contains(r.Outcome.Error, "since creation or resume") {
		t.Errorf("never pinged: %+v, %v", r, ok)
	}
}
