package domain

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/google/uuid"
)

// ChecksSummarized is what one monitor's checks from one region came to in
// one closed hour (by checked time): exactly what the hourly rollup holds.
// Raw CheckRecorded events leave the log after the check retention; these
// stay forever, so a rebuild from the log still gives every rollup over the
// whole range. A read model SETs the hour's rollup from it and ignores
// later results of that hour, so live folding and a rebuild agree whether
// the hour's raw events are all there, partly dropped or gone.
type ChecksSummarized struct {
	MonitorID   int64     `json:"monitor_id"`
	RegionID    int64     `json:"region_id"`
	Hour        time.Time `json:"hour"`
	Checks      int64     `json:"checks"`
	UpChecks    int64     `json:"up_checks"`
	MaintChecks int64     `json:"maint_checks,omitempty"`
	MaintUp     int64     `json:"maint_up,omitempty"`
	RTSum       float64   `json:"rt_sum"`
	RTMin       float64   `json:"rt_min"`
	RTMax       float64   `json:"rt_max"`
	// Histogram maps a latency bucket (LatencyBucket, from 0) to its count;
	// empty buckets are left out, which keeps the event a few hundred bytes.
	Histogram map[int]int64 `json:"histogram"`
}

func (ChecksSummarized) EventType() string { return EvChecksSummarized }
func (ChecksSummarized) EventVersion() int { return 1 }

// SummariesStream is where a region's hourly summaries go.
func SummariesStream(regionID int64) string { return "check-summaries-region-" + itoa(regionID) }

var summaryNamespace = uuid.NewHash(sha1New(), uuid.NameSpaceURL, []byte("https://medialuna/check-summaries"), 5)

// ChecksSummaryID is the deterministic id of one monitor, region and hour's
// summary: replicas summarizing the same hour append it once.
func ChecksSummaryID(monitorID, regionID int64, hour time.Time) string {
	return uuid.NewSHA1(summaryNamespace, fmt.Appendf(nil, "%d/%d/%d", monitorID, regionID, hour.Unix())).String()
}

// LatencyBuckets is the number of latency buckets of a rollup; bucket i
// holds response times up to 2^(i/4) ms, the last one everything above.
const LatencyBuckets = 72

// LatencyBucket is the bucket (from 0) of a response time, as the metrics
// rollups count it.
func LatencyBucket(ms float64) int {
	if ms <= 1 {
		return 0
	}
	i := int(math.Ceil(4 * math.Log2(ms)))
	return min(max(i, 0), LatencyBuckets-1)
}

// CheckSample is the part of a recorded check a summary counts.
type CheckSample struct {
	MonitorID      int64
	RegionID       int64
	AccountID      int64
	CheckedAt      time.Time
	Up             bool
	InMaintenance  bool
	ResponseTimeMs float64
}

// Summary is one summary the summarizer decided to append, with the
// account it belongs to (for the event's metadata).
type Summary struct {
	AccountID int64
	Event     ChecksSummarized
}

// SummarizeHour folds the samples of one closed hour into one summary per
// monitor and region, ordered by monitor then region. Samples checked
// outside the hour are not counted.
func SummarizeHour(hour time.Time, samples []CheckSample) []Summary {
	hour = hour.UTC().Truncate(time.Hour)
	end := hour.Add(time.Hour)
	type key struct{ monitor, region int64 }
	byKey := map[key]*Summary{}
	for _, s := range samples {
		if s.CheckedAt.Before(hour) || !s.CheckedAt.Before(end) {
			continue
		}
		k := key{s.MonitorID, s.RegionID}
		sum := byKey[k]
		if sum == nil {
			sum = &Summary{AccountID: s.AccountID, Event: ChecksSummarized{MonitorID: s.MonitorID, RegionID: s.RegionID, Hour: hour,
				RTMin: s.ResponseTimeMs, RTMax: s.ResponseTimeMs, Histogram: map[int]int64{}}}
			byKey[k] = sum
		}
		e := &sum.Event
		e.Checks++
		if s.Up {
			e.UpChecks++
		}
		if s.InMaintenance {
			e.MaintChecks++
			if s.Up {
				e.MaintUp++
			}
		}
		e.RTSum += s.ResponseTimeMs
		e.RTMin, e.RTMax = min(e.RTMin, s.ResponseTimeMs), max(e.RTMax, s.ResponseTimeMs)
		e.Histogram[LatencyBucket(s.ResponseTimeMs)]++
	}
	out := make([]Summary, 0, len(byKey))
	for _, s := range byKey {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Event, out[j].Event
		if a.MonitorID != b.MonitorID {
			return a.MonitorID < b.MonitorID
		}
		return a.RegionID < b.RegionID
	})
	return out
}

// maxSummaryHours bounds the hours one summarizer round takes on, so that
// catching up after a long stop is spread over rounds.
const maxSummaryHours = 24

// SummaryHoursDue returns the hours to summarize now, oldest first: every
// hour from next (the first not yet summarized) whose end lies at least
// grace before now. Grace is the time results may still arrive late (a
// probe retrying after an outage); a result later than that is kept raw but
// no longer counted in its hour's rollup. A zero next means nothing was
// summarized yet: start with the last closed hour.
func SummaryHoursDue(next, now time.Time, grace time.Duration) []time.Time {
	last := now.UTC().Add(-grace).Truncate(time.Hour).Add(-time.Hour) // the newest hour closed for grace
	if next.IsZero() {
		next = last
	}
	next = next.UTC().Truncate(time.Hour)
	var out []time.Time
	for h := next; !h.After(last) && len(out) < maxSummaryHours; h = h.Add(time.Hour) {
		out = append(out, h)
	}
	return out
}
