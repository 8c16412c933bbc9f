package domain

import "slices"

// ExistingMonitors returns the ids in ids that are also in existing, in
// their order, or nil when none is: the monitor_ids a maintenance window or
// status page still names once the monitors deleted since it was saved
// drop out. Commands apply a change on top of that, so a change that
// leaves monitor_ids alone still validates.
func ExistingMonitors(ids, existing []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if slices.Contains(existing, id) {
			out = append(out, id)
		}
	}
	return out
}
