package main

// namedScenario is one load driver: run parses its own flags from args.
type namedScenario struct {
	name    string
	summary string
	run     func(args []string) error
}

// scenarios lists the drivers, one line each.
func scenarios() []namedScenario {
	return []namedScenario{
		{"checks", "the check engine end to end: HTTP monitors against a local target", checksMain},
		{"storage", "simulated days of checks with a short retention: database size per day, bytes per check at rest", storageMain},
		{"create", "creating monitors through the API, single and in batches, while checks run", createMain},
		{"push", "push heartbeats: POST /api/push/{token} from parallel keep-alive clients", pushMain},
	}
}

// scenario returns the entry point of the named scenario, nil for an
// unknown name.
func scenario(name string) func(args []string) error {
	for _, s := range scenarios() {
		if s.name == name {
			return s.run
		}
	}
	return nil
}

// scenarioNames lists the scenarios, for the usage message.
func scenarioNames() []string {
	var names []string
	for _, s := range scenarios() {
		names = append(names, s.name+" ("+s.summary+")")
	}
	return names
}
