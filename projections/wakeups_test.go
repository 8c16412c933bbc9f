package projections

import (
	"testing"

	"github.com/medialuna/medialuna/domain"
)

func TestWakeupsTellWhenAReadIsWorthIt(t *testing.T) {
	w := &checkpointWakeups{waiters: map[chan struct{}]struct{}{}, heard: map[string]domain.Position{}}
	names := []string{"monitors", "accounts"}
	pos := domain.Position{Commit: 10, Prepare: 500}
	if !w.mayHaveReached(names, pos) {
		t.Error("nothing heard yet: a read is needed")
	}
	w.hear("monitors 10 400")
	w.hear("garbage")
	w.hear("")
	if w.mayHaveReached(names, pos) {
		t.Error("monitors announced 10/400, short of 10/500: no read needed")
	}
	w.hear("monitors 10 500")
	w.hear("monitors 9 900") // older: ignored
	if !w.mayHaveReached(names, pos) {
		t.Error("monitors at 10/500 and accounts unknown: a read is needed")
	}
	w.hear("accounts 11 1")
	if got := w.heard["monitors"]; got != (domain.Position{Commit: 10, Prepare: 500}) {
		t.Errorf("monitors heard at %+v", got)
	}
	if !w.mayHaveReached(names, pos) {
		t.Error("both past pos: a read is needed")
	}
}
