package domain_test

import (
	"slices"
	"testing"

	"github.com/medialuna/medialuna/domain"
)

func TestExistingMonitors(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ids, existing []int64
		want          []int64
	}{
		{"all exist", []int64{3, 1, 2}, []int64{1, 2, 3}, []int64{3, 1, 2}},
		{"deleted ones drop out, order kept", []int64{5, 3, 9, 1}, []int64{1, 5, 9}, []int64{5, 9, 1}},
		{"none left", []int64{4, 7}, []int64{1}, nil},
		{"no monitors at all", []int64{4}, nil, nil},
		{"none named", nil, []int64{1, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := domain.ExistingMonitors(tc.ids, tc.existing)
			if !slices.Equal(got, tc.want) || (tc.want == nil) != (got == nil) {
				t.Errorf("ExistingMonitors(%v, %v) = %#v, want %#v", tc.ids, tc.existing, got, tc.want)
			}
		})
	}
}
