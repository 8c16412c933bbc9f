package probe

// Internal helpers exported to the tests of package probe_test.
var (
	CheckPublic    = checkPublic
	SystemResolver = systemResolver
	Truncate       = truncate
)
