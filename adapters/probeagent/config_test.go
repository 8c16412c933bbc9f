package probeagent

import "testing"

// TestAccountCapFollowsASmallCeiling: an operator who lowers the ceiling
// (or kept the old --workers 64) must not get an account cap above it,
// which would let one account's hanging targets take every slot again.
func TestAccountCapFollowsASmallCeiling(t *testing.T) {
	for _, tc := range []struct{ ceiling, cap, want int }{
		{0, 0, DefaultAccountMaxInFlight},
		{64, 0, 16},
		{2, 0, 1},
		{64, 40, 40},
		{4096, 0, DefaultAccountMaxInFlight},
	} {
		a := New(nil, nil, nil, nil, Config{MaxInFlight: tc.ceiling, AccountMaxInFlight: tc.cap})
		if a.cfg.AccountMaxInFlight != tc.want {
			t.Errorf("ceiling %d, cap %d: account cap %d, want %d", tc.ceiling, tc.cap, a.cfg.AccountMaxInFlight, tc.want)
		}
	}
}
