package probe_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medialuna/medialuna/adapters/probe"
	"github.com/medialuna/medialuna/domain"
)

func TestCheckWithoutPolling(t *testing.T) {
	tests := []struct {
		name string
		typ  domain.MonitorType
		want domain.CheckOutcome
	}{
		{"push", domain.TypePUSH, domain.CheckOutcome{Error: "push monitors are not polled"}},
		{"unknown type", "GOPHER", domain.CheckOutcome{Error: `unknown monitor type "GOPHER"`}},
		{"no type", "", domain.CheckOutcome{Error: `unknown monitor type ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probe.New(probe.Config{}).Check(context.Background(), domain.CheckSpec{Type: tt.typ, URL: "127.0.0.1"})
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("outcome (-want +got):\n%s", d)
			}
		})
	}
}

// Every polled type reports a response time and an error for an empty spec
// rather than panicking.
func TestCheckEmptySpec(t *testing.T) {
	c := probe.New(probe.Config{Resolver: closedUDPPort(t)})
	for _, typ := range domain.MonitorTypes() {
		if typ == domain.TypePUSH {
			continue
		}
		t.Run(string(typ), func(t *testing.T) {
			got := check(t, c, domain.CheckSpec{Type: typ})
			if got.Up || got.Error == "" {
				t.Errorf("got %+v, want down with an error", got)
			}
		})
	}
}
