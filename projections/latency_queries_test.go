package projections_test

import (
	"context"
	"math"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// recordChecks appends check results to the log and waits for the metrics
// projection to fold them into check_results and check_rollups, as it does
// for a probe's.
func recordChecks(t *testing.T, f fixture, checks []domain.CheckRecorded) {
	t.Helper()
	var batch []domain.StreamEvent
	for i := range checks {
		c := checks[i]
		d, err := domain.Encode(&c, domain.Metadata{ActorType: domain.ActorProbe, AccountID: 1, OccurredAt: c.CheckedAt}, uuid.NewString())
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, domain.StreamEvent{Stream: domain.ChecksStream(c.RegionID), Event: d})
	}
	pos, err := f.store.AppendBatch(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	f.wait(t, []string{"metrics"}, pos)
}

// percentileCont is PostgreSQL's percentile_cont: linear interpolation
// between the two closest ranks.
func percentileCont(values []float64, p float64) float64 {
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	pos := p * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return v[lo] + (pos-float64(lo))*(v[hi]-v[lo])
}

func check(monitor, region int64, at time.Time, ms float64) domain.CheckRecorded {
	return domain.CheckRecorded{MonitorID: monitor, RegionID: region, ScheduledAt: at, CheckedAt: at,
		CheckOutcome: domain.CheckOutcome{Up: true, ResponseTimeMs: ms, StatusCode: 200}}
}

func valueAt(t *testing.T, s projections.LatencySeries, label string, at time.Time) *float64 {
	t.Helper()
	for _, line := range s.Series {
		if line.Label != label {
			continue
		}
		for i, x := range s.X {
			if x == at.Unix() {
				return line.Values[i]
			}
		}
		t.Fatalf("no bucket at %s in %v", at, s.X)
	}
	t.Fatalf("no series %q", label)
	return nil
}

func labels(s projections.LatencySeries) []string {
	var out []string
	for _, l := range s.Series {
		out = append(out, l.Label)
	}
	return out
}

// TestLatencySeriesFromRawResults: within the raw retention every bucket's
// p50 and p95 are the exact percentiles of its checks, per region, on one
// x axis of every bucket from the first check on; other monitors and checks outside
// the range do not count, and a region without checks in a bucket is null
// there.
func TestLatencySeriesFromRawResults(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{}, projections.Metrics{})
	ctx := context.Background()
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	if _, err := f.db.Exec(`INSERT INTO regions (id, code, name, lat, lng, created_at) VALUES
		(1, 'local', 'Local', 0, 0, $1), (2, 'eu-west', 'Europe', 0, 0, $1)`, now); err != nil {
		t.Fatal(err)
	}
	b1 := now.Add(-2 * time.Hour)             // 10:00, a bucket of region 1
	b2 := now.Add(-time.Hour)                 // 11:00, both regions
	localB1 := []float64{40, 10, 100, 30, 20} // p50 30, p95 88
	localB2 := []float64{200, 220}
	euB2 := []float64{5, 7, 6, 900}
	var checks []domain.CheckRecorded
	for i, ms := range localB1 {
		checks = append(checks, check(7, 1, b1.Add(time.Duration(i)*time.Minute), ms))
	}
	for i, ms := range localB2 {
		checks = append(checks, check(7, 1, b2.Add(time.Duration(i)*time.Minute), ms))
	}
	for i, ms := range euB2 {
		checks = append(checks, check(7, 2, b2.Add(time.Duration(i)*time.Second), ms))
	}
	checks = append(checks,
		check(8, 1, b1, 5000),                     // another monitor
		check(7, 1, now.Add(-25*time.Hour), 5000), // before the range
		check(7, 1, now, 5000))                    // at its end (excluded)
	recordChecks(t, f, checks)

	s, err := f.queries.LatencySeries(ctx, 7, now.Add(-24*time.Hour), now, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "raw" {
		t.Errorf("source %q, want raw", s.Source)
	}
	// From the first bucket with a check, or the twelfth from the end when
	// that is earlier, to the end of the range.
	if len(s.X) != 12 || s.X[0] != now.Add(-3*time.Hour).Unix() || s.X[11] != now.Add(-15*time.Minute).Unix() {
		t.Fatalf("x axis: %d buckets from %v to %v; want the 12 quarter hours from 09:00 to 11:45", len(s.X), s.X[0], s.X[len(s.X)-1])
	}
	for i := 1; i < len(s.X); i++ {
		if s.X[i]-s.X[i-1] != 900 {
			t.Fatalf("x[%d] - x[%d] = %d s, want 900", i, i-1, s.X[i]-s.X[i-1])
		}
	}
	if got, want := labels(s), []string{"p50 local", "p95 local", "p50 eu-west", "p95 eu-west"}; !equal(got, want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	for _, line := range s.Series {
		if len(line.Values) != len(s.X) {
			t.Fatalf("%s has %d values for %d buckets", line.Label, len(line.Values), len(s.X))
		}
	}
	expect := func(label string, at time.Time, want float64) {
		t.Helper()
		got := valueAt(t, s, label, at)
		if got == nil || math.Abs(*got-want) > 0.01 {
			t.Errorf("%s at %s = %v, want %.2f", label, at.Format("15:04"), got, want)
		}
	}
	expect("p50 local", b1, 30)
	expect("p95 local", b1, 88) // 40 + 0.8 × (100 - 40)
	expect("p50 local", b2, percentileCont(localB2, 0.5))
	expect("p95 local", b2, percentileCont(localB2, 0.95))
	expect("p50 eu-west", b2, percentileCont(euB2, 0.5))
	expect("p95 eu-west", b2, percentileCont(euB2, 0.95))
	if v := valueAt(t, s, "p50 eu-west", b1); v != nil {
		t.Errorf("eu-west had no check at 10:00 but shows %v", *v)
	}
	nonNull := 0
	for _, line := range s.Series {
		for _, v := range line.Values {
			if v != nil {
				nonNull++
			}
		}
	}
	if nonNull != 6 {
		t.Errorf("%d values, want 6 (two buckets of local, one of eu-west, two percentiles each)", nonNull)
	}

	// A monitor without checks has an empty axis.
	empty, err := f.queries.LatencySeries(ctx, 99, now.Add(-24*time.Hour), now, now, 15*time.Minute)
	if err != nil || len(empty.X) != 0 || len(empty.Series) != 0 {
		t.Errorf("a monitor without checks: %+v, %v", empty, err)
	}
	if _, err := f.queries.LatencySeries(ctx, 7, now, now, now, time.Minute); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("an empty range: %v, want invalid", err)
	}
	if _, err := f.queries.LatencySeries(ctx, 7, now.Add(-24*time.Hour), now, now, time.Second); domain.ErrorCode(err) != domain.ErrInvalid {
		t.Errorf("86,400 buckets: %v, want invalid", err)
	}
}

// TestLatencySeriesFromRollups: before the raw retention the percentiles
// come from the hourly histograms (the raw results are pruned by then),
// within the histogram's 19% bucket width of the exact values, and a
// range across the cut reads raw results after it.
func TestLatencySeriesFromRollups(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{}, projections.Metrics{})
	ctx := context.Background()
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	if _, err := f.db.Exec(`INSERT INTO regions (id, code, name, lat, lng, created_at) VALUES (1, 'local', 'Local', 0, 0, $1)`, now); err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // 70 days before now
	var old []float64
	var checks []domain.CheckRecorded
	// 60 checks spread over three hours of one day: rollups of several
	// hours summed into a day's bucket.
	for i := range 60 {
		ms := 50 + float64(i*i)/4 // 50 … 920 ms, skewed
		old = append(old, ms)
		checks = append(checks, check(7, 1, day1.Add(3*time.Hour+time.Duration(i)*3*time.Minute), ms))
	}
	recent := now.Add(-48 * time.Hour).Truncate(24 * time.Hour) // a day well inside the raw retention
	recentValues := []float64{12, 14, 90, 16}
	for i, ms := range recentValues {
		checks = append(checks, check(7, 1, recent.Add(time.Duration(i)*time.Hour), ms))
	}
	recordChecks(t, f, checks)
	// The pruner has deleted what is past the retention.
	if _, err := f.queries.PruneRawResults(ctx, now); err != nil {
		t.Fatal(err)
	}

	s, err := f.queries.LatencySeries(ctx, 7, now.Add(-90*24*time.Hour), now, now, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if s.Source != "mixed" {
		t.Errorf("source %q, want mixed", s.Source)
	}
	if len(s.X) != 71 || s.X[0] != day1.Unix() { // March 1 to May 10
		t.Errorf("%d daily buckets from %v, want 71 from March 1", len(s.X), s.X[0])
	}
	within := func(label string, at time.Time, exact, tolerance float64) {
		t.Helper()
		got := valueAt(t, s, label, at)
		if got == nil {
			t.Errorf("%s on %s: no value", label, at.Format("Jan 2"))
			return
		}
		if math.Abs(*got-exact) > tolerance*exact {
			t.Errorf("%s on %s = %.2f, exact %.2f: off by more than %.0f%%", label, at.Format("Jan 2"), *got, exact, tolerance*100)
		}
	}
	within("p50 local", day1, percentileCont(old, 0.5), 0.2)
	within("p95 local", day1, percentileCont(old, 0.95), 0.2)
	// Inside the retention the percentiles are exact.
	within("p50 local", recent, percentileCont(recentValues, 0.5), 0.0001)
	within("p95 local", recent, percentileCont(recentValues, 0.95), 0.0001)
	if p50, p95 := valueAt(t, s, "p50 local", day1), valueAt(t, s, "p95 local", day1); p50 != nil && p95 != nil && *p50 > *p95 {
		t.Errorf("p50 %.2f above p95 %.2f", *p50, *p95)
	}

	// Wholly before the retention: rollups only, in buckets of whole hours.
	only, err := f.queries.LatencySeries(ctx, 7, day1, day1.Add(24*time.Hour), now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if only.Source != "rollups" || only.Bucket != time.Hour || len(only.X) != 21 {
		t.Errorf("a day long ago: source %q, bucket %s, %d buckets; want rollups, 1h, 21 (03:00 to 23:00)", only.Source, only.Bucket, len(only.X))
	}
	hour := day1.Add(3 * time.Hour) // checks 0–19 (3 minutes apart)
	got := valueAt(t, only, "p50 local", hour)
	if exact := percentileCont(old[:20], 0.5); got == nil || math.Abs(*got-exact) > 0.2*exact {
		t.Errorf("p50 of 03:00 = %v, exact %.2f", got, exact)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHistoryBeforePagesWithoutGapsOrRepeats: paging back through a
// monitor's checks by (time, region) shows every check once, newest
// first, also when two regions checked at the same moment across a
// page's edge.
func TestHistoryBeforePagesWithoutGapsOrRepeats(t *testing.T) {
	f := newFixture(t)
	f.run(t, projections.Monitors{}, projections.Metrics{})
	ctx := context.Background()
	at := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	var checks []domain.CheckRecorded
	for i := range 7 { // seven moments, each checked from regions 1 and 2
		for region := int64(1); region <= 2; region++ {
			checks = append(checks, check(7, region, at.Add(time.Duration(i)*time.Minute), float64(10*i)+float64(region)))
		}
	}
	checks = append(checks, check(8, 1, at, 1)) // another monitor's
	recordChecks(t, f, checks)
	var seen []string
	var before time.Time
	var beforeRegion int64
	for page := 0; ; page++ {
		rows, err := f.queries.HistoryBefore(ctx, 7, before, beforeRegion, 3) // odd: pages split a moment's pair
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		if page > 10 {
			t.Fatal("paging does not end")
		}
		for _, r := range rows {
			seen = append(seen, r.CheckedAt.UTC().Format("15:04")+"/"+strconv.FormatInt(r.RegionID, 10))
		}
		last := rows[len(rows)-1]
		before, beforeRegion = last.CheckedAt, last.RegionID
	}
	var want []string
	for i := 6; i >= 0; i-- {
		for region := 2; region >= 1; region-- {
			want = append(want, at.Add(time.Duration(i)*time.Minute).Format("15:04")+"/"+strconv.Itoa(region))
		}
	}
	if !equal(seen, want) {
		t.Errorf("pages showed %v\nwant %v", seen, want)
	}
}
