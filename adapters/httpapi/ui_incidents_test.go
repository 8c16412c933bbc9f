package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

func TestUISpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                   "0 s",
		0:                              "0 s",
		59 * time.Second:               "59 s",
		time.Minute:                    "1 min",
		3*time.Minute + 12*time.Second: "3 min 12 s",
		2*time.Hour + 5*time.Minute:    "2 h 5 min",
		2 * time.Hour:                  "2 h",
		24 * time.Hour:                 "1 day",
		3*24*time.Hour + 4*time.Hour:   "3 days 4 h",
	} {
		if got := uiSpan(d); got != want {
			t.Errorf("uiSpan(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestUIReplaySteps: each step says what its event changed, who did it,
// how long after the start, and dims the timeline entries still to come;
// a public comment is marked from its event.
func TestUIReplaySteps(t *testing.T) {
	start := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	ptr := func(t time.Time) *time.Time { return &t }
	snoozeUntil := at(20 * time.Minute)
	base := projections.IncidentRow{ID: 7, Status: "TRIGGERED", StartedAt: start}
	ack := base
	ack.Status, ack.AcknowledgedAt = "ACKNOWLEDGED", ptr(at(3*time.Minute+12*time.Second))
	snoozed := ack
	snoozed.SnoozedUntil = &snoozeUntil
	resolved := snoozed
	resolved.Status, resolved.ResolvedAt = "RESOLVED", ptr(at(time.Hour))
	user := domain.Metadata{ActorType: domain.ActorUser, ActorID: 5}
	system := domain.Metadata{ActorType: domain.ActorSystem}
	var timeline []projections.TimelineRow
	step := func(seq uint64, d time.Duration, actor domain.Metadata, ev domain.Event, state projections.IncidentRow) replayStep {
		entry, _ := domain.Timeline(ev, at(d))
		timeline = append(timeline, projections.TimelineRow{ID: int64(seq), EventType: entry.EventType, Message: entry.Message, UserID: entry.UserID, CreatedAt: entry.CreatedAt})
		return replayStep{Sequence: seq, EventType: ev.EventType(), At: at(d), Actor: actor, Event: ev, State: state,
			Timeline: append([]projections.TimelineRow(nil), timeline...)}
	}
	steps := []replayStep{
		step(10, 0, system, &domain.IncidentTriggered{IncidentID: 7, Message: "down"}, base),
		step(11, 3*time.Minute+12*time.Second, user, &domain.IncidentAcknowledged{UserID: 5, Message: "on it"}, ack),
		step(12, 4*time.Minute, user, &domain.IncidentCommented{UserID: 5, Message: "deploying", Public: true}, ack),
		step(13, 5*time.Minute, user, &domain.IncidentSnoozed{UserID: 5, DurationMinutes: 15, Until: snoozeUntil}, snoozed),
		step(14, time.Hour, system, &domain.IncidentResolved{Reason: "recovered", Message: "up"}, resolved),
	}
	people := func(id int64) string { return fmt.Sprint("person ", id) }
	got := uiReplaySteps(steps, people)
	type view struct {
		Label, Actor, Elapsed string
		Changes               []string
		Future, Public        []bool
		Prev, Next            int
	}
	var views []view
	for _, st := range got {
		v := view{Label: st.Label, Actor: st.Actor, Elapsed: st.Elapsed, Prev: st.Prev, Next: st.Next}
		for _, c := range st.Changes {
			v.Changes = append(v.Changes, c.What+" "+c.From+" → "+c.To)
		}
		for _, e := range st.Timeline {
			v.Future = append(v.Future, e.Future)
			v.Public = append(v.Public, e.Public)
		}
		views = append(views, v)
	}
	pub := []bool{false, false, true, false, false}
	want := []view{
		{"Opened", "Media Luna (automatic)", "+0 s", []string{"status none → TRIGGERED"}, []bool{false, true, true, true, true}, pub, 0, 2},
		{"Acknowledged", "person 5", "+3 min 12 s", []string{"status TRIGGERED → ACKNOWLEDGED", "acknowledged at not yet → 2026-05-01 10:03:12 UTC"},
			[]bool{false, false, true, true, true}, pub, 1, 3},
		{"Public comment", "person 5", "+4 min", []string{"public comment added (shown on status pages) " + " → "},
			[]bool{false, false, false, true, true}, pub, 2, 4},
		{"Snoozed for 15 min", "person 5", "+5 min", []string{"snoozed until not yet → 2026-05-01 10:20:00 UTC"},
			[]bool{false, false, false, false, true}, pub, 3, 5},
		{"Resolved (recovered)", "Media Luna (automatic)", "+1 h", []string{"status ACKNOWLEDGED → RESOLVED", "resolved at not yet → 2026-05-01 11:00:00 UTC"},
			[]bool{false, false, false, false, false}, pub, 4, 0},
	}
	if diff := cmp.Diff(want, views); diff != "" {
		t.Errorf("replay steps (-want +got):\n%s", diff)
	}
	if got := uiIncidentSummary(resolved, len(steps)); fmt.Sprint(got) != "[5 events acknowledged after 3 min 12 s resolved after 1 h]" {
		t.Errorf("summary %q", got)
	}
}
