package httpapi

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/domain"
	"github.com/medialuna/medialuna/projections"
)

// TestPostedPageFieldsOrder: the ticked monitors follow the positions
// typed beside them; those without one, or with the same one, keep the
// form's order and come after; unticked positions are ignored.
func TestPostedPageFieldsOrder(t *testing.T) {
	for _, c := range []struct {
		name string
		form url.Values
		want []int64
	}{
		{"form order", url.Values{"monitor_ids": {"3", "1", "2"}}, []int64{3, 1, 2}},
		{"by position", url.Values{"monitor_ids": {"3", "1", "2"}, "pos-3": {"3"}, "pos-1": {"1"}, "pos-2": {"2"}}, []int64{1, 2, 3}},
		{"blank last", url.Values{"monitor_ids": {"3", "1", "2"}, "pos-2": {"1"}, "pos-3": {""}, "pos-1": {"x"}}, []int64{2, 3, 1}},
		{"ties keep order", url.Values{"monitor_ids": {"5", "4"}, "pos-5": {"1"}, "pos-4": {"1"}}, []int64{5, 4}},
		{"unticked ignored", url.Values{"monitor_ids": {"7"}, "pos-8": {"1"}}, []int64{7}},
		{"duplicates and junk", url.Values{"monitor_ids": {"7", "7", "-1", "abc"}}, []int64{7}},
		{"none", url.Values{}, nil},
	} {
		if got := postedPageFields(c.form).Order; !cmp.Equal(got, c.want) {
			t.Errorf("%s: order %v, want %v", c.name, got, c.want)
		}
	}
	f := postedPageFields(url.Values{"title": {" T "}, "subdomain": {" acme "}, "description": {"  "}, "logo_url": {""}, "custom_css": {"a{}"},
		"is_public": {"false", "true"}, "monitor_ids": {"2"}})
	cfg := f.config(domain.StatusPageConfig{})
	css := "a{}"
	if want := (domain.StatusPageConfig{Title: "T", Subdomain: "acme", CustomCSS: &css, MonitorIDs: []int64{2}, IsPublic: true}); !cmp.Equal(cfg, want) {
		t.Errorf("config: %s", cmp.Diff(want, cfg))
	}
}

// TestPreviewStates: the preview decides states as the public page does.
func TestPreviewStates(t *testing.T) {
	monitors := []projections.MonitorView{{ID: 1, Status: "up"}, {ID: 2, Status: "down"}, {ID: 3, Status: "paused"}}
	for _, c := range []struct {
		order []int64
		want  string
	}{
		{nil, domain.PageOperational},
		{[]int64{1}, domain.PageOperational},
		{[]int64{1, 2}, domain.PagePartialOutage},
		{[]int64{2, 3}, domain.PageMajorOutage},
		{[]int64{3, 99}, domain.PageOperational}, // unknown ids drop out
	} {
		if got := previewOf(pageFields{Order: c.order}, monitors).State; got != c.want {
			t.Errorf("%v: %s, want %s", c.order, got, c.want)
		}
	}
}
