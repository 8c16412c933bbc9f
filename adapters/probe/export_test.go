package probe

import (
	"errors"
	"net/netip"

	"github.com/medialuna/medialuna/domain"
)

// Internal helpers exported to the tests of package probe_test.
var (
	CheckPublic    = publicOnly()
	SystemResolver = systemResolver
	Truncate       = func(s string, n int) string { return domain.TruncateBytes(s, n, "…") }
)

// ErrTripwire is what a tripwired checker answers for an address its rule
// allowed.
var ErrTripwire = errors.New("tripwire: the rule allowed this address")

// Tripwire makes c report to allowed every address its BlockPrivateTargets
// rule lets through, and then refuse it anyway, before any packet is sent:
// tests can aim checks at addresses off this machine and see what the rule
// decided without ever reaching them.
func Tripwire(c *Checker, allowed func(netip.Addr)) {
	rule := c.guard
	c.guard = func(ip netip.Addr) error {
		if err := rule(ip); err != nil {
			return err
		}
		allowed(ip)
		return ErrTripwire
	}
}
