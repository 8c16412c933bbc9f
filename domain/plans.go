package domain

// Plan names an account's subscription tier.
type Plan string

const (
	PlanFree       Plan = "FREE"
	PlanStarter    Plan = "STARTER"
	PlanPro        Plan = "PRO"
	PlanEnterprise Plan = "ENTERPRISE"
)

// Unlimited marks a limit that does not apply.
const Unlimited = -1

// PlanLimits are every limit a plan sets; GET /api/plans publishes them all.
type PlanLimits struct {
	Plan                 Plan   `json:"name"`
	DisplayName          string `json:"display_name"`
	PriceMonthlyCents    int    `json:"price_monthly_cents"`
	RequestsPerMinute    int    `json:"requests_per_minute"` // Unlimited for no limit
	MinCheckIntervalSecs int    `json:"min_check_interval"`
	MaxRegions           int    `json:"max_regions"`
	MaxMonitors          int    `json:"max_monitors"`
	MaxUsers             int    `json:"max_users"`
	MaxStatusPages       int    `json:"max_status_pages"`
	MaxAPIKeys           int    `json:"max_api_keys"`
}

// Plans lists every plan, cheapest first.
func Plans() []PlanLimits {
	return []PlanLimits{
		{PlanFree, "Free", 0, 60, 300, 1, 10, 3, 1, 5},
		{PlanStarter, "Starter", 1900, 300, 120, 2, 50, 10, 3, 20},
		{PlanPro, "Pro", 4900, 600, 60, 5, 250, 25, 10, 100},
		{PlanEnterprise, "Enterprise", 19900, Unlimited, 30, Unlimited, Unlimited, Unlimited, Unlimited, Unlimited},
	}
}

// LimitsOf returns the limits of plan and whether it exists.
func LimitsOf(plan Plan) (PlanLimits, bool) {
	for _, p := range Plans() {
		if p.Plan == plan {
			return p, true
		}
	}
	return PlanLimits{}, false
}

// WithIntervalFloor is the plan as a server with --min-check-interval
// floor applies it: a floor below the plan's minimum check interval
// lowers it (0: no floor).
func (p PlanLimits) WithIntervalFloor(floor int) PlanLimits {
	if floor > 0 && floor < p.MinCheckIntervalSecs {
		p.MinCheckIntervalSecs = floor
	}
	return p
}

// ParsePlan validates a plan name.
func ParsePlan(s string) (Plan, error) {
	if _, ok := LimitsOf(Plan(s)); !ok {
		return "", Invalid("plan", "enum", "plan must be one of FREE, STARTER, PRO, ENTERPRISE")
	}
	return Plan(s), nil
}

// WithinLimit reports whether a count of used items may grow by one.
func WithinLimit(limit, used int) bool { return limit == Unlimited || used < limit }
