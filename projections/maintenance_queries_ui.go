package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// The dashboard's maintenance list: the account's windows in three groups,
// each with the occurrence that holds now and the next one, both computed
// by domain's Occurrences, the rule the scheduler follows.

// Which group a window is in.
const (
	WindowInEffect = "now"      // enabled, and one of its occurrences holds now
	WindowUpcoming = "upcoming" // enabled, with an occurrence still to start
	WindowPast     = "past"     // disabled, or no occurrence ahead (a one-off that ended, a recurrence past its last day)
)

// UpcomingHorizon is how far ahead the list and the preview look for a
// window's occurrences (a recurrence is scanned 400 days at most anyway).
const UpcomingHorizon = 5 * 365 * 24 * time.Hour

// WindowStatus is a window with where it stands at a moment.
type WindowStatus struct {
	WindowView
	Group string
	// Current is the occurrence that holds now (in effect only).
	Current *domain.Occurrence
	// Next is the first occurrence starting after now.
	Next *domain.Occurrence
	// IfEnabled is, for a disabled window, the first occurrence after now
	// it would have once enabled again.
	IfEnabled *domain.Occurrence
}

// MaintenanceGroups are an account's windows by group: in effect now by
// the end of their current occurrence, upcoming by their next start, past
// newest first.
type MaintenanceGroups struct {
	InEffect []WindowStatus
	Upcoming []WindowStatus
	Past     []WindowStatus
}

// StatusOf says where a window stands at now.
func StatusOf(w WindowView, now time.Time) WindowStatus {
	loc := zone(w.TimeZone)
	s := WindowStatus{WindowView: w, Group: WindowPast}
	cfg := w.MaintenanceConfig
	cfg.IsActive = true
	for _, o := range cfg.Occurrences(now, now.Add(UpcomingHorizon), loc) {
		switch {
		case !o.Start.After(now) && o.End.After(now):
			if s.Current == nil {
				s.Current = &o
			}
		case o.Start.After(now):
			s.Next = &o
		}
		if s.Next != nil {
			break
		}
	}
	switch {
	case !w.IsActive:
		s.IfEnabled, s.Current, s.Next = s.Next, nil, nil
	case s.Current != nil:
		s.Group = WindowInEffect
	case s.Next != nil:
		s.Group = WindowUpcoming
	}
	return s
}

// GroupWindows sorts windows into the list's groups as they stand at now.
func GroupWindows(windows []WindowView, now time.Time) MaintenanceGroups {
	var g MaintenanceGroups
	for _, w := range windows {
		s := StatusOf(w, now)
		switch s.Group {
		case WindowInEffect:
			g.InEffect = append(g.InEffect, s)
		case WindowUpcoming:
			g.Upcoming = append(g.Upcoming, s)
		default:
			g.Past = append(g.Past, s)
		}
	}
	slices.SortStableFunc(g.InEffect, func(a, b WindowStatus) int {
		return cmp.Or(a.Current.End.Compare(b.Current.End), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(g.Upcoming, func(a, b WindowStatus) int {
		return cmp.Or(a.Next.Start.Compare(b.Next.Start), cmp.Compare(a.ID, b.ID))
	})
	slices.SortStableFunc(g.Past, func(a, b WindowStatus) int { return cmp.Compare(b.ID, a.ID) })
	return g
}
