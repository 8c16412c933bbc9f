package domain

import "slices"

// Role is a team member's role. ADMIN ⊃ EDITOR ⊃ VIEWER.
type Role string

const (
	RoleAdmin  Role = "ADMIN"
	RoleEditor Role = "EDITOR"
	RoleViewer Role = "VIEWER"
)

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleEditor:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Includes reports whether r grants everything min grants.
func (r Role) Includes(min Role) bool { return r.rank() >= min.rank() && min.rank() > 0 }

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if r.rank() == 0 {
		return "", Invalid("role", "enum", "role must be one of ADMIN, EDITOR, VIEWER")
	}
	return r, nil
}

// Scope is an API key permission.
type Scope string

const (
	ScopeReadMonitors     Scope = "read:monitors"
	ScopeWriteMonitors    Scope = "write:monitors"
	ScopeDeleteMonitors   Scope = "delete:monitors"
	ScopeReadIncidents    Scope = "read:incidents"
	ScopeReadMetrics      Scope = "read:metrics"
	ScopeReadAccount      Scope = "read:account"
	ScopeWriteAccount     Scope = "write:account"
	ScopeReadMaintenance  Scope = "read:maintenance"
	ScopeWriteMaintenance Scope = "write:maintenance"
)

// Scopes lists every scope an API key can hold.
func Scopes() []Scope {
	return []Scope{ScopeReadMonitors, ScopeWriteMonitors, ScopeDeleteMonitors, ScopeReadIncidents,
		ScopeReadMetrics, ScopeReadAccount, ScopeWriteAccount, ScopeReadMaintenance, ScopeWriteMaintenance}
}

// ScopeRole is the least role whose JWT may do what scope allows: reads are
// for every member, writes for editors, account changes for admins.
func ScopeRole(s Scope) Role {
	switch s {
	case ScopeWriteAccount:
		return RoleAdmin
	case ScopeWriteMonitors, ScopeDeleteMonitors, ScopeWriteMaintenance:
		return RoleEditor
	}
	return RoleViewer
}

// ValidScope reports whether s names a known scope.
func ValidScope(s string) bool { return slices.Contains(Scopes(), Scope(s)) }

// ScopesFor lists the scopes a key made by role may hold: those whose
// ScopeRole the role includes (CreateAPIKey refuses the others).
func ScopesFor(role Role) []Scope {
	var out []Scope
	for _, s := range Scopes() {
		if role.Includes(ScopeRole(s)) {
			out = append(out, s)
		}
	}
	return out
}
