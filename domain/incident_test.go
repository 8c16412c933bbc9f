package domain_test

import (
	"testing"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// TestIncidentCanAcknowledgeAndSnooze: what the dashboard offers is what
// the decisions accept; each row checks the rule and the decision agree.
func TestIncidentCanAcknowledgeAndSnooze(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status            domain.IncidentStatus
		canAck, canSnooze bool
	}{
		{domain.StatusTriggered, true, true},
		{domain.StatusAcknowledged, false, true},
		{domain.StatusResolved, false, false},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			inc := &domain.Incident{ID: 1, Status: tc.status}
			if got := tc.status.CanAcknowledge(); got != tc.canAck {
				t.Errorf("%s.CanAcknowledge() = %v, want %v", tc.status, got, tc.canAck)
			}
			if got := tc.status.CanSnooze(); got != tc.canSnooze {
				t.Errorf("%s.CanSnooze() = %v, want %v", tc.status, got, tc.canSnooze)
			}
			if inc.CanAcknowledge() != tc.canAck || inc.CanSnooze() != tc.canSnooze {
				t.Errorf("the incident's rules differ from its status's")
			}
			events, err := inc.Acknowledge(2, "on it")
			if recorded := err == nil && len(events) == 1; recorded != tc.canAck {
				t.Errorf("Acknowledge recorded %v (events %v, err %v), CanAcknowledge says %v", recorded, events, err, tc.canAck)
			}
			events, err = inc.Snooze(2, domain.MinSnoozeMinutes, "", now)
			if recorded := err == nil && len(events) == 1; recorded != tc.canSnooze {
				t.Errorf("Snooze recorded %v (events %v, err %v), CanSnooze says %v", recorded, events, err, tc.canSnooze)
			}
		})
	}
}

// TestSnoozeBounds: the exported bounds are the ones Snooze enforces.
func TestSnoozeBounds(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		minutes int
		ok      bool
	}{
		{domain.MinSnoozeMinutes - 1, false},
		{domain.MinSnoozeMinutes, true},
		{domain.MaxSnoozeMinutes, true},
		{domain.MaxSnoozeMinutes + 1, false},
	} {
		inc := &domain.Incident{ID: 1, Status: domain.StatusTriggered}
		if _, err := inc.Snooze(2, tc.minutes, "", now); (err == nil) != tc.ok {
			t.Errorf("Snooze(%d min): err %v, want accepted %v", tc.minutes, err, tc.ok)
		}
	}
}

// TestCertExpiresSoon: the reminder window the detector opens SSL_EXPIRY
// incidents by and the dashboard warns by.
func TestCertExpiresSoon(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		left     time.Duration
		reminder int
		want     bool
	}{
		{"well ahead", 30 * day, 14, false},
		{"exactly at the reminder", 14 * day, 14, false},
		{"just inside the reminder", 14*day - time.Second, 14, true},
		{"tomorrow", day, 14, true},
		{"expiring now", 0, 14, true},
		{"expired", -3 * day, 14, true},
		{"no reminder", day, 0, false},
		{"no reminder, expired", -day, 0, false},
		{"negative reminder", day, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := domain.CertExpiresSoon(now.Add(tc.left), now, tc.reminder); got != tc.want {
				t.Errorf("CertExpiresSoon(now%+v, now, %d) = %v, want %v", tc.left, tc.reminder, got, tc.want)
			}
		})
	}
}
