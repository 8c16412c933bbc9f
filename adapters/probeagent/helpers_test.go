package probeagent_test

import (
	"time"

	"github.com/medialuna/medialuna/projections"
)

func projectionsPush(resumed time.Time, lastChecked, lastUp *time.Time) projections.PushMonitor {
	return projections.PushMonitor{ID: 1, CheckInterval: 60, GracePeriod: 10, ResumedAt: resumed, LastCheckedAt: lastChecked, LastUpAt: lastUp}
}
