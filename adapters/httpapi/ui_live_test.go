package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
)

func liveRec(typ, stream string, data any) domain.RecordedEvent {
	b, _ := json.Marshal(data)
	return domain.RecordedEvent{EventData: domain.EventData{Type: typ, Data: b}, StreamID: stream}
}

// TestLiveChangeNamesWhatAnEventChanges: each event names the fragments a
// dashboard refetches; events no page shows name nothing.
func TestLiveChangeNamesWhatAnEventChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  domain.RecordedEvent
		want string
	}{
		{"a check", liveRec(domain.EvCheckRecorded, "checks-region-1", map[string]any{"monitor_id": 42}), "monitors monitor-42"},
		{"a check without a monitor", liveRec(domain.EvCheckRecorded, "checks-region-1", map[string]any{}), ""},
		{"a monitor paused", liveRec(domain.EvMonitorPaused, "monitor-7", map[string]any{}), "monitors monitor-7"},
		{"a monitor event on another stream", liveRec(domain.EvMonitorPaused, "monitor-incidents-7", map[string]any{}), ""},
		{"an incident opened", liveRec(domain.EvIncidentTriggered, "incident-3", map[string]any{"monitor_id": 9}), "incidents monitor-9 incident-3"},
		{"an incident acknowledged", liveRec(domain.EvIncidentAcknowledged, "incident-3", map[string]any{}), "incidents incident-3"},
		{"a maintenance window", liveRec(domain.EvMaintenanceToggled, "maintenance-1", map[string]any{}), "maintenance monitors"},
		{"a plan change", liveRec(domain.EvPlanChanged, "account-1", map[string]any{}), "account"},
		{"a notification attempt", liveRec(domain.EvNotificationAttempted, "deliveries-1", map[string]any{}), "notifications"},
		{"a status page edited", liveRec(domain.EvStatusPageUpdated, "statuspage-2", map[string]any{}), "status-pages"},
		{"a member invited", liveRec(domain.EvMemberInvited, "account-1", map[string]any{}), "team"},
		{"a quota slot reserved", liveRec(domain.EvQuotaSlotReserved, "quota-1", map[string]any{}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newLiveChange()
			ch.addEvent(tc.rec, nil)
			if diff := cmp.Diff(tc.want, liveNames(ch)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

// liveNames lists the SSE event names a change is written as.
func liveNames(ch *liveChange) string {
	rec := httptest.NewRecorder()
	writeLiveChange(rec, ch)
	var names []string
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, n)
		}
	}
	return strings.Join(names, " ")
}

// TestLiveChangeIsBounded: a client that does not read holds a set of
// names, not a queue of events; past liveMaxIDs names it holds only
// "everything changed".
func TestLiveChangeIsBounded(t *testing.T) {
	pending := newLiveChange()
	for i := range 3 * liveMaxIDs {
		ch := newLiveChange()
		ch.addEvent(liveRec(domain.EvCheckRecorded, "checks-region-1", map[string]any{"monitor_id": i%50 + 1}), nil)
		ch.pos = domain.Position{Commit: uint64(i + 1)}
		pending.merge(ch)
	}
	if len(pending.monitors) != 50 || pending.all {
		t.Errorf("50 monitors checked 600 times: %d names held, all=%v", len(pending.monitors), pending.all)
	}
	if pending.pos.Commit != 3*liveMaxIDs {
		t.Errorf("position %v, want the last merged", pending.pos)
	}
	for i := range liveMaxIDs + 1 {
		ch := newLiveChange()
		ch.addEvent(liveRec(domain.EvMonitorUpdated, "monitor-"+strconv.Itoa(1000+i), map[string]any{}), nil)
		pending.merge(ch)
	}
	if !pending.all || len(pending.monitors) != 0 {
		t.Errorf("past %d names: all=%v, %d held", liveMaxIDs, pending.all, len(pending.monitors))
	}
	if got := liveNames(pending); got != "monitors checks incidents maintenance account notifications status-pages team everything" {
		t.Errorf("everything changed is written as %q", got)
	}
}

func TestLivePositionRoundTrips(t *testing.T) {
	p := domain.Position{Commit: 123456789, Prepare: 42}
	got, ok := parseLivePos(formatLivePos(p))
	if !ok || got != p {
		t.Errorf("round trip of %v: %v %v", p, got, ok)
	}
	for _, bad := range []string{"", "12", "a-b", "1-", "-1"} {
		if _, ok := parseLivePos(bad); ok {
			t.Errorf("%q parsed as a position", bad)
		}
	}
}

// TestLiveChecksThatChangeNothingAreToldApart: a result like its region's
// last one is "checks" (lists refresh on it now and then); a first result,
// a flip, or another region's first is "monitors" (a status may change at
// once). Accounts without dashboards are not tracked.
func TestLiveChecksThatChangeNothingAreToldApart(t *testing.T) {
	seen := &lastResults{byAccount: map[int64]map[[2]int64]bool{}}
	seen.track(map[int64]bool{1: true})
	check := func(account, monitor, region int64, up bool) string {
		rec := liveRec(domain.EvCheckRecorded, "checks-region-1", map[string]any{"monitor_id": monitor, "region_id": region, "up": up})
		rec.Metadata.AccountID = account
		ch := newLiveChange()
		ch.addEvent(rec, seen)
		return liveNames(ch)
	}
	for i, tc := range []struct {
		account, monitor, region int64
		up                       bool
		want                     string
	}{
		{1, 5, 1, true, "monitors monitor-5"},  // first seen
		{1, 5, 1, true, "checks monitor-5"},    // the same again
		{1, 5, 2, false, "monitors monitor-5"}, // another region's first
		{1, 5, 1, true, "checks monitor-5"},
		{1, 5, 2, false, "checks monitor-5"},
		{1, 5, 1, false, "monitors monitor-5"}, // a flip
		{2, 9, 1, true, "monitors monitor-9"},  // an account nobody watches
		{2, 9, 1, true, "monitors monitor-9"},
	} {
		if got := check(tc.account, tc.monitor, tc.region, tc.up); got != tc.want {
			t.Errorf("check %d: %q, want %q", i, got, tc.want)
		}
	}
	seen.forget(1, 5)
	if got := check(1, 5, 1, false); got != "monitors monitor-5" {
		t.Errorf("after the monitor is forgotten: %q", got)
	}
	seen.track(map[int64]bool{})
	if len(seen.byAccount) != 0 {
		t.Errorf("accounts without dashboards still tracked: %v", seen.byAccount)
	}
}
