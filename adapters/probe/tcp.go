package probe

import "github.com/medialuna/medialuna/domain"

// checkTCP is up when a TCP connection to the target is established.
func (c *Checker) checkTCP(a *attempt) domain.CheckOutcome {
	t, err := parseTarget(a.spec.URL, a.spec.Port, 0)
	if err != nil {
		return downf("%v", err)
	}
	_, closeConn, err := c.dial(a, t)
	if err != nil {
		return a.down(err)
	}
	closeConn()
	return domain.CheckOutcome{Up: true}
}
