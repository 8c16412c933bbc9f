package domain

import (
	"reflect"
	"testing"
	"time"
)

func TestSummaryHoursDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	grace := 15 * time.Minute
	tests := []struct {
		name      string
		next, now time.Time
		want      []time.Time
	}{
		{"first run takes the last hour closed for grace", time.Time{}, at("2026-12-03T12:20:00Z"), []time.Time{at("2026-12-03T11:00:00Z")}},
		{"first run inside the grace takes the hour before", time.Time{}, at("2026-12-03T12:10:00Z"), []time.Time{at("2026-12-03T10:00:00Z")}},
		{"nothing due while the grace runs", at("2026-12-03T11:00:00Z"), at("2026-12-03T12:14:59Z"), nil},
		{"due once the grace has passed", at("2026-12-03T11:00:00Z"), at("2026-12-03T12:15:00Z"), []time.Time{at("2026-12-03T11:00:00Z")}},
		{"catches up hour by hour", at("2026-12-03T08:00:00Z"), at("2026-12-03T11:30:00Z"),
			[]time.Time{at("2026-12-03T08:00:00Z"), at("2026-12-03T09:00:00Z"), at("2026-12-03T10:00:00Z")}},
		{"a cursor inside an hour starts at its hour", at("2026-12-03T08:40:00Z"), at("2026-12-03T09:30:00Z"), []time.Time{at("2026-12-03T08:00:00Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummaryHoursDue(tt.next, tt.now, grace); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if got := SummaryHoursDue(at("2026-11-01T00:00:00Z"), at("2026-12-03T00:00:00Z"), grace); len(got) != maxSummaryHours {
		t.Errorf("a long catch-up takes %d hours in one round, want %d", len(got), maxSummaryHours)
	}
}

func TestSummarizeHour(t *testing.T) {
	hour := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	s := func(m, r int64, min int, up, maint bool, ms float64) CheckSample {
		return CheckSample{MonitorID: m, RegionID: r, AccountID: 7, CheckedAt: hour.Add(time.Duration(min) * time.Minute), Up: up, InMaintenance: maint, ResponseTimeMs: ms}
	}
	tests := []struct {
		name    string
		samples []CheckSample
		want    []Summary
	}{
		{"nothing checked, nothing summarized", nil, []Summary{}},
		{"counts, sums, extremes and buckets of one monitor and region",
			[]CheckSample{s(1, 1, 0, true, false, 0.5), s(1, 1, 30, false, false, 2), s(1, 1, 59, true, true, 100)},
			[]Summary{{AccountID: 7, Event: ChecksSummarized{MonitorID: 1, RegionID: 1, Hour: hour, Checks: 3, UpChecks: 2, MaintChecks: 1, MaintUp: 1,
				RTSum: 102.5, RTMin: 0.5, RTMax: 100, Histogram: map[int]int64{0: 1, 4: 1, 27: 1}}}}},
		{"one summary per monitor and region, ordered; other hours left out",
			[]CheckSample{s(2, 1, 5, true, false, 1), s(1, 2, 5, true, false, 1), s(1, 1, 5, true, false, 1), s(1, 1, 60, true, false, 1), s(1, 1, -1, true, false, 1)},
			[]Summary{
				{AccountID: 7, Event: ChecksSummarized{MonitorID: 1, RegionID: 1, Hour: hour, Checks: 1, UpChecks: 1, RTSum: 1, RTMin: 1, RTMax: 1, Histogram: map[int]int64{0: 1}}},
				{AccountID: 7, Event: ChecksSummarized{MonitorID: 1, RegionID: 2, Hour: hour, Checks: 1, UpChecks: 1, RTSum: 1, RTMin: 1, RTMax: 1, Histogram: map[int]int64{0: 1}}},
				{AccountID: 7, Event: ChecksSummarized{MonitorID: 2, RegionID: 1, Hour: hour, Checks: 1, UpChecks: 1, RTSum: 1, RTMin: 1, RTMax: 1, Histogram: map[int]int64{0: 1}}},
			}},
		{"a failed check in maintenance counts as a maintenance check, not up",
			[]CheckSample{s(1, 0, 1, false, true, 3000)},
			[]Summary{{AccountID: 7, Event: ChecksSummarized{MonitorID: 1, RegionID: 0, Hour: hour, Checks: 1, MaintChecks: 1,
				RTSum: 3000, RTMin: 3000, RTMax: 3000, Histogram: map[int]int64{47: 1}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummarizeHour(hour.Add(20*time.Minute), tt.samples); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestLatencyBucketBounds(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want int
	}{{0, 0}, {1, 0}, {1.01, 1}, {2, 4}, {2.01, 5}, {1e9, LatencyBuckets - 1}} {
		if got := LatencyBucket(c.ms); got != c.want {
			t.Errorf("LatencyBucket(%v) = %d, want %d", c.ms, got, c.want)
		}
	}
}
