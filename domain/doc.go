// Package domain is the root of Media Luna's dependency graph: aggregates,
// events, value types, plan rules, error codes and the ports (interfaces) the
// adapters implement. It performs no I/O and imports nothing of ours.
package domain
