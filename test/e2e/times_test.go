package e2e

import (
	"strings"
	"testing"

	"github.com/medialuna/medialuna/test/smtpcatcher"
	"github.com/medialuna/medialuna/test/testdb"
)

// TestBodiesTakeTheISOTimesQueriesTake: a time in a body may be a date
// alone or a date and time without an offset (UTC), as in the query
// parameters; one in no ISO 8601 form is a 422 naming every such field,
// and appends nothing.
func TestBodiesTakeTheISOTimesQueriesTake(t *testing.T) {
	s := startServer(t, testdb.New(t), smtpcatcher.Start(t))
	a := signup(t, s, "times@example.com", "Times")
	var w struct {
		ID        int64  `json:"id"`
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	}
	s.expect(201, "POST", "/api/maintenance-windows", a.AccessToken, map[string]any{"name": "Upgrade", "start_time": "2027-02-01",
		"end_time": "2027-02-01T06:30", "applies_to_all_monitors": true}).json(t, &w)
	if w.StartTime != "2027-02-01T00:00:00Z" || w.EndTime != "2027-02-01T06:30:00Z" {
		t.Errorf("times read back as %s and %s", w.StartTime, w.EndTime)
	}
	s.expect(200, "PUT", "/api/maintenance-windows/"+itoa(w.ID), a.AccessToken, map[string]any{"end_time": "2027-02-02 08:00:00+01:00"}).json(t, &w)
	if w.EndTime != "2027-02-02T07:00:00Z" {
		t.Errorf("an RFC 3339 time with a space and an offset: %s", w.EndTime)
	}
	var before, after int
	s.DB.Get(&before, `SELECT count(*) FROM events`)
	refused := s.expect(422, "POST", "/api/maintenance-windows", a.AccessToken, map[string]any{"name": "Bad", "start_time": "next Tuesday",
		"end_time": "2027-02-30"})
	for _, field := range []string{`"start_time"]`, `"end_time"]`} {
		if !strings.Contains(string(refused.Body), field) {
			t.Errorf("the refusal does not name %s: %s", field, refused.Body)
		}
	}
	s.DB.Get(&after, `SELECT count(*) FROM events`)
	if after != before {
		t.Errorf("a refused body appended %d events", after-before)
	}
}
