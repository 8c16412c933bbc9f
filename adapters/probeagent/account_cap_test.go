package probeagent_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medialuna/medialuna/adapters/probeagent"
	"github.com/medialuna/medialuna/domain"
)

// TestAccountCapBoundsOneAccount gives account 1 twenty monitors on a
// hanging port and account 2 five healthy ones, under a ceiling of 8 checks
// in flight and 4 per account. Account 1 never holds more than 4 (its
// further due checks wait for its own to end), so account 2 keeps room and
// all its monitors keep being checked.
func TestAccountCapBoundsOneAccount(t *testing.T) {
	h := startHanging(t)
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer healthy.Close()
	var list []domain.CheckAssignment
	for id := int64(1); id <= 20; id++ {
		list = append(list, domain.CheckAssignment{MonitorID: id, AccountID: 1, Interval: 1,
			Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: h.URL(), Timeout: 30 * time.Second}})
	}
	for id := int64(101); id <= 105; id++ {
		list = append(list, domain.CheckAssignment{MonitorID: id, AccountID: 2, Interval: 1,
			Spec: domain.CheckSpec{Type: domain.TypeHTTP, URL: healthy.URL, Timeout: 30 * time.Second}})
	}
	src := &staticSource{}
	src.set(list)
	sink := &memSink{}
	var stats atomic.Pointer[probeagent.Stats]
	runAgent(t, src, sink, probeagent.Config{RegionID: 3, MaxInFlight: 8, AccountMaxInFlight: 4, FlushEvery: 20 * time.Millisecond,
		StatsCallback: func(s probeagent.Stats) { stats.Store(&s) }})

	waitUntil(t, 5*time.Second, "account 1 at its cap", func() bool { return h.open.Load() == 4 })
	waitUntil(t, 8*time.Second, "every monitor of account 2 checked 3 times", func() bool {
		for id := int64(101); id <= 105; id++ {
			if len(sink.of(id)) < 3 {
				return false
			}
		}
		return true
	})
	if p := h.peak.Load(); p != 4 {
		t.Errorf("account 1 had up to %d checks in flight, want its cap of 4", p)
	}
	st := stats.Load()
	if st == nil || st.WaitedAccount == 0 || st.InFlight < 4 || st.InFlight > 8 {
		t.Errorf("stats = %+v: want account 1's due checks to have waited, and 4 to 8 in flight", st)
	}
}
