package secretbox

import "time"

// SetClock replaces the box's clock, for tests of the key cache.
func SetClock(b *Box, now func() time.Time) { b.now = now }
