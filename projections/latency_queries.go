package projections

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/medialuna/medialuna/domain"
)

// LatencySeries is a monitor's response times per time bucket and region,
// every line on one x axis, as a chart draws them.
type LatencySeries struct {
	// X holds the start of every bucket, in unix seconds, from the first
	// with a check (or the twelfth from the end, if that is earlier, within
	// the range) to the end of the range, buckets without checks included,
	// so gaps show as gaps.
	X      []int64       `json:"x"`
	Series []LatencyLine `json:"series"`
	// Bucket is the width of a bucket; it is at least an hour when the
	// range reaches past the raw retention (rollups are hourly).
	Bucket time.Duration `json:"-"`
	// Source says where the figures come from: "raw" results (exact
	// percentiles), "rollups" (within ~10%), or "mixed" (rollups before
	// the raw retention, raw after).
	Source string `json:"source"`
}

// LatencyLine is one percentile of one region: Values[i] belongs to X[i]
// and is nil where the region has no checks in that bucket.
type LatencyLine struct {
	Label      string     `json:"label"` // "p50 local"
	RegionID   int64      `json:"region_id"`
	Percentile float64    `json:"percentile"`
	Values     []*float64 `json:"values"`
}

// maxLatencyPoints bounds a series' x axis; minLatencyPoints is the
// shortest axis drawn when the range is that long.
const (
	maxLatencyPoints = 10000
	minLatencyPoints = 12
)

// latencyCell is one bucket of one region.
type latencyCell struct {
	TS       int64    `db:"ts"`
	RegionID int64    `db:"region_id"`
	Code     string   `db:"code"`
	P50      *float64 `db:"p50"`
	P95      *float64 `db:"p95"`
}

// LatencySeries computes the p50 and p95 response time of a monitor's
// checks per bucket (aligned on the unix epoch) and per region, between
// start and end. Buckets after the raw retention cut (now - RawRetention,
// rounded up to a bucket) come from raw check_results with exact
// percentiles; earlier ones from the hourly rollups' histograms, as Summary
// estimates them. Returns ErrInvalid for an empty range or one of more
// than 10,000 buckets.
func (q *Queries) LatencySeries(ctx context.Context, monitorID int64, start, end, now time.Time, bucket time.Duration) (LatencySeries, error) {
	if !start.Before(end) || bucket < time.Second {
		return LatencySeries{}, domain.Errorf(domain.ErrInvalid, "a latency series needs start before end and a bucket of at least a second")
	}
	cut := now.Add(-RawRetention)
	if start.Before(cut) {
		// Rollups are hourly: a bucket narrower than an hour, or not a
		// whole number of hours, would split an hour's histogram.
		bucket = max(bucket, time.Hour)
		bucket = (bucket + time.Hour - 1) / time.Hour * time.Hour
	}
	secs := int64(bucket / time.Second)
	first := floorDiv(start.Unix(), secs) * secs
	last := floorDiv(end.Add(-time.Nanosecond).Unix(), secs) * secs
	n := (last-first)/secs + 1
	if n > maxLatencyPoints {
		return LatencySeries{}, domain.Errorf(domain.ErrInvalid, "%d buckets is too many (at most %d); use a wider bucket", n, maxLatencyPoints)
	}
	// cutTS starts the first bucket wholly inside the raw retention; the
	// ones before it (the one holding the cut included) are read from
	// rollups.
	cutTS := start
	if cut.After(start) {
		c := cut.Unix()
		if cut.Nanosecond() > 0 {
			c++
		}
		k := floorDiv(c, secs)
		if k*secs < c {
			k++
		}
		cutTS = time.Unix(k*secs, 0)
	}
	out := LatencySeries{Bucket: bucket, Series: []LatencyLine{}}
	var cells []latencyCell
	if start.Before(cutTS) {
		rolled, err := q.rollupLatency(ctx, monitorID, start, minTime(cutTS, end), secs)
		if err != nil {
			return out, err
		}
		cells = append(cells, rolled...)
	}
	if cutTS.Before(end) {
		var raw []latencyCell
		err := q.db.SelectContext(ctx, &raw, `SELECT (floor(extract(epoch FROM c.checked_at) / $4) * $4)::bigint AS ts,
				c.region_id, coalesce(r.code, '') AS code,
				percentile_cont(0.5) WITHIN GROUP (ORDER BY c.response_time_ms) AS p50,
				percentile_cont(0.95) WITHIN GROUP (ORDER BY c.response_time_ms) AS p95
			FROM check_results c LEFT JOIN regions r ON r.id = c.region_id
			WHERE c.monitor_id = $1 AND c.checked_at >= $2 AND c.checked_at < $3
			GROUP BY 1, 2, 3`, monitorID, maxTime(start, cutTS), end, secs)
		if err != nil {
			return out, err
		}
		cells = append(cells, raw...)
	}
	switch {
	case !start.Before(cutTS):
		out.Source = "raw"
	case !cutTS.Before(end):
		out.Source = "rollups"
	default:
		out.Source = "mixed"
	}
	if len(cells) == 0 {
		// Nothing to draw: an empty axis says so.
		out.X = []int64{}
		return out, nil
	}
	// The axis starts at the first bucket with a check: a monitor younger
	// than the range (or one checked from a region only lately) would
	// otherwise draw its few points as dots lost at the right edge. It
	// runs to the end of the range, so a monitor that stopped reporting
	// shows the gap.
	earliest := last
	for _, c := range cells {
		earliest = min(earliest, c.TS)
	}
	// At least a dozen buckets (when the range has them), so that one
	// bucket of checks is still drawn on a time axis rather than a point.
	first = max(first, min(earliest, last-(minLatencyPoints-1)*secs))
	n = (last-first)/secs + 1
	out.X = make([]int64, n)
	for i := range out.X {
		out.X[i] = first + int64(i)*secs
	}
	type lines struct{ p50, p95 *LatencyLine }
	byRegion := map[int64]lines{}
	var regions []int64
	for _, c := range cells {
		l, ok := byRegion[c.RegionID]
		if !ok {
			name := regionLabel(c.RegionID, c.Code)
			l = lines{
				p50: &LatencyLine{Label: "p50 " + name, RegionID: c.RegionID, Percentile: 50, Values: make([]*float64, n)},
				p95: &LatencyLine{Label: "p95 " + name, RegionID: c.RegionID, Percentile: 95, Values: make([]*float64, n)},
			}
			byRegion[c.RegionID] = l
			regions = append(regions, c.RegionID)
		}
		i := (c.TS - first) / secs
		if i < 0 || i >= n {
			continue
		}
		l.p50.Values[i], l.p95.Values[i] = round2(c.P50), round2(c.P95)
	}
	sort.Slice(regions, func(i, j int) bool { return regions[i] < regions[j] })
	for _, id := range regions {
		out.Series = append(out.Series, *byRegion[id].p50, *byRegion[id].p95)
	}
	return out, nil
}

// rollupLatency estimates percentiles per bucket and region from the sum
// of the hourly histograms in each.
func (q *Queries) rollupLatency(ctx context.Context, monitorID int64, start, end time.Time, secs int64) ([]latencyCell, error) {
	var rows []struct {
		TS       int64  `db:"ts"`
		RegionID int64  `db:"region_id"`
		Code     string `db:"code"`
		Index    int    `db:"i"`
		Count    int64  `db:"n"`
	}
	err := q.db.SelectContext(ctx, &rows, `SELECT (floor(extract(epoch FROM k.hour) / $4) * $4)::bigint AS ts,
			k.region_id, coalesce(r.code, '') AS code, u.i::int AS i, sum(u.h)::bigint AS n
		FROM check_rollups k CROSS JOIN LATERAL unnest(k.rt_histogram) WITH ORDINALITY AS u(h, i)
			LEFT JOIN regions r ON r.id = k.region_id
		WHERE k.monitor_id = $1 AND k.hour >= date_trunc('hour', $2::timestamptz) AND k.hour < $3 AND u.h > 0
		GROUP BY 1, 2, 3, 4`, monitorID, start, end, secs)
	if err != nil {
		return nil, err
	}
	type key struct{ ts, region int64 }
	hists := map[key][]int64{}
	codes := map[int64]string{}
	var keys []key
	for _, r := range rows {
		k := key{r.TS, r.RegionID}
		h, ok := hists[k]
		if !ok {
			h = make([]int64, HistogramBuckets)
			keys = append(keys, k)
		}
		if r.Index >= 1 && r.Index <= HistogramBuckets {
			h[r.Index-1] += r.Count
		}
		hists[k] = h
		codes[r.RegionID] = r.Code
	}
	out := make([]latencyCell, 0, len(keys))
	for _, k := range keys {
		h := hists[k]
		out = append(out, latencyCell{TS: k.ts, RegionID: k.region, Code: codes[k.region],
			P50: histogramPercentile(h, 0.5), P95: histogramPercentile(h, 0.95)})
	}
	return out, nil
}

// regionLabel names a region in a series label: its code, "push" for
// push heartbeats (region 0), or its id when the region is gone.
func regionLabel(id int64, code string) string {
	switch {
	case code != "":
		return code
	case id == 0:
		return "push"
	}
	return "region " + strconv.FormatInt(id, 10)
}

// HistoryBefore returns a monitor's results older than the check at
// (before, beforeRegion), newest first, ordered by time then region so
// that pages neither repeat nor skip results recorded at the same moment;
// a zero before starts from the newest.
func (q *Queries) HistoryBefore(ctx context.Context, monitorID int64, before time.Time, beforeRegion int64, limit int) ([]CheckRow, error) {
	out := []CheckRow{}
	var at *time.Time
	if !before.IsZero() {
		at = &before
	}
	err := q.db.SelectContext(ctx, &out, `SELECT c.region_id, r.code AS region_code, c.checked_at, c.up,
			CASE WHEN c.up THEN 'up' ELSE 'down' END AS status, c.response_time_ms, c.status_code, c.error, c.detail, c.cert_expires_at
		FROM check_results c LEFT JOIN regions r ON r.id = c.region_id
		WHERE c.monitor_id = $1 AND ($2::timestamptz IS NULL OR (c.checked_at, c.region_id) < ($2, $3))
		ORDER BY c.checked_at DESC, c.region_id DESC LIMIT $4`, monitorID, at, beforeRegion, limit)
	return out, err
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
