package e2e

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestListsTakeSkipAndLimit: the lists that were read whole (history,
// timeseries, region latency, replay, tags) take skip and limit by the
// reference's rules: 100 by default, at most 1000, pages that neither
// overlap nor leave gaps, and a bad value is a 400.
func TestListsTakeSkipAndLimit(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t), "MEDIALUNA_MIN_CHECK_INTERVAL=1")
	a := signup(t, s, "paging@example.com", "Paging")
	unlimited(t, s, a.Account.ID)
	var m struct {
		ID int64 `json:"id"`
	}
	s.expect(201, "POST", "/api/v1/monitors", a.AccessToken, map[string]any{"name": "closed port", "type": "TCP", "url": "127.0.0.1:9", "check_interval": 1}).json(t, &m)
	type row struct {
		CheckedAt string `json:"checked_at"`
		RegionID  int64  `json:"region_id"`
	}
	history := "/api/monitors/" + itoa(m.ID) + "/history?hours=1"
	var all []row
	waitFor(t, func() bool {
		all = nil
		s.expect(200, "GET", history+"&limit=6", a.AccessToken, nil).json(t, &all)
		return len(all) == 6
	})
	var first, second []row
	s.expect(200, "GET", history+"&limit=3", a.AccessToken, nil).json(t, &first)
	s.expect(200, "GET", history+"&limit=3&skip=3", a.AccessToken, nil).json(t, &second)
	// New results arrive meanwhile and shift the pages by as many; the
	// second page still follows the first with neither gap nor overlap.
	if len(first) != 3 || len(second) != 3 || first[2].CheckedAt <= second[0].CheckedAt {
		t.Errorf("pages of 3: %v then %v", first, second)
	}
	for _, bad := range []string{"&limit=1001", "&limit=0", "&skip=-1", "&skip=two"} {
		s.expect(400, "GET", history+bad, a.AccessToken, nil)
	}

	// Buckets with results only; a page past them is empty.
	series := "/api/metrics/" + itoa(m.ID) + "/timeseries?hours=2&bucket_minutes=1"
	var points, rest []map[string]any
	s.expect(200, "GET", series, a.AccessToken, nil).json(t, &points)
	s.expect(200, "GET", series+"&skip="+itoa(int64(len(points))), a.AccessToken, nil).json(t, &rest)
	if len(points) == 0 || rest == nil || len(rest) != 0 {
		t.Errorf("timeseries: %d points, %v past them", len(points), rest)
	}
	s.expect(400, "GET", series+"&limit=5000", a.AccessToken, nil)

	for _, name := range []string{"a", "b", "c"} {
		s.expect(201, "POST", "/api/tags", a.AccessToken, map[string]string{"name": name})
	}
	var tags, page []struct {
		Name string `json:"name"`
	}
	s.expect(200, "GET", "/api/tags", a.AccessToken, nil).json(t, &tags)
	s.expect(200, "GET", "/api/tags?skip=1&limit=1", a.AccessToken, nil).json(t, &page)
	if len(tags) != 3 || len(page) != 1 || page[0] != tags[1] {
		t.Errorf("tags %v, skip 1 limit 1: %v", tags, page)
	}
	var none []any
	s.expect(200, "GET", "/api/tags?skip=10", a.AccessToken, nil).json(t, &none)
	if none == nil || len(none) != 0 {
		t.Errorf("past the end: %v, want []", none)
	}
	s.expect(400, "GET", "/api/regions/monitors/"+itoa(m.ID)+"/latency?limit=1001", a.AccessToken, nil)
	var regions []any
	s.expect(200, "GET", "/api/regions/public?limit=1", "", nil).json(t, &regions)
	if diff := cmp.Diff(1, len(regions)); diff != "" {
		t.Errorf("regions, limit 1: %s", diff)
	}
}
